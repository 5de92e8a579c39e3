"""Rows of the run store's tables, made from a step's :class:`~aidc.sim.engine.StepRecord`.

One function per table: ``facility`` (one row per step), ``halls`` (one per hall), ``serving`` (one
per serving job) and ``gpus`` (columns over every GPU, when per-GPU telemetry is on).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import numpy as np

from aidc.sim.engine import HallRecord, StepRecord


def facility_row(rec: StepRecord) -> dict[str, float]:
    c = rec.chain
    row = {
        "t_s": rec.t_s,
        "dry_bulb_c": rec.dry_bulb_c,
        "wet_bulb_c": rec.wet_bulb_c,
        "it_w": c.it_w,
        "gpu_w": sum(h.step.gpu_w for h in rec.halls),
        "node_fans_w": sum(h.step.node_fans_w for h in rec.halls),
        "crah_fans_w": sum(h.plant.crah_fans_w for h in rec.halls),
        "pumps_w": sum(h.plant.pumps_w for h in rec.halls),
        "chiller_w": sum(h.plant.chiller_w for h in rec.halls),
        "heat_rejection_w": sum(h.plant.heat_rejection_w for h in rec.halls),
        "cooling_w": c.cooling_w,
        "distribution_loss_w": c.distribution_loss_w,
        "other_w": c.other_w,
        "facility_w": c.facility_w,
        "pue": c.facility_w / c.it_w if c.it_w > 0 else float("nan"),
    }
    if (o := rec.site) is not None:  # at the meter (aidc.facility.site)
        row |= {
            "grid_w": o.grid_w,
            "pv_w": o.pv_w,
            "pv_exported_w": o.pv_exported_w,
            "pv_curtailed_w": o.pv_curtailed_w,
            "battery_w": o.battery_w,
            "battery_soc_frac": o.battery_soc_frac,
            "event_cap_w": rec.event_cap_w,  # a demand-response call's limit; null outside calls
            "grid_carbon_g_per_kwh": o.carbon_g_per_kwh,  # the step's mean; null without signals
            "grid_price_usd_per_mwh": o.price_usd_per_mwh,
        }
    if (b := rec.backup) is not None and rec.faults is not None:  # a run with faults
        row |= {
            "utility_w": rec.supplies.utility_w,
            "generator_w": rec.supplies.generator_w,
            "ups_w": b.ups_w,
            "ups_charge_w": b.ups_charge_w,
            "ups_soc_frac": b.ups_soc_frac,
            "faults_active": len(rec.faults.active),
        }
    return row


def _busy_clock_mhz(clock_mhz: np.ndarray, resident: np.ndarray) -> float:
    """Mean clock of the GPUs with a job resident, weighted by their resident share of the step
    [MHz]; NaN when none is. The mean over all GPUs also counts idle ones at the idle clock."""
    busy = float(resident.sum())
    return float(np.dot(clock_mhz, resident)) / busy if busy > 0.0 else float("nan")


def _hall_row(t_s: float, h: HallRecord) -> dict[str, Any]:
    st, hs, po = h.state, h.step, h.plant
    t = st.temp_c
    p50, p99 = np.percentile(t, (50, 99))
    running = hs.active_gpus
    return {
        "t_s": t_s,
        "hall": st.name,
        "gpus_running": running,
        "gpu_w": hs.gpu_w,
        "gpu_static_w": hs.gpu_static_w,
        "gpu_leakage_w": hs.gpu_leakage_w,
        "node_fans_w": hs.node_fans_w,
        "it_w": hs.it_w,
        "crah_fans_w": po.crah_fans_w,
        "pumps_w": po.pumps_w,
        "chiller_w": po.chiller_w,
        "heat_rejection_w": po.heat_rejection_w,
        "supply_air_c": po.supply_air_c,
        "liquid_supply_c": po.liquid_supply_c,
        "loop_c": po.loop_c,
        "free_cooling_frac": po.free_cooling_frac,
        "gpu_temp_mean_c": float(t.mean()),
        "gpu_temp_p50_c": float(p50),
        "gpu_temp_p99_c": float(p99),
        "gpu_temp_max_c": float(t.max()),
        "clock_mean_mhz": float(st.clock_mhz.mean()),
        "clock_busy_mean_mhz": _busy_clock_mhz(st.clock_mhz, st.resident),
        "gpu_power_mean_w": hs.gpu_w / t.size,
        "tflops_per_gpu": hs.tflops_sum / running if running else 0.0,
        "throttled_frac": (hs.power_capped_gpus + hs.thermal_gpus) / running if running else 0.0,
        "gpus_shut_down": hs.shutdown_gpus,
    }


def hall_rows(rec: StepRecord) -> list[dict[str, Any]]:
    return [_hall_row(rec.t_s, h) for h in rec.halls]


def serving_rows(rec: StepRecord) -> list[dict[str, Any]]:
    """One row per serving job: queues, KV use and cumulative tokens, swaps and kills."""
    rows = []
    for h in rec.halls:
        for sv in h.state.serving:
            row = {"t_s": rec.t_s, "hall": h.state.name, **asdict(sv)}
            del row["gpus"]
            rows.append(row)
    return rows


def gpu_columns(rec: StepRecord, h: HallRecord) -> dict[str, Any]:
    """Every GPU of a hall at one step, as columns."""
    st = h.state
    n = st.temp_c.size
    return {
        "t_s": np.full(n, rec.t_s),
        "hall": [st.name] * n,
        "gpu": np.arange(n),
        "temp_c": st.temp_c,
        "clock_mhz": st.clock_mhz,
        "power_w": st.power_w,
        "tflops": st.tflops,
    }
