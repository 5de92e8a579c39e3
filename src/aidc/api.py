"""The public Python API the CLI and the report call: run a scenario into a run directory."""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import aidc
from aidc.scenario import Scenario, load_scenario
from aidc.sim.engine import Simulation, StepRecord
from aidc.telemetry.metrics import RunMetrics
from aidc.telemetry.store import Run, RunStore

__all__ = ["Run", "load_scenario", "run_scenario", "simulate"]


def _versions() -> dict[str, str]:
    import duckdb
    import pvlib
    import pyarrow

    return {
        "aidc": aidc.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pvlib": pvlib.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
    }


def _facility_row(rec: StepRecord) -> dict[str, float]:
    c = rec.chain
    row = {
        "t_s": rec.t_s,
        "dry_bulb_c": rec.dry_bulb_c,
        "wet_bulb_c": rec.wet_bulb_c,
        "it_w": c.it_w,
        "gpu_w": 0.0,
        "node_fans_w": 0.0,
        "crah_fans_w": 0.0,
        "pumps_w": 0.0,
        "chiller_w": 0.0,
        "heat_rejection_w": 0.0,
        "cooling_w": c.cooling_w,
        "distribution_loss_w": c.distribution_loss_w,
        "other_w": c.other_w,
        "facility_w": c.facility_w,
        "pue": c.facility_w / c.it_w if c.it_w > 0 else float("nan"),
    }
    for _, hs, po in rec.halls:
        row["gpu_w"] += hs.gpu_w
        row["node_fans_w"] += hs.node_fans_w
        row["crah_fans_w"] += po.crah_fans_w
        row["pumps_w"] += po.pumps_w
        row["chiller_w"] += po.chiller_w
        row["heat_rejection_w"] += po.heat_rejection_w
    return row


def _hall_rows(rec: StepRecord) -> list[dict[str, Any]]:
    rows = []
    for hall, hs, po in rec.halls:
        t = hall.temp_c
        p50, p99 = np.percentile(t, (50, 99))
        running = hs.active_gpus
        rows.append(
            {
                "t_s": rec.t_s,
                "hall": hall.cfg.name,
                "gpus_running": running,
                "gpu_w": hs.gpu_w,
                "node_fans_w": hs.node_fans_w,
                "it_w": hs.it_w,
                "crah_fans_w": po.crah_fans_w,
                "pumps_w": po.pumps_w,
                "chiller_w": po.chiller_w,
                "heat_rejection_w": po.heat_rejection_w,
                "supply_air_c": po.supply_air_c,
                "liquid_supply_c": po.liquid_supply_c,
                "free_cooling_frac": po.free_cooling_frac,
                "gpu_temp_mean_c": float(t.mean()),
                "gpu_temp_p50_c": float(p50),
                "gpu_temp_p99_c": float(p99),
                "gpu_temp_max_c": float(t.max()),
                "clock_mean_mhz": float(hall.clock_mhz.mean()),
                "gpu_power_mean_w": hs.gpu_w / hall.n,
                "tflops_per_gpu": hs.tflops_sum / running if running else 0.0,
                "throttled_frac": (hs.power_capped_gpus + hs.thermal_gpus) / running if running else 0.0,
                "gpus_shut_down": hs.shutdown_gpus,
            }
        )
    return rows


def _serving_rows(rec: StepRecord) -> list[dict[str, Any]]:
    """One row per serving job: queues, KV use and cumulative tokens, swaps and kills."""
    return [
        {"t_s": rec.t_s, "hall": hall.cfg.name, **run.state()}
        for hall, _, _ in rec.halls
        for run in hall.workload.serving
    ]


def simulate(scenario: Scenario, on_step: Callable[[StepRecord], None] | None = None) -> dict[str, Any]:
    """Run a scenario in memory and return its summary (no run directory)."""
    sim = Simulation(scenario)
    metrics = RunMetrics(sim.halls, scenario.dt_s, scenario.warmup_s)
    for rec in sim.run():
        metrics.add(rec)
        if on_step is not None:
            on_step(rec)
    return metrics.summary()


def run_scenario(
    scenario: Scenario,
    out: str | Path,
    *,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
    source: str | None = None,
) -> Run:
    """Simulate ``scenario`` and write its run directory at ``out``; returns the :class:`Run`.

    The scenario is validated before this is called (:func:`load_scenario`), so nothing is
    written for bad input. An exception or Ctrl-C during the run leaves the directory marked
    incomplete, with everything flushed so far.
    """
    sim = Simulation(scenario)
    metadata = {
        "scenario": scenario.model_dump(mode="json"),
        "scenario_file": source,
        "seed": scenario.seed,
        "versions": _versions(),
        "components": sim.config(),
    }
    tel = scenario.telemetry
    sample_s = tel.sample_s or scenario.dt_s
    metrics = RunMetrics(sim.halls, scenario.dt_s, scenario.warmup_s)
    next_sample = 0.0
    with RunStore(out, metadata, tel.chunk_rows, overwrite) as store:
        for rec in sim.run(progress):
            metrics.add(rec)
            if rec.t_s + 1e-9 < next_sample:
                continue
            next_sample += sample_s
            store.append("facility", _facility_row(rec))
            for row in _hall_rows(rec):
                store.append("halls", row)
            for row in _serving_rows(rec):
                store.append("serving", row)
            if tel.per_gpu:
                for hall, _, _ in rec.halls:
                    store.extend(
                        "gpus",
                        {
                            "t_s": np.full(hall.n, rec.t_s),
                            "hall": [hall.cfg.name] * hall.n,
                            "gpu": np.arange(hall.n),
                            "temp_c": hall.temp_c,
                            "clock_mhz": hall.clock_mhz,
                            "power_w": hall.power_w,
                            "tflops": hall.tflops,
                        },
                    )
        store.finish(metrics.summary())
    return Run(out)
