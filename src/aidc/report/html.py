"""One self-contained HTML file per run: headline metrics and plotly charts of temperatures,
clocks, power by subsystem, PUE and throughput over time. plotly.js is inlined once, so the
file opens offline."""

from __future__ import annotations

import html
import io
from pathlib import Path

import plotly.graph_objects as go
from plotly.io import to_html
from rich.console import Console

from aidc.report.summary import summary_table
from aidc.telemetry.store import Run

_POWER_COLUMNS = (
    ("gpu_w", "GPUs"),
    ("node_fans_w", "server fans"),
    ("crah_fans_w", "CRAH fans"),
    ("pumps_w", "pumps"),
    ("chiller_w", "chillers"),
    ("heat_rejection_w", "towers / dry coolers"),
    ("distribution_loss_w", "distribution losses"),
    ("other_w", "other loads"),
)


def _figures(run: Run) -> list[go.Figure]:
    fac = run.table("facility").to_pydict()
    figs = _facility_figures(fac, [t / 3600.0 for t in fac["t_s"]])
    figs += _hall_figures(run.table("halls").to_pydict())
    if run.has_table("serving"):
        figs += _serving_figures(run.table("serving").to_pydict())
    return figs


def _facility_figures(fac: dict, t_h: list[float]) -> list[go.Figure]:
    """Power by subsystem, stacked; PUE beside the weather."""
    power = go.Figure()
    it_other = [it - g - f for it, g, f in zip(fac["it_w"], fac["gpu_w"], fac["node_fans_w"], strict=True)]
    power.add_trace(
        go.Scatter(
            x=t_h, y=[v / 1e3 for v in it_other], name="other IT (CPUs, network, PSU losses)", stackgroup="p"
        )
    )
    for col, label in _POWER_COLUMNS:
        power.add_trace(go.Scatter(x=t_h, y=[v / 1e3 for v in fac[col]], name=label, stackgroup="p"))
    power.update_layout(title="Facility power by subsystem", xaxis_title="time [h]", yaxis_title="power [kW]")
    pue = go.Figure(go.Scatter(x=t_h, y=fac["pue"], name="PUE"))
    pue.add_trace(go.Scatter(x=t_h, y=fac["dry_bulb_c"], name="outdoor dry-bulb [°C]", yaxis="y2"))
    pue.add_trace(go.Scatter(x=t_h, y=fac["wet_bulb_c"], name="outdoor wet-bulb [°C]", yaxis="y2"))
    pue.update_layout(
        title="PUE and weather",
        xaxis_title="time [h]",
        yaxis_title="PUE",
        yaxis2={"title": "temperature [°C]", "overlaying": "y", "side": "right"},
    )
    return [power, pue]


def _hall_figures(halls: dict) -> list[go.Figure]:
    """Temperatures, clocks and throttling, throughput of each hall."""
    temp, clock, tput = go.Figure(), go.Figure(), go.Figure()
    for name in sorted(set(halls["hall"])):
        idx = [i for i, h in enumerate(halls["hall"]) if h == name]
        th = [halls["t_s"][i] / 3600.0 for i in idx]

        def series(col: str, scale: float = 1.0, idx=idx) -> list[float]:
            return [scale * halls[col][i] for i in idx]

        for col, label in (("gpu_temp_mean_c", "mean"), ("gpu_temp_p99_c", "p99"), ("gpu_temp_max_c", "max")):
            temp.add_trace(go.Scatter(x=th, y=series(col), name=f"{name} {label}"))
        for col, label in (("supply_air_c", "supply air"), ("liquid_supply_c", "liquid supply")):
            if any(series(col)):
                temp.add_trace(go.Scatter(x=th, y=series(col), name=f"{name} {label}", line={"dash": "dot"}))
        clock.add_trace(go.Scatter(x=th, y=series("clock_mean_mhz"), name=f"{name} clock"))
        throttled = series("throttled_frac", 100.0)
        clock.add_trace(go.Scatter(x=th, y=throttled, name=f"{name} throttled [%]", yaxis="y2"))
        tput.add_trace(go.Scatter(x=th, y=series("tflops_per_gpu"), name=f"{name} TFLOPS per GPU"))
    temp.update_layout(
        title="GPU junction and coolant temperatures", xaxis_title="time [h]", yaxis_title="°C"
    )
    clock.update_layout(
        title="GPU clocks and throttling",
        xaxis_title="time [h]",
        yaxis_title="mean clock [MHz]",
        yaxis2={"title": "throttled GPUs [%]", "overlaying": "y", "side": "right", "range": [0, 100]},
    )
    tput.update_layout(
        title="Delivered throughput", xaxis_title="time [h]", yaxis_title="TFLOPS per running GPU"
    )
    return [temp, clock, tput]


def _serving_figures(sv: dict) -> list[go.Figure]:
    """Throughput, queues, KV use and memory events of each serving job over time."""
    tput, queue, memory = go.Figure(), go.Figure(), go.Figure()
    for key in sorted(set(zip(sv["hall"], sv["job"], strict=True))):
        idx = [i for i, k in enumerate(zip(sv["hall"], sv["job"], strict=True)) if k == key]
        name = "/".join(key)
        t = [sv["t_s"][i] for i in idx]
        th = [x / 3600.0 for x in t]
        tok = [sv["output_tokens"][i] for i in idx]
        rate = [0.0] + [(b - a) / (t2 - t1) for a, b, t1, t2 in zip(tok, tok[1:], t, t[1:], strict=False)]
        tput.add_trace(go.Scatter(x=th, y=rate, name=f"{name} output tokens/s"))
        for col in ("waiting", "running", "swapped"):
            queue.add_trace(go.Scatter(x=th, y=[sv[col][i] for i in idx], name=f"{name} {col}"))
        memory.add_trace(
            go.Scatter(x=th, y=[100 * sv["kv_used_frac"][i] for i in idx], name=f"{name} KV used [%]")
        )
        for col in ("swap_outs", "kills"):
            memory.add_trace(
                go.Scatter(x=th, y=[sv[col][i] for i in idx], name=f"{name} {col} (cumulative)", yaxis="y2")
            )
    tput.update_layout(title="Serving throughput", xaxis_title="time [h]", yaxis_title="output tokens/s")
    queue.update_layout(title="Serving queues", xaxis_title="time [h]", yaxis_title="requests")
    memory.update_layout(
        title="KV-cache memory",
        xaxis_title="time [h]",
        yaxis_title="KV blocks in use [%]",
        yaxis2={"title": "events", "overlaying": "y", "side": "right"},
    )
    return [tput, queue, memory]


def write_report(run: Run, out: str | Path) -> Path:
    """Write ``out`` (HTML) for ``run``; returns its path."""
    console = Console(record=True, width=110, file=io.StringIO())
    console.print(summary_table([run]))
    table_html = console.export_html(inline_styles=True, code_format="<pre>{code}</pre>")
    figs = _figures(run)
    parts = [to_html(f, full_html=False, include_plotlyjs=(i == 0)) for i, f in enumerate(figs)]
    status = run.metadata.get("status")
    warn = (
        ""
        if run.complete
        else f"<p style='color:#b00'><b>This run is {html.escape(str(status))}:</b> "
        "its figures cover only what was flushed.</p>"
    )
    title = html.escape(str(run.metadata.get("scenario", {}).get("name", run.path.name)))
    desc = html.escape(str(run.metadata.get("scenario", {}).get("description", "")))
    doc = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>aidc report: {title}</title></head>"
        f"<body style='font-family:sans-serif;max-width:1200px;margin:auto'>"
        f"<h1>aidc report: {title}</h1><p>{desc}</p>{warn}{table_html}{''.join(parts)}</body></html>"
    )
    target = Path(out)
    tmp = target.with_suffix(".html.tmp")
    tmp.write_text(doc, encoding="utf-8")
    tmp.replace(target)
    return target
