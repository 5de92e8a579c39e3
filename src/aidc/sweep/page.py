"""The comparison page of a sweep: each headline figure against each varied field, and the runs.

One figure per varied field; its panels are the headline figures (PUE, facility energy, work per
facility kWh, peak facility power, the hottest GPUs, throttling, and a serving job's tokens per kWh
and tail latency when there is one). The field's values run along the x axis in the sweep's order;
with a second varied field, each of its values is one colour, its runs joined by a line, so an
interaction between the two reads as lines that are not parallel.
"""

from __future__ import annotations

import html
from pathlib import Path

import plotly.graph_objects as go
import pyarrow as pa
from plotly.subplots import make_subplots

from aidc.plotting.pages import LEGEND, MARGIN, TICKFORMAT, colour_map, write_page
from aidc.sweep.runner import column_name
from aidc.sweep.spec import Sweep

PANELS: tuple[tuple[str, str, float], ...] = (
    ("pue", "PUE", 1.0),
    ("facility_kwh", "facility energy [kWh]", 1.0),
    ("tflop_per_facility_kwh", "work per facility kWh [PFLOP]", 1e-3),
    ("facility_power_peak_15min_kw", "facility peak, 15 min [kW]", 1.0),
    ("gpu_temp_p99_c", "GPU temperature p99 [°C]", 1.0),
    ("throttled_share", "GPU time throttled [%]", 100.0),
    ("output_tokens_per_facility_kwh", "output tokens per facility kWh", 1.0),
    ("ttft_p99_s", "time to first token p99 [s]", 1.0),
)
"""(column, panel title, scale to the title's unit)."""

TABLE_COLUMNS = (
    "pue",
    "facility_kwh",
    "facility_power_peak_15min_kw",
    "tflop_per_facility_kwh",
    "gpu_temp_p99_c",
)


def _label(value: object) -> str:
    return value if isinstance(value, str) else f"{value:g}" if isinstance(value, float) else str(value)


def field_figure(rows: pa.Table, field: str, by: str | None) -> go.Figure | None:
    """The headline figures against ``field``, one colour per value of ``by``; None if no run has
    finished."""
    data = rows.to_pylist()
    panels = [p for p in PANELS if any(r.get(p[0]) is not None for r in data)]
    if not panels:
        return None
    cols = 2
    n_rows = -(-len(panels) // cols)
    spacing = min(0.1, 0.35 / n_rows)
    fig = make_subplots(
        rows=n_rows, cols=cols, subplot_titles=[p[1] for p in panels], vertical_spacing=spacing
    )
    x_col, by_col = column_name(field), column_name(by) if by else None
    groups = list(dict.fromkeys(_label(r[by_col]) for r in data)) if by_col else ["all runs"]
    colours = colour_map(groups)
    for k, (key, _, scale) in enumerate(panels):
        row, col = k // cols + 1, k % cols + 1
        for g in groups:
            mine = [r for r in data if (_label(r[by_col]) if by_col else "all runs") == g]
            fig.add_trace(
                go.Scatter(
                    x=[_label(r[x_col]) for r in mine],
                    y=[None if r[key] is None else r[key] * scale for r in mine],
                    mode="lines+markers",
                    name=g,
                    legendgroup=g,
                    legendgrouptitle={"text": by} if by and g == groups[0] and k == 0 else None,
                    showlegend=k == 0,
                    line={"color": colours[g]},
                    hovertext=[r["run"] for r in mine],
                ),
                row=row,
                col=col,
            )
        bottom = k + cols >= len(panels)  # the field's name under the lowest panel of each column
        fig.update_xaxes(type="category", title={"text": field if bottom else None}, row=row, col=col)
        fig.update_yaxes(tickformat=TICKFORMAT, row=row, col=col)
    fig.update_layout(
        title={"text": f"against {field}"}, height=280 * n_rows + 120, legend=LEGEND, margin=MARGIN
    )
    return fig


def runs_table_html(rows: pa.Table, fields: list[str]) -> str:
    """The runs as an HTML table: id, status, the varied fields, a few headline figures."""
    heads = ["run", "status", *fields, *TABLE_COLUMNS]
    keys = ["run", "status", *(column_name(f) for f in fields), *TABLE_COLUMNS]
    cells = []
    for r in rows.to_pylist():
        values = [r[k] for k in keys]
        tds = "".join(
            f"<td>{html.escape('' if v is None else f'{v:,.4g}' if isinstance(v, float) else str(v))}</td>"
            for v in values
        )
        cells.append(f"<tr>{tds}</tr>")
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    style = "border-collapse:collapse;font-size:13px"
    return f"<table style='{style}' border='1' cellpadding='4'><tr>{head}</tr>{''.join(cells)}</table>"


def write_sweep_page(sweep: Sweep, rows: pa.Table, path: str | Path) -> Path:
    fields = sweep.fields
    figures = []
    for i, field in enumerate(fields):
        by = fields[(i + 1) % len(fields)] if len(fields) > 1 else None
        fig = field_figure(rows, field, by)
        if fig is not None:
            figures.append(fig)
    statuses = rows.column("status").to_pylist()
    done = sum(s in ("complete", "skipped") for s in statuses)
    body = (
        f"<h1>Sweep {html.escape(sweep.name)}</h1>"
        f"<p>{len(statuses)} runs of {html.escape(str(sweep.spec.base))} ({sweep.spec.mode} over "
        f"{html.escape(', '.join(fields))}); {done} finished. Hall figures are the first hall's, serving "
        "figures the first serving job's; every run's folder is under <code>runs/</code> and the table "
        "is <code>sweep.duckdb</code> (<code>SELECT * FROM runs</code>).</p>"
        f"{runs_table_html(rows, fields)}"
    )
    return write_page(path, f"aidc sweep {sweep.name}", body, figures)
