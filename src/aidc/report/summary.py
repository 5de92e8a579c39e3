"""The headline metrics of runs as a rich table (terminal and HTML report share it)."""

from __future__ import annotations

import os

import duckdb
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from aidc.telemetry.metrics import ENERGY_KEYS
from aidc.telemetry.store import Run, RunError


def _fmt(v: object, digits: int = 3) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:,.{digits}f}" if abs(v) < 1e6 else f"{v:,.0f}"
    return str(v)


_HALL_ROWS = (
    ("TFLOPS per GPU", "tflops_per_gpu"),
    ("node power [kW]", "node_power_kw"),
    ("TFLOPS/kW (per GPU / node)", "tflops_per_kw"),
    ("GPU power, mean [W]", "gpu_power_mean_w"),
    ("throttled share", "throttled_share"),
    ("GPU temp p50 [°C]", "gpu_temp_p50_c"),
    ("GPU temp p99 [°C]", "gpu_temp_p99_c"),
    ("GPU temp max [°C]", "gpu_temp_max_c"),
)
_SERVING_ROWS = (
    ("requests finished / arrived", None),
    ("output tokens/s", "output_tokens_per_s"),
    ("TTFT p50 / p99 [s]", ("ttft_p50_s", "ttft_p99_s")),
    ("TPOT p50 / p99 [ms]", ("tpot_p50_s", "tpot_p99_s")),
    ("end-to-end p50 / p99 [s]", ("e2e_p50_s", "e2e_p99_s")),
    ("goodput under SLO [req/s]", "goodput_req_per_s"),
    ("J per output token: GPU", "j_per_output_token_gpu"),
    ("J per output token: IT", "j_per_output_token_it"),
    ("J per output token: facility", "j_per_output_token_facility"),
    ("output tokens per facility kWh", "output_tokens_per_facility_kwh"),
    ("KV use mean / max", ("kv_used_mean_frac", "kv_used_max_frac")),
    ("prefix-cache hit rate", "prefix_hit_rate"),
    ("reclaims / swap-outs / kills", ("reclaims", "swap_outs", "kills")),
)
Rows = list[tuple[str, list[object]]]

PIPED_WIDTH = 200  # columns when not a terminal: rich's default of 80 cut the unit off labels


def console(stderr: bool = False) -> Console:
    """The console the CLI prints to: a terminal's own width, ``COLUMNS`` if set, else (piped or
    redirected output) :data:`PIPED_WIDTH` columns, so tables keep their labels and units whole."""
    out = Console(stderr=stderr)
    if not out.is_terminal and not os.environ.get("COLUMNS", "").isdigit():
        out.width = PIPED_WIDTH
    return out


def summary_table(runs: list[Run]) -> Table:
    """A table of the headline metrics of one or more runs, side by side."""
    table = Table(title="aidc run summary" if len(runs) == 1 else "aidc comparison")
    table.add_column("metric")
    for r in runs:
        table.add_column(r.path.name, justify="right")
    sums = [r.summary or {} for r in runs]
    rows = _facility_rows(runs, sums) + _site_rows(sums) + _fault_rows(sums) + _hall_rows(sums)
    rows += _serving_rows(sums)
    if not all(r.complete for r in runs):
        rows[1:1] = _flushed_rows(runs)
    for label, vals in rows:
        table.add_row(escape(label), *[v if isinstance(v, str) else _fmt(v) for v in vals])
    return table


def _facility_rows(runs: list[Run], sums: list[dict]) -> Rows:
    rows: Rows = [
        ("status", [r.status for r in runs]),
        ("PUE", [s.get("pue") for s in sums]),
        ("IT power, mean [kW]", [s.get("it_power_mean_kw") for s in sums]),
        ("facility power, mean [kW]", [s.get("facility_power_mean_kw") for s in sums]),
    ]
    for key in ENERGY_KEYS:
        if key not in ("cooling", "other"):  # the table lists cooling by part; other loads are fixed
            rows.append((f"energy {key} [kWh]", [s.get("energy_kwh", {}).get(key) for s in sums]))
    return [
        *rows,
        ("TFLOP per facility kWh", [s.get("tflop_per_facility_kwh") for s in sums]),
        ("water [m³]", [s.get("water_m3") for s in sums]),
    ]


_SITE_ROWS = (
    ("grid import [kWh]", "grid_import_kwh"),
    ("PV [kWh]", "pv_kwh"),
    ("PV used on site [kWh]", "pv_used_kwh"),
    ("PV exported / curtailed [kWh]", ("pv_exported_kwh", "pv_curtailed_kwh")),
    ("battery discharge / charge [kWh]", ("battery_discharge_kwh", "battery_charge_kwh")),
    ("battery losses [kWh]", "battery_losses_kwh"),
    ("battery SoC min / max", ("battery_soc_min_frac", "battery_soc_max_frac")),
    (
        "share of facility energy: PV / battery",
        ("pv_share_of_facility_frac", "battery_share_of_facility_frac"),
    ),
    ("peak grid demand, 15 min [kW]", "peak_grid_demand_15min_kw"),
    (
        "grid carbon [t CO2e]: hourly (time-based) / year's mean (location-based)",
        ("grid_carbon_t", "grid_carbon_annual_mean_t"),
    ),
    ("grid carbon, import-weighted mean [g/kWh]", "grid_carbon_mean_g_per_kwh"),
    ("grid energy cost [$] (hourly prices)", "grid_energy_cost_usd"),
    ("demand response: hours", "dr_event_h"),
    ("demand response: grid mean / cap [kW]", ("dr_grid_mean_kw", "dr_cap_mean_kw")),
    ("demand response: energy above the cap [kWh]", "dr_excess_kwh"),
    ("demand response: PFLOP delivered", "dr_pflop_delivered"),
)


def _site_rows(sums: list[dict]) -> Rows:
    """Energy at the meter by source (runs with PV or a battery)."""
    sites = [s.get("site") or None for s in sums]
    if not any(sites):
        return []
    rows: Rows = []
    for label, key in _SITE_ROWS:
        rows.append((f"site: {label}", [_cell(site, key) for site in sites]))
    return rows


def _cell(record: dict | None, key: str | tuple[str, ...], digits: int = 3) -> object:
    """One table cell of a summary section: its value, several joined by " / ", or None; in a
    joined cell a share (``_frac``) keeps three digits whatever ``digits`` is."""
    if record is None:
        return None
    if isinstance(key, tuple):
        return " / ".join(_fmt(record.get(k), 3 if k.endswith("_frac") else digits) for k in key)
    return record.get(key)


_FAULT_ROWS = (
    ("start / end [s]", ("start_s", "end_s")),
    ("to throttle / HW slowdown / shutdown [s]", ("to_throttle_s", "to_slowdown_s", "to_shutdown_s")),
    ("GPUs throttled / shut down / off, max", ("gpus_throttled_max", "gpus_shut_down_max", "gpus_off_max")),
    ("hottest GPU / supply [°C]", ("gpu_temp_max_c", "supply_max_c")),
    ("UPS [kWh] / its SoC floor", ("ups_kwh", "ups_soc_min_frac")),
    ("generator [kWh]", "generator_kwh"),
    ("work lost [PFLOP], against the pre-fault rate", "pflop_lost"),
    ("back to 99 % of the pre-fault rate after [s]", "recovered_s"),
    ("serving requests moved off lost replicas", "requeued"),
)


def _fault_rows(sums: list[dict]) -> Rows:
    """What each fault did (runs with faults; aidc.telemetry.faults)."""
    names = sorted({f["name"] for s in sums for f in s.get("faults") or []})
    rows: Rows = []
    for name in names:
        per_run = [next((f for f in s.get("faults") or [] if f["name"] == name), None) for s in sums]
        for label, key in _FAULT_ROWS:
            cells = [_cell(f, key, digits=1) for f in per_run]
            rows.append((f"fault {name}: {label}", cells))
        for i, _ in enumerate(next(f for f in per_run if f is not None).get("serving", [])):
            cells = [_slo_cell(f, i) for f in per_run]
            rows.append((f"fault {name}: serving job {i}: share within SLO before / during", cells))
    return rows


def _slo_cell(fault: dict | None, job: int) -> object:
    if fault is None or job >= len(fault.get("serving", [])):
        return None
    s = fault["serving"][job]
    return f"{_fmt(s['served_ok_before_frac'])} / {_fmt(s['served_ok_during_frac'])}"


def _flushed_rows(runs: list[Run]) -> Rows:
    """What a stopped run's telemetry holds: how far it got, and its PUE over the samples flushed
    (equal sample spacing, so the ratio of summed powers is the ratio of energies)."""
    got = []
    for r in runs:
        try:
            t, pue = (
                r.query("SELECT max(t_s) / 3600, sum(facility_w) / sum(it_w) FROM facility")
                .to_pylist()[0]
                .values()
            )
        except (RunError, duckdb.Error):
            t, pue = None, None
        got.append((t, pue))
    return [
        ("telemetry flushed through [h]", [t for t, _ in got]),
        ("PUE over the flushed telemetry", [p for _, p in got]),
    ]


def _hall_rows(sums: list[dict]) -> Rows:
    rows: Rows = []
    for hall in sorted({h["hall"] for s in sums for h in s.get("halls", [])}):
        per_run = [next((h for h in s.get("halls", []) if h["hall"] == hall), {}) for s in sums]
        rows += [(f"{hall}: {label}", [h.get(key) for h in per_run]) for label, key in _HALL_ROWS]
    return rows


def _serving_rows(sums: list[dict]) -> Rows:
    rows: Rows = []
    for hall, job in sorted({(j["hall"], j["job"]) for s in sums for j in s.get("serving", [])}):
        per_run = [
            next((j for j in s.get("serving", []) if (j["hall"], j["job"]) == (hall, job)), None)
            for s in sums
        ]
        for label, key in _SERVING_ROWS:
            rows.append((f"{hall}/{job}: {label}", [_serving_cell(j, key, label) for j in per_run]))
    return rows


def _serving_cell(job: dict | None, key, label: str) -> object:
    if job is None:
        return None
    if key is None:
        return f"{job['requests_finished']:,} / {job['requests_arrived']:,}"
    if isinstance(key, tuple):
        scale = 1e3 if "[ms]" in label else 1.0
        parts = [job.get(k) for k in key]
        return " / ".join("—" if v is None else _fmt(v * scale if isinstance(v, float) else v) for v in parts)
    return job.get(key)
