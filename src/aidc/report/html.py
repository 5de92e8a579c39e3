"""One self-contained HTML file per run: headline metrics and plotly charts of power by subsystem,
PUE, the meter's sources, ride-through of faults, temperatures, clocks, throughput and serving
over time.

Every series is downsampled to the pixels it is drawn on, keeping each bucket's minimum and
maximum (``aidc.plotting.downsample``), so a year-long run makes a page of a few MB; each hall and
serving job keeps one colour on every chart (``aidc.plotting.pages``).
"""

from __future__ import annotations

import html
import io
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots
from rich.console import Console

from aidc.plotting.downsample import downsample, minmax_indices
from aidc.plotting.pages import LEGEND, MARGIN, colour_map, time_axis, write_page, y_axis
from aidc.report.energy_flow import energy_flow_figure
from aidc.report.summary import summary_table
from aidc.telemetry.store import Run

Columns = dict[str, np.ndarray]
Groups = list[tuple[str, Columns]]  # (hall, or hall/job: its columns), in name order

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
_SUBSYSTEM_COLOURS = qualitative.Pastel  # not the halls' palette: a colour names one thing a page
_WEATHER = (("dry_bulb_c", "dry-bulb", "#555555"), ("wet_bulb_c", "wet-bulb", "#999999"))
_TEMPERATURES = (  # column, legend name, dash
    ("gpu_temp_max_c", "GPU max", "solid"),
    ("gpu_temp_p99_c", "GPU p99", "dash"),
    ("gpu_temp_mean_c", "GPU mean", "dot"),
)
_COOLANTS = (("supply_air_c", "supply air", "dashdot"), ("liquid_supply_c", "liquid supply", "longdash"))
_QUEUES = (("waiting", "solid"), ("running", "dash"), ("swapped", "dot"))
_EVENTS = (("swap_outs", "swap-outs", "solid"), ("kills", "kills", "dot"))


_FACILITY_COLUMNS = ("t_s", "it_w", "pue", *(c for c, _ in _POWER_COLUMNS), *(c for c, _, _ in _WEATHER))
_HALL_COLUMNS = (
    "t_s",
    *(c for c, _, _ in _TEMPERATURES),
    *(c for c, _, _ in _COOLANTS),
    "clock_busy_mean_mhz",
    "clock_mean_mhz",
    "throttled_frac",
    "tflops_per_gpu",
)
_SERVING_COLUMNS = (
    "t_s",
    "output_tokens",
    "kv_used_frac",
    *(c for c, _ in _QUEUES),
    *(c for c, _, _ in _EVENTS),
)


def _read(run: Run, table: str, columns: tuple[str, ...], key: str | None = None) -> Groups:
    """The ``columns`` of ``table`` it has (older runs lack some), one group per value of the SQL
    expression ``key`` (one group if None), each in time order. Only these columns are read: a
    year at 10 s steps is millions of rows."""
    have = set(run.query(f"SELECT * FROM {table} LIMIT 0").column_names)
    cols = [c for c in columns if c in have]
    name = f", {key} AS name" if key else ""
    t = run.query(f"SELECT {', '.join(cols)}{name} FROM {table} ORDER BY {'name, ' if key else ''}t_s")
    data = {c: t.column(c).to_numpy() for c in cols}
    if key is None:
        return [("", data)]
    names = t.column("name").combine_chunks().dictionary_encode()
    codes = names.indices.to_numpy()
    cuts = np.flatnonzero(np.diff(codes)) + 1
    bounds = zip(np.r_[0, cuts], np.r_[cuts, codes.size], strict=True) if codes.size else []
    return [(names.dictionary[codes[a]].as_py(), {c: v[a:b] for c, v in data.items()}) for a, b in bounds]


def _drawn(fig: go.Figure, axis: str = "y") -> list[np.ndarray]:
    """The values of the traces on y axis ``axis`` (downsampled, with their extremes)."""
    return [tr.y for tr in fig.data if (tr.yaxis or "y") == axis]


def _line(x: np.ndarray, y: np.ndarray, name: str, colour: str, dash: str = "solid", **kw) -> go.Scatter:
    xs, ys = downsample(x, y)
    return go.Scatter(x=xs, y=ys, name=name, mode="lines", line={"color": colour, "dash": dash}, **kw)


def _stacked(
    x: np.ndarray, watts: np.ndarray, idx: np.ndarray, name: str, colour: str, group: str
) -> go.Scatter:
    """One part of a stacked area of power [kW], drawn at the samples ``idx`` that keep the
    stack's total's extremes (so every part of one stack takes the same ``idx``)."""
    return go.Scatter(
        x=x[idx].astype(np.float32),
        y=(watts[idx] / 1e3).astype(np.float32),
        name=name,
        stackgroup=group,
        mode="lines",
        line={"color": colour, "width": 0.5},
    )


def _grouped(name: str, colour: str) -> dict:
    """Traces of one hall or job: one legend group, titled with its name, in its colour."""
    return {"colour": colour, "legendgroup": name, "legendgrouptitle_text": name}


def _layout(fig: go.Figure, title: str, x_axis: dict, rows: int = 1) -> go.Figure:
    """Title, height, hover and the time axis (titled under the bottom panel only)."""
    fig.update_layout(
        title=title,
        height=320 + 140 * rows,
        hovermode="x unified",
        showlegend=True,  # also for one trace: the legend names its hall or job
        legend=LEGEND,
        margin=MARGIN,
    )
    fig.update_xaxes(**x_axis)
    for row in range(1, rows):
        fig.update_xaxes(title_text="", row=row, col=1)
    return fig


def _power_figure(fac: Columns, x_axis: dict) -> go.Figure:
    """Power by subsystem, stacked. Every part is drawn at the samples that keep the total's
    minima and maxima, so the stack stays a stack and its top is the facility's power."""
    other_it = fac["it_w"] - fac["gpu_w"] - fac["node_fans_w"]
    parts = [("other IT (CPUs, network, PSU losses)", other_it)]
    parts += [(label, fac[col]) for col, label in _POWER_COLUMNS]
    total_kw = sum(w for _, w in parts) / 1e3
    idx = minmax_indices(total_kw)
    fig = go.Figure()
    for (label, w), colour in zip(parts, _SUBSYSTEM_COLOURS, strict=False):
        fig.add_trace(_stacked(fac["t"], w, idx, label, colour, "power"))
    fig.update_yaxes(**y_axis("power_kw", "power [kW]", total_kw[idx]))
    return _layout(fig, "Facility power by subsystem", x_axis)


def _pue_figure(fac: Columns, x_axis: dict) -> go.Figure:
    """PUE above the outdoor temperatures that drive it."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    fig.add_trace(_line(fac["t"], fac["pue"], "PUE", "#000000"), row=1, col=1)
    for col, label, colour in _WEATHER:
        fig.add_trace(_line(fac["t"], fac[col], f"outdoor {label}", colour), row=2, col=1)
    fig.update_yaxes(**y_axis("pue", "PUE", *_drawn(fig, "y")), row=1, col=1)
    fig.update_yaxes(**y_axis("temp_c", "outdoor [°C]", *_drawn(fig, "y2")), row=2, col=1)
    return _layout(fig, "PUE and weather", x_axis, rows=2)


_BACKUP_COLUMNS = ("t_s", "utility_w", "generator_w", "ups_w", "ups_soc_frac")
_BACKUP_SOURCES = (
    ("utility_w", "utility", "#7f7f7f"),
    ("generator_w", "generator", "#8c564b"),
    ("ups_w", "UPS", "#d62728"),
)
_RIDE_THROUGH = (  # hall column, legend name, dash
    ("gpu_temp_max_c", "GPU max", "solid"),
    ("supply_air_c", "supply air", "dashdot"),
    ("liquid_supply_c", "liquid supply", "longdash"),
    ("loop_c", "chilled / facility water", "dot"),
)


def _fault_windows(run: Run) -> list[tuple[str, float, float]]:
    """Each fault's name, start and end [s] (the summary's, which knows when a triggered fault
    started; the scenario's for a run that did not finish)."""
    done = (run.summary or {}).get("faults")
    if done:
        return [(f["name"], f["start_s"], f["end_s"] if f["end_s"] is not None else np.inf) for f in done]
    given = run.metadata.get("components", {}).get("faults", [])
    return [(f["name"], f["start_s"], f["start_s"] + (f["duration_s"] or np.inf)) for f in given]


def _ride_through_figure(
    halls: Groups, backup: Columns, windows: list, colours: dict[str, str], x_axis: dict, scale: float
) -> go.Figure:
    """Temperatures through the faults (shaded), and who carried the load: utility, generator, UPS
    (stacked, so the top is the load), with the UPS battery's charge."""
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.05, row_heights=[0.5, 0.3, 0.2])
    for name, h in halls:
        g = _grouped(name, colours[name])
        for col, label, dash in _RIDE_THROUGH:
            if col in h and np.nanmax(np.abs(h[col]), initial=0.0) > 0.0:
                fig.add_trace(_line(h["t"], h[col], label, dash=dash, **g), row=1, col=1)
    idx = minmax_indices(backup["utility_w"] + backup["generator_w"] + backup["ups_w"])
    for col, label, colour in _BACKUP_SOURCES:
        fig.add_trace(_stacked(backup["t"], backup[col], idx, label, colour, "source"), row=2, col=1)
    fig.add_trace(_line(backup["t"], 100.0 * backup["ups_soc_frac"], "UPS charge", "#d62728"), row=3, col=1)
    end = float(backup["t"][-1]) if backup["t"].size else 0.0
    for name, start, stop in windows:
        fig.add_vrect(
            x0=start / scale, x1=min(stop / scale, end), fillcolor="#ffbf00", opacity=0.15, line_width=0,
            annotation_text=name, annotation_position="top left", row=1, col=1,
        )  # fmt: skip
    fig.update_yaxes(**y_axis("temp_c", "temperature [°C]", *_drawn(fig, "y")), row=1, col=1)
    fig.update_yaxes(**y_axis("power_kw", "supplied [kW]", *_drawn(fig, "y2")), row=2, col=1)
    fig.update_yaxes(**y_axis("percent", "UPS charge [%]", *_drawn(fig, "y3")), row=3, col=1)
    return _layout(fig, "Ride-through: temperatures and power sources through the faults", x_axis, rows=3)


_SIGNALS = (  # column, label with its unit, the plotting unit, colour
    ("grid_carbon_g_per_kwh", "carbon [g/kWh]", "carbon_g_per_kwh", "#2ca02c"),
    ("grid_price_usd_per_mwh", "price [$/MWh]", "price_usd_per_mwh", "#9467bd"),
)
_SITE_COLUMNS = (
    *("t_s", "facility_w", "grid_w", "pv_w", "battery_w", "battery_soc_frac", "event_cap_w"),
    *(col for col, _, _, _ in _SIGNALS),
)
_SOURCE_COLOURS = {"grid": "#7f7f7f", "PV": "#f2b701", "battery": "#3a86ff", "facility load": "#000000"}


def _site_figure(site: Columns, x_axis: dict) -> go.Figure:
    """Where the facility's power came from (grid, PV, battery: stacked, so the top is the load),
    the PV that went elsewhere, the battery's state of charge, and the grid's carbon intensity
    and price over the run when the scenario has grid signals."""
    signals = [
        (col, label, unit, colour)
        for col, label, unit, colour in _SIGNALS
        if np.isfinite(site.get(col, np.array([])).astype(np.float64)).any()  # null without signals
    ]
    rows = 2 + len(signals)
    heights = [0.45, 0.15, *([0.4 / len(signals)] * len(signals))] if signals else [0.7, 0.3]
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.05, row_heights=heights)
    load = site["facility_w"]
    pv_to_load = np.minimum(site["pv_w"], load)  # PV meets the load first (aidc.facility.site)
    discharge = np.maximum(site["battery_w"], 0.0)
    parts = (
        ("grid", np.maximum(load - pv_to_load - discharge, 0.0)),
        ("PV", pv_to_load),
        ("battery", discharge),
    )
    idx = minmax_indices(site["facility_w"])
    for label, w in parts:
        fig.add_trace(_stacked(site["t"], w, idx, label, _SOURCE_COLOURS[label], "source"), row=1, col=1)
    fig.add_trace(
        _line(site["t"], site["facility_w"] / 1e3, "facility load", "#000000", dash="dot"), row=1, col=1
    )
    cap = site.get("event_cap_w", np.array([])).astype(np.float64)  # null (NaN) outside calls
    if np.isfinite(cap).any():
        fig.add_trace(
            _line(site["t"], cap / 1e3, "demand-response cap", "#d62728", dash="dash"), row=1, col=1
        )
    soc = site["battery_soc_frac"].astype(np.float64)  # null (NaN) without a battery
    if np.isfinite(soc).any():
        fig.add_trace(_line(site["t"], 100.0 * soc, "battery SoC", "#3a86ff"), row=2, col=1)
    fig.update_yaxes(**y_axis("power_kw", "power [kW]", *_drawn(fig, "y")), row=1, col=1)
    fig.update_yaxes(**y_axis("percent", "state of charge [%]", *_drawn(fig, "y2")), row=2, col=1)
    for row, (col, label, unit, colour) in enumerate(signals, start=3):
        fig.add_trace(_line(site["t"], site[col].astype(np.float64), f"grid {label}", colour), row=row, col=1)
        fig.update_yaxes(**y_axis(unit, label, *_drawn(fig, f"y{row}")), row=row, col=1)
    title = "Energy at the meter: grid, PV and battery" + (", and the grid's signals" if signals else "")
    return _layout(fig, title, x_axis, rows=rows)


def _temperature_figure(halls: Groups, colours: dict[str, str], x_axis: dict) -> go.Figure:
    fig = go.Figure()
    for name, h in halls:
        g = _grouped(name, colours[name])
        for col, label, dash in _TEMPERATURES:
            fig.add_trace(_line(h["t"], h[col], label, dash=dash, **g))
        for col, label, dash in _COOLANTS:
            if np.nanmax(np.abs(h[col]), initial=0.0) > 0.0:  # the plant has no such loop
                fig.add_trace(_line(h["t"], h[col], label, dash=dash, **g))
    fig.update_yaxes(**y_axis("temp_c", "temperature [°C]", *_drawn(fig)))
    return _layout(fig, "GPU junction and coolant temperatures", x_axis)


def _clock_figure(halls: Groups, colours: dict[str, str], x_axis: dict) -> go.Figure:
    """Clocks of the busy GPUs and of all of them (idle ones idle at a low clock), above the share
    of running GPUs the power limit or temperature held back."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.6, 0.4])
    for name, h in halls:
        g = _grouped(name, colours[name])
        if "clock_busy_mean_mhz" in h:  # runs written before it was stored have only the mean
            fig.add_trace(_line(h["t"], h["clock_busy_mean_mhz"], "mean clock, busy GPUs", **g), row=1, col=1)
        fig.add_trace(
            _line(h["t"], h["clock_mean_mhz"], "mean clock, all GPUs", dash="dot", **g), row=1, col=1
        )
        share = 100.0 * h["throttled_frac"]
        fig.add_trace(_line(h["t"], share, "throttled [% of running]", dash="dash", **g), row=2, col=1)
    fig.update_yaxes(**y_axis("clock_mhz", "clock [MHz]", *_drawn(fig, "y")), row=1, col=1)
    fig.update_yaxes(**y_axis("percent", "throttled [%]", *_drawn(fig, "y2")), row=2, col=1)
    return _layout(fig, "GPU clocks and throttling", x_axis, rows=2)


def _throughput_figure(halls: Groups, colours: dict[str, str], x_axis: dict) -> go.Figure:
    fig = go.Figure()
    for name, h in halls:
        fig.add_trace(
            _line(h["t"], h["tflops_per_gpu"], "TFLOPS per running GPU", **_grouped(name, colours[name]))
        )
    fig.update_yaxes(**y_axis("rate", "TFLOPS per running GPU", *_drawn(fig)))
    return _layout(fig, "Delivered throughput", x_axis)


def _serving_figures(jobs: Groups, colours: dict[str, str], x_axis: dict) -> list[go.Figure]:
    """Throughput, queues, KV use and memory events of each serving job over time."""
    tput, queue = go.Figure(), go.Figure()
    memory = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06)
    for name, j in jobs:
        g = _grouped(name, colours[name])
        rate = np.diff(j["output_tokens"]) / np.diff(j["t_s"])  # over each sample interval
        tput.add_trace(_line(j["t"][1:], rate, "output tokens/s", **g))
        for col, dash in _QUEUES:
            queue.add_trace(_line(j["t"], j[col], col, dash=dash, **g))
        memory.add_trace(_line(j["t"], 100.0 * j["kv_used_frac"], "KV used [%]", **g), row=1, col=1)
        for col, label, dash in _EVENTS:
            memory.add_trace(_line(j["t"], j[col], f"{label} (cumulative)", dash=dash, **g), row=2, col=1)
    tput.update_yaxes(**y_axis("rate", "output tokens/s", *_drawn(tput)))
    queue.update_yaxes(**y_axis("count", "requests", *_drawn(queue)))
    memory.update_yaxes(**y_axis("percent", "KV blocks in use [%]", *_drawn(memory, "y")), row=1, col=1)
    memory.update_yaxes(**y_axis("count", "events (cumulative)", *_drawn(memory, "y2")), row=2, col=1)
    return [
        _layout(tput, "Serving throughput", x_axis),
        _layout(queue, "Serving queues", x_axis),
        _layout(memory, "KV-cache memory", x_axis, rows=2),
    ]


def _figures(run: Run) -> list[go.Figure]:
    fac = _read(run, "facility", _FACILITY_COLUMNS)[0][1]
    halls = _read(run, "halls", _HALL_COLUMNS, "hall")
    jobs = _read(run, "serving", _SERVING_COLUMNS, "hall || '/' || job") if run.has_table("serving") else []
    scale, x_axis = time_axis(fac["t_s"])
    for _, g in [("", fac), *halls, *jobs]:
        g["t"] = g["t_s"] / scale
    colours = colour_map(name for name, _ in halls + jobs)
    figs = [_power_figure(fac, x_axis), _pue_figure(fac, x_axis)]
    flow = energy_flow_figure(run)
    if flow is not None:
        figs.append(flow)
    if "grid_w" in run.query("SELECT * FROM facility LIMIT 0").column_names:
        site = _read(run, "facility", _SITE_COLUMNS)[0][1]
        site["t"] = site["t_s"] / scale
        figs.append(_site_figure(site, x_axis))
    if "ups_w" in run.query("SELECT * FROM facility LIMIT 0").column_names:  # a run with faults
        backup = _read(run, "facility", _BACKUP_COLUMNS)[0][1]
        backup["t"] = backup["t_s"] / scale
        ride = _read(run, "halls", ("t_s", *(c for c, _, _ in _RIDE_THROUGH)), "hall")
        for _, g in ride:
            g["t"] = g["t_s"] / scale
        figs.append(_ride_through_figure(ride, backup, _fault_windows(run), colours, x_axis, scale))
    figs += [fig(halls, colours, x_axis) for fig in (_temperature_figure, _clock_figure, _throughput_figure)]
    return figs + (_serving_figures(jobs, colours, x_axis) if jobs else [])


def write_report(run: Run, out: str | Path) -> Path:
    """Write ``out`` (HTML) for ``run``; returns its path."""
    console = Console(record=True, width=110, file=io.StringIO())
    console.print(summary_table([run]))
    table_html = console.export_html(inline_styles=True, code_format="<pre>{code}</pre>")
    status = run.status
    warn = (
        ""
        if run.complete
        else f"<p style='color:#b00'><b>This run is {html.escape(str(status))}:</b> "
        "its figures cover only what was flushed.</p>"
    )
    scenario = run.metadata.get("scenario")
    scenario = scenario if isinstance(scenario, dict) else {}  # a run of another version may differ
    title = f"aidc report: {scenario.get('name', run.path.name)}"
    desc = html.escape(str(scenario.get("description", "")))
    body = f"<h1>{html.escape(title)}</h1><p>{desc}</p>{warn}{table_html}"
    return write_page(out, title, body, _figures(run))
