"""``evaluation.html``: the controllers' totals, then cooling power, hottest GPU and hottest rack
inlet of each controller over the held-out episodes, one panel each.

A controller has one colour and one legend entry on every panel; episodes are laid back to back at
the same place for every controller (one that ended an episode early leaves a gap, it does not
shift the rest) and labelled with their climate and start.
"""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from aidc.plotting.downsample import downsample
from aidc.plotting.pages import LEGEND, MARGIN, TICKFORMAT, colour_map, write_page, y_axis

_PANELS = (  # trace key, quantity, axis title
    ("cooling_kw", "power_kw", "cooling power [kW]"),
    ("gpu_temp_max_c", "temp_c", "hottest GPU [°C]"),
    ("inlet_temp_max_c", "temp_c", "hottest rack inlet [°C]"),
)
_TOTALS = (  # key, column title, format
    ("cooling_kwh", "cooling [kWh]", "{:,.1f}"),
    ("pue", "PUE", "{:.3f}"),
    ("gpu_violation_gpu_h", "GPUs over limit [GPU·h]", "{:,.2f}"),
    ("inlet_excess_k_h", "inlet excess [K·h]", "{:,.2f}"),
    ("throttled_gpu_h", "throttled [GPU·h]", "{:,.2f}"),
    ("shield_interventions", "shield interventions", "{:,}"),
)


def _episode_steps(results: dict[str, dict]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each controller's x (control step, episodes back to back), and where each episode starts:
    an episode takes as many steps as its longest run among the controllers."""
    episodes = {
        name: np.array([row.get("episode", 0) for row in r["trace"]], dtype=int)
        for name, r in results.items()
    }
    count = max((int(e.max()) + 1 for e in episodes.values() if e.size), default=0)
    lengths = np.zeros(count, dtype=int)
    for e in episodes.values():
        lengths = np.maximum(lengths, np.bincount(e, minlength=count))
    starts = np.concatenate([[0], np.cumsum(lengths)])
    x = {}
    for name, e in episodes.items():
        first = np.searchsorted(e, e, side="left")  # the trace lists each episode's steps in order
        x[name] = (starts[e] + np.arange(e.size) - first).astype(float)
    return x, starts


def _broken(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x``, ``y`` with a gap (NaN) before each episode: episodes are days apart, not one line."""
    breaks = np.flatnonzero(np.diff(x) != 1.0) + 1
    return np.insert(x, breaks, x[breaks] - 0.5), np.insert(y, breaks, np.nan)


def _episode_marks(fig: go.Figure, starts: np.ndarray, episode_list: list[dict] | None) -> None:
    """A dotted line between episodes; each labelled above the top panel when the list says which."""
    for s in starts[1:-1]:
        fig.add_vline(x=float(s) - 0.5, line={"color": "#888888", "width": 1, "dash": "dot"})
    if episode_list is None or len(episode_list) != len(starts) - 1:
        return
    for a, b, ep in zip(starts[:-1], starts[1:], episode_list, strict=True):
        label = f"{ep.get('climate', '')} {str(ep.get('start', ''))[:5]}".strip()
        fig.add_annotation(
            x=(a + b - 1) / 2.0,
            y=1.0,
            xref="x",
            yref="paper",
            yanchor="bottom",
            text=label,
            showarrow=False,
            font={"size": 11, "color": "#555555"},
        )


def evaluation_figure(results: dict[str, dict], episode_list: list[dict] | None) -> go.Figure:
    fig = make_subplots(rows=len(_PANELS), cols=1, shared_xaxes=True, vertical_spacing=0.04)
    colours = colour_map(results)
    x, starts = _episode_steps(results)
    for row, (key, kind, axis_title) in enumerate(_PANELS, start=1):
        drawn = []
        for name, r in results.items():
            y = np.array([t[key] for t in r["trace"]], dtype=float)
            xs, ys = downsample(*_broken(x[name], y))
            fig.add_trace(
                go.Scatter(
                    x=xs,
                    y=ys,
                    name=name,
                    legendgroup=name,
                    showlegend=row == 1,
                    mode="lines",
                    line={"color": colours[name]},
                ),
                row=row,
                col=1,
            )
            drawn.append(y)
        fig.update_yaxes(**y_axis(kind, axis_title, *drawn), row=row, col=1)
    fig.update_xaxes(tickformat=TICKFORMAT, hoverformat=",d")
    fig.update_xaxes(
        title_text="control step (5 min), held-out episodes back to back", row=len(_PANELS), col=1
    )
    _episode_marks(fig, starts, episode_list)
    fig.update_layout(
        height=900, hovermode="x unified", showlegend=True, legend=LEGEND, margin={**MARGIN, "t": 40}
    )
    return fig


def _totals_table(results: dict[str, dict]) -> str:
    colours = colour_map(results)
    head = "".join(f"<th style='text-align:right;padding:2px 8px'>{t}</th>" for _, t, _ in _TOTALS)
    rows = []
    for name, r in results.items():
        swatch = f"<span style='color:{colours[name]}'>&#9632;</span> {html.escape(name)}"
        cells = "".join(
            f"<td style='text-align:right;padding:2px 8px'>{fmt.format(r[k]) if k in r else '—'}</td>"
            for k, _, fmt in _TOTALS
        )
        rows.append(f"<tr><td style='padding:2px 8px'>{swatch}</td>{cells}</tr>")
    return (
        "<table style='border-collapse:collapse;font-size:14px'>"
        f"<tr><th style='text-align:left;padding:2px 8px'>controller</th>{head}</tr>{''.join(rows)}</table>"
    )


DECISIONS_SHOWN = 8


def _decisions_table(name: str, audit: list[dict]) -> str:
    """The first explained decisions of an LLM controller: what it read, chose and said, whether
    the words agree with the action, and what the shield did."""
    explained = [r for r in audit if r.get("rationale")][:DECISIONS_SHOWN]
    if not explained:
        return ""
    rows = []
    for r in explained:
        state = r.get("state") or r["prompt"].split("Now: ", 1)[-1].split("\n", 1)[0]
        faithful = {True: "yes", False: "no", None: "—"}[r.get("faithful")]
        cells = (r.get("episode", ""), state, r["letters"], ", ".join(f"{v:g}" for v in r["action"]),
                 r["rationale"], faithful, r.get("shield") or "—")  # fmt: skip
        rows.append(
            "<tr>"
            + "".join(f"<td style='padding:2px 8px'>{html.escape(str(c))}</td>" for c in cells)
            + "</tr>"
        )
    heads = ("episode", "state", "letters", "setpoints", "rationale", "faithful", "shield")
    head = "".join(f"<th style='text-align:left;padding:2px 8px'>{h}</th>" for h in heads)
    return (
        f"<h2>{html.escape(name)}: decisions with their rationales</h2>"
        f"<table style='border-collapse:collapse;font-size:13px'><tr>{head}</tr>{''.join(rows)}</table>"
    )


def write_evaluation_page(
    results: dict[str, dict], path: str | Path, *, title: str, episode_list: list[dict] | None = None
) -> Path:
    """Write ``path``: the totals of each controller, an operator's view of an LLM controller's
    explained decisions, and :func:`evaluation_figure`."""
    body = f"<h1>{html.escape(title)}</h1>{_totals_table(results)}"
    for name, r in results.items():
        if r.get("audit"):
            body += _decisions_table(name, r["audit"])
    return write_page(path, title, body, [evaluation_figure(results, episode_list)])
