"""A page of a training job's power quality (:mod:`aidc.sim.power_quality`): the site's load over
a few steps of the job, raw and with each mitigation, its amplitude spectrum with the grid's
critical band shaded, and a table of the figures."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from aidc.plotting.downsample import downsample
from aidc.plotting.pages import LEGEND, MARGIN, colour_map, write_page, y_axis
from aidc.sim.power_quality import BAND_ENERGY_LIMIT_FRAC, OSCILLATION_BAND_HZ

ROWS = (  # figure key, label, scale
    ("mean_kw", "site load, mean [kW]", 1.0),
    ("swing_kw", "swing, max − min [kW]", 1.0),
    ("swing_frac_of_mean", "swing / mean [%]", 100.0),
    ("ramp_max_kw_per_s", "steepest ramp [kW/s]", 1.0),
    ("band_energy_frac", f"energy in {OSCILLATION_BAND_HZ[0]:g}–{OSCILLATION_BAND_HZ[1]:g} Hz [%]", 100.0),
    ("band_rms_kw", "band RMS [kW]", 1.0),
    ("band_rms_frac_of_mean", "band RMS / mean [%]", 100.0),
    ("strongest_hz", "strongest line [Hz]", 1.0),
    ("strongest_amplitude_kw", "its amplitude [kW]", 1.0),
    ("energy_overhead_frac", "energy over raw [%]", 100.0),
    ("battery_max_kw", "battery power, max [kW]", 1.0),
)


def _table(result: dict) -> str:
    cases = result["cases"]
    head = "".join(f"<th>{html.escape(name)}</th>" for name in cases)
    rows = []
    for key, label, scale in ROWS:
        cells = [cases[c].get(key) for c in cases]
        if all(v is None for v in cells):
            continue
        shown = "".join(f"<td>{'—' if v is None else f'{v * scale:,.3g}'}</td>" for v in cells)
        rows.append(f"<tr><th style='text-align:left'>{html.escape(label)}</th>{shown}</tr>")
    return f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"


def _figures(result: dict) -> list[go.Figure]:
    t, waves = result["t_s"], result["waveforms_kw"]
    colours = colour_map(waves)
    period = result["phase"].period_s
    shown = t <= min(4.0 * period, float(t[-1]))  # a few steps of the job
    load = go.Figure()
    for name, w in waves.items():
        xs, ys = downsample(t[shown], w[shown])
        load.add_trace(
            go.Scatter(x=xs, y=ys, name=name, legendgroup=name, mode="lines", line={"color": colours[name]})
        )
    load.update_yaxes(**y_axis("power_kw", "site load [kW]", *[tr.y for tr in load.data]))
    load.update_xaxes(title_text="time [s]")
    spectrum = go.Figure()
    fs = result["sample_hz"]
    for name, w in waves.items():
        x = w - w.mean()
        amp = 2.0 * np.abs(np.fft.rfft(x)) / x.size
        f = np.fft.rfftfreq(x.size, 1.0 / fs)
        spectrum.add_trace(
            go.Scatter(
                x=f[1:], y=amp[1:], name=name, legendgroup=name, mode="lines", line={"color": colours[name]}
            )
        )
    spectrum.add_vrect(
        x0=OSCILLATION_BAND_HZ[0], x1=OSCILLATION_BAND_HZ[1], fillcolor="#ffbf00", opacity=0.15, line_width=0
    )
    spectrum.update_xaxes(type="log", title_text="frequency [Hz]")
    spectrum.update_yaxes(title_text="amplitude [kW]", rangemode="tozero")
    for fig, title in (
        (load, "The site's load over four steps of the job"),
        (spectrum, "Amplitude spectrum (the critical band shaded)"),
    ):
        fig.update_layout(
            title=title, height=460, hovermode="x unified", legend=LEGEND, margin=MARGIN, showlegend=True
        )
    return [load, spectrum]


def write_power_quality(result: dict, out: str | Path, title: str) -> Path:
    """Write ``out`` (HTML) for a :func:`~aidc.sim.power_quality.training_power_quality` result."""
    phase = result["phase"]
    intro = (
        f"<p>{result['gpus']:,} GPUs in step at a {result['junction_c']:.1f} °C junction: compute "
        f"{phase.compute_s:.2f} s at {phase.compute_w:.0f} W, communication {phase.comm_s:.2f} s at "
        f"{phase.comm_w:.0f} W per GPU, {phase.mean_w:.0f} W on average (the twin's step: "
        f"{result['twin_gpu_w']:.0f} W); the rest of the site {result['rest_kw']:,.1f} kW, held. "
        f"Example limit (arXiv 2508.14318): at most {BAND_ENERGY_LIMIT_FRAC:.0%} of the load's "
        f"fluctuation energy in {OSCILLATION_BAND_HZ[0]:g}–{OSCILLATION_BAND_HZ[1]:g} Hz.</p>"
    )
    body = f"<h1>{html.escape(title)}</h1>{intro}{_table(result)}"
    return write_page(out, title, body, _figures(result))
