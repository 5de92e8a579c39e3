"""One GPU's measured trace, read from an ``aidc record`` run folder or a CSV file.

A recording holds NVML's ``gpu{i}_temp_c``, ``gpu{i}_power_w``, ``gpu{i}_energy_j``,
``gpu{i}_sm_clock_mhz`` and ``gpu{i}_util_frac`` in its ``host`` table; NVML knows nothing of the
coolant, so its temperature comes as a constant (a lab loop held at a setpoint). A CSV file has a
header row and the columns ``t_s``, ``temp_c``, ``clock_mhz``, ``activity``, ``sink_c`` (optional
when the sink is given as a constant) and ``energy_j`` or ``power_w`` (DCGM exporter dumps, a
site's historian): one row per sample.

The interval's mean power comes from the energy counter where there is one: a sampled power
extrapolated over the interval is what makes software energy meters wrong by up to ~60×
(CodeCarbon issue #117); without a counter it is the mean of the interval's two samples.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from aidc.hardware.calibration import DeviceTrace
from aidc.telemetry.store import Run, RunError

CSV_COLUMNS = {
    "t_s": "s",
    "temp_c": "°C",
    "clock_mhz": "MHz",
    "activity": "0–1",
    "sink_c": "°C",
    "energy_j": "J",
    "power_w": "W",
}


TRACE_RANGES = {
    "activity": (0.0, 1.0, "0–1"),
    "temp_c": (-40.0, 150.0, "°C"),
    "sink_c": (-40.0, 150.0, "°C"),
    "clock_mhz": (0.0, 10_000.0, "MHz"),
}
"""Plausibility bounds of a trace's readings: NVML's temperature sensor spans −40…150 °C in its
data type's range (far beyond any working GPU); no GPU clocks near 10 GHz."""


class TraceError(ValueError):
    """A recording that cannot give a trace: the message names the file, the field and the rule."""


def read_device_trace(path: str | Path, gpu_index: int = 0, sink_c: float | None = None) -> DeviceTrace:
    """GPU ``gpu_index``'s trace from the run folder or CSV file ``path``; ``sink_c`` [°C] is the
    sink's temperature where the recording has none (a run folder never has one)."""
    p = Path(path)
    if p.is_dir():
        cols = _recording_columns(p, gpu_index)
    elif p.is_file():
        cols = _csv_columns(p)
    else:
        raise TraceError(f"{p}: no such run folder or CSV file")
    if "sink_c" not in cols:
        if sink_c is None:
            raise TraceError(f"{p}: no sink temperature (column sink_c [°C]); give it as --sink-c")
        cols["sink_c"] = np.full(len(cols["t_s"]), float(sink_c))
    return _trace(p, cols)


def _recording_columns(p: Path, i: int) -> dict[str, np.ndarray]:
    metrics = {
        "temp_c": f"gpu{i}_temp_c",
        "clock_mhz": f"gpu{i}_sm_clock_mhz",
        "activity": f"gpu{i}_util_frac",
        "energy_j": f"gpu{i}_energy_j",
        "power_w": f"gpu{i}_power_w",
    }
    try:
        run = Run(p)
        if "host" not in run.tables():
            raise TraceError(f"{p}: not a recording (no table 'host'; aidc record writes one)")
        names = ", ".join(f"'{m}'" for m in metrics.values())
        table = run.query(
            f"PIVOT (SELECT t_s, metric, value FROM host WHERE metric IN ({names})) "
            "ON metric USING first(value) ORDER BY t_s"
        )
    except RunError as e:
        raise TraceError(str(e)) from None
    have = set(table.column_names)
    missing = [m for k, m in metrics.items() if k not in ("energy_j", "power_w") and m not in have]
    if not {metrics["energy_j"], metrics["power_w"]} & have:
        missing.append(f"{metrics['energy_j']} or {metrics['power_w']}")
    if missing:
        raise TraceError(f"{p}: the recording has no {', '.join(missing)} (GPU {i}; NVML metrics)")
    out = {"t_s": table.column("t_s").to_numpy(zero_copy_only=False).astype(np.float64)}
    for name, metric in metrics.items():
        if metric in have:
            out[name] = table.column(metric).to_numpy(zero_copy_only=False).astype(np.float64)
    return out


def _csv_columns(p: Path) -> dict[str, np.ndarray]:
    try:
        table = pacsv.read_csv(p)
    except (pa.ArrowInvalid, OSError) as e:
        raise TraceError(f"{p}: not a readable CSV file: {e}") from None
    out = {}
    for name in table.column_names:
        if name in CSV_COLUMNS:
            try:
                out[name] = table.column(name).to_numpy(zero_copy_only=False).astype(np.float64)
            except (pa.ArrowInvalid, ValueError, TypeError):
                raise TraceError(f"{p}: column {name} [{CSV_COLUMNS[name]}] must be numbers") from None
    need = [c for c in ("t_s", "temp_c", "clock_mhz", "activity") if c not in out]
    if not {"energy_j", "power_w"} & set(out):
        need.append("energy_j or power_w")
    if need:
        raise TraceError(f"{p}: missing column(s) {', '.join(need)}; a trace has {', '.join(CSV_COLUMNS)}")
    return out


def _trace(p: Path, cols: dict[str, np.ndarray]) -> DeviceTrace:
    keep = np.isfinite(cols["t_s"])
    for name in ("temp_c", "clock_mhz", "activity", "sink_c"):
        keep &= np.isfinite(cols[name])
    energy = cols.get("energy_j")
    if energy is not None:
        keep &= np.isfinite(energy)
    elif "power_w" in cols:
        keep &= np.isfinite(cols["power_w"])
    c = {k: v[keep] for k, v in cols.items()}
    t = c["t_s"]
    if len(t) < 3:
        raise TraceError(f"{p}: {len(t)} complete samples; a trace needs at least 3")
    bad = np.flatnonzero(np.diff(t) <= 0.0)
    if bad.size:
        raise TraceError(f"{p}: t_s = {t[bad[0] + 1]:g} s at sample {bad[0] + 1}: times must increase")
    for name, (lo, hi, unit) in TRACE_RANGES.items():
        _check_range(p, name, c[name], lo, hi, unit)
    if energy is not None:
        power = np.diff(c["energy_j"]) / np.diff(t)
        _check_range(p, "energy_j", power, 0.0, math.inf, "J", "the counter must not fall")
    else:
        power = 0.5 * (c["power_w"][:-1] + c["power_w"][1:])
        _check_range(p, "power_w", power, 0.0, math.inf, "W")
    return DeviceTrace(t, c["temp_c"], power, c["clock_mhz"], c["activity"], c["sink_c"])


def _check_range(
    p: Path, name: str, v: np.ndarray, lo: float, hi: float, unit: str, rule: str | None = None
) -> None:
    bad = np.flatnonzero((v < lo) | (v > hi))
    if bad.size:
        rule = rule or f"must be within {lo:g}–{hi:g} {unit}"
        raise TraceError(f"{p}: {name} = {v[bad[0]]:g} {unit} at sample {bad[0]}: {rule}")
