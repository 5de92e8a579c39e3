"""The compiled kernels (aidc.hardware.kernels, aidc.sim.hall_kernel) against the numpy reference:
whole runs through every thermal path, partial residency, power capping, faults, outages, thermal
shutdown and a serving job agree to 1e-9, and so do the kernels one by one on random inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aidc.hardware import governor, gpu, kernels
from aidc.hardware.catalog import get_gpu
from aidc.hardware.clocks import ClockLimits
from aidc.scenario import validate_scenario
from aidc.sim.build import build_simulation
from aidc.telemetry.metrics import RunMetrics
from conftest import example_dict

REL = 1e-9


def run(scenario, compiled: bool, monkeypatch) -> tuple[dict, list[np.ndarray]]:
    monkeypatch.setattr(kernels, "USE_COMPILED", compiled)
    sim = build_simulation(scenario)
    metrics = RunMetrics(sim.config(), scenario.warmup_s)
    trace = []
    for rec in sim.run():
        metrics.add(rec)
        for h in rec.halls:
            st = h.state
            trace += [st.temp_c, st.power_w, st.clock_mhz, st.node_wall_w, st.leakage_w, st.shutdown]
            trace.append(
                np.array([h.step.it_w, h.step.heat_to_liquid_w, h.step.active_gpus, st.trip_s or -1])
            )
    return metrics.summary(sim.serving_results()), trace


def numbers(d, prefix=""):
    """Every number in a summary, by its path."""
    items = d.items() if isinstance(d, dict) else enumerate(d)
    for k, v in items:
        if isinstance(v, dict | list):
            yield from numbers(v, f"{prefix}{k}.")
        elif isinstance(v, int | float) and not isinstance(v, bool) and v is not None:
            yield f"{prefix}{k}", float(v)


def assert_same_run(scenario, monkeypatch):
    ref, ref_trace = run(scenario, False, monkeypatch)
    got, got_trace = run(scenario, True, monkeypatch)
    a, b = dict(numbers(ref)), dict(numbers(got))
    assert a.keys() == b.keys()
    for key, x in a.items():
        assert math.isclose(b[key], x, rel_tol=REL, abs_tol=1e-9), (key, x, b[key])
    assert len(ref_trace) == len(got_trace)
    for x, y in zip(ref_trace, got_trace, strict=True):
        np.testing.assert_allclose(
            np.asarray(y, dtype=float), np.asarray(x, dtype=float), rtol=REL, atol=1e-9
        )
    return ref


def small_hall(cooling: str, **over) -> dict:
    hall = {
        "name": "h",
        "rows": 1,
        "racks_per_row": 3,
        "nodes_per_rack": 2,
        "gpu": "H100-SXM",
        "cooling": {"type": cooling},
        "jobs": [
            {"type": "training", "name": "t", "gpus": 24},
            {
                "type": "burn",
                "name": "b",
                "precision": "fp8",
                "activity_frac": 0.8,
                "mfu_frac": 0.5,
                "start_s": 95.0,
                "end_s": 333.0,
            },
        ],
    }
    data = {
        "name": f"kernels-{cooling}",
        "seed": 3,
        "duration_s": 600.0,
        "dt_s": 7.0,
        "weather": {"climate": "miami-fl", "start": "08-01 13:00"},
        "halls": [hall],
    }
    return data | over


@pytest.mark.parametrize("cooling", ["air", "liquid", "immersion"])
def test_runs_through_each_thermal_path_agree(cooling, monkeypatch):
    """Training and a burn that starts and ends within steps (partial residency), on a hot day."""
    summary = assert_same_run(validate_scenario(small_hall(cooling)), monkeypatch)
    assert summary["energy_kwh"]["gpu"] > 0.0


def test_power_capped_gpus_agree(monkeypatch):
    data = small_hall("air")
    data["halls"][0]["power_cap_w"] = 450.0
    summary = assert_same_run(validate_scenario(data), monkeypatch)
    assert summary["halls"][0]["power_capped_share"] > 0.5


def test_pumps_lost_to_shutdown_and_a_utility_outage_agree(monkeypatch):
    """A liquid hall losing its pumps at full load runs to thermal shutdown (trips within steps,
    GPUs off); an outage with no generator takes every GPU dark for part of steps."""
    pump = {"component": "coolant_pump", "start_s": 100.0, "duration_s": 200.0}
    data = small_hall("liquid", faults=[pump], dt_s=3.0, duration_s=400.0)
    summary = assert_same_run(validate_scenario(data), monkeypatch)
    assert summary["faults"][0]["gpus_shut_down_max"] > 0
    outage = example_dict("ride_through_air.toml")
    outage["duration_s"] = min(outage["duration_s"], 900.0)
    assert_same_run(validate_scenario(outage), monkeypatch)


def test_a_serving_job_agrees(monkeypatch):
    data = example_dict("serving_deepseek_v3.toml")
    data["duration_s"], data["warmup_s"] = 120.0, 0.0
    summary = assert_same_run(validate_scenario(data), monkeypatch)
    assert summary["serving"][0]["requests_finished"] > 0


def test_the_governor_kernel_agrees_on_random_inputs(monkeypatch):
    rng = np.random.default_rng(7)
    spec = get_gpu("H100-SXM")
    n = 2_000
    temp = rng.uniform(20.0, 95.0, n)
    ceiling = gpu.boost_clock_limit(temp, spec)
    activity = rng.uniform(0.0, 1.0, n)
    coefficients = [rng.uniform(lo, hi, n) for lo, hi in ((100, 900), (0, 0.3), (500, 2000), (0, 0.5))]
    law = governor.RationalActivity.of(*coefficients)
    start = rng.uniform(200.0, 2_000.0, n)
    for cap in (300.0, 500.0, 700.0):
        for work in (activity, law):
            for initial in (None, start):
                monkeypatch.setattr(kernels, "USE_COMPILED", False)
                ref = governor.power_limit_governor(cap, work, temp, ceiling, spec, initial)
                monkeypatch.setattr(kernels, "USE_COMPILED", True)
                got = governor.power_limit_governor(cap, work, temp, ceiling, spec, initial)
                np.testing.assert_allclose(got, ref, rtol=REL)


def test_the_clock_ceiling_kernel_agrees(monkeypatch):
    spec = get_gpu("B200")
    temp = np.linspace(-10.0, 110.0, 4_001)
    monkeypatch.setattr(kernels, "USE_COMPILED", False)
    ref = ClockLimits.at(spec, spec.tdp_w, temp).ceiling_mhz
    monkeypatch.setattr(kernels, "USE_COMPILED", True)
    np.testing.assert_allclose(ClockLimits.at(spec, spec.tdp_w, temp).ceiling_mhz, ref, rtol=1e-12)


def test_the_histogram_kernel_bins_as_bincount():
    rng = np.random.default_rng(1)
    temp = np.concatenate([rng.uniform(-50.0, 150.0, 5_000), [-30.0, 129.99, 130.0, 25.0, 25.05]])
    mask = rng.random(temp.size) < 0.6
    for use_mask in (False, True):
        hist = np.zeros(3_200, dtype=np.int64)
        kernels.histogram_add(hist, temp, mask, use_mask, -30.0, 0.05)
        picked = temp[mask] if use_mask else temp
        ref = np.bincount(np.clip(((picked + 30.0) / 0.05).astype(np.int64), 0, 3_199), minlength=3_200)
        np.testing.assert_array_equal(hist, ref)
