"""A hall's workload through the coupling contract: each job's demand at the clocks a step allows,
job starts inside a step, idle GPUs, and serving work booked in the step in which it happens."""

from __future__ import annotations

import numpy as np
import pytest

from aidc.hardware import gpu as g
from aidc.hardware.catalog import get_gpu
from aidc.hardware.clocks import ClockLimits
from aidc.hardware.interconnect import LINKS, MEMORY_TIERS
from aidc.scenario import HallConfig
from aidc.workload.jobs import HallWorkload
from aidc.workload.serving.deploy import build_serving_run

H100 = get_gpu("H100-SXM")


def hall(*jobs: dict) -> HallConfig:
    return HallConfig(nodes_per_rack=2, jobs=list(jobs))  # 16 GPUs


def test_training_runs_where_the_power_limit_and_its_activity_agree():
    cfg = hall({"type": "training", "name": "t"})
    work = HallWorkload(cfg, H100)
    temps = np.full(16, 55.0)  # the 500 W cap binds (a cap below the power at the lowest clock could not)
    limits = ClockLimits.at(H100, 500.0, temps)
    d = work.demand(0.0, 10.0, limits)
    assert np.all(d.clock_mhz < limits.ceiling_mhz) and np.all(d.limited_frac == 1.0)
    activity, tflops = work.profile(d.clock_mhz)
    np.testing.assert_allclose(d.activity, activity, atol=1e-3)  # consistent with its clock
    np.testing.assert_allclose(g.gpu_power(d.activity, d.clock_mhz, temps, H100), 500.0, atol=1.0)
    np.testing.assert_allclose(d.tflops, tflops)
    assert not d.partial


def test_a_job_that_starts_inside_a_step_is_resident_for_that_share():
    cfg = hall({"type": "burn", "name": "b", "gpus": 8, "start_s": 25.0}, {"type": "idle", "name": "i"})
    work = HallWorkload(cfg, H100)
    limits = ClockLimits.at(H100, 700.0, np.full(16, 40.0))
    d = work.demand(20.0, 10.0, limits)
    np.testing.assert_allclose(d.resident_frac, [0.5] * 8 + [0.0] * 8)
    assert d.partial
    # an idle job's GPUs have nothing resident: the idle clock, no activity, no throughput
    assert np.all(d.clock_mhz[8:] == H100.clock_idle_mhz) and np.all(d.activity[8:] == 0.0)
    full = work.demand(30.0, 10.0, limits)
    assert full.tflops[0] == pytest.approx(2 * d.tflops[0]) and full.resident_frac[0] == 1.0
    assert full.activity[0] == pytest.approx(0.9)  # a burn's activity does not depend on its clock


def test_serving_work_is_booked_in_the_step_in_which_it_happens():
    """Busy time over any split into steps adds up to the simulator's own, step by step in time."""
    job = {"type": "serving", "name": "s", "model": "llama-3.1-8b", "rate_per_s": 20.0, "start_s": 5.0}
    cfg = hall(job)
    runs = {0: build_serving_run(cfg.jobs[0], H100, slice(0, 16), LINKS, MEMORY_TIERS)}
    work = HallWorkload(cfg, H100, runs)
    limits = ClockLimits.at(H100, 700.0, np.full(16, 38.0))
    activity_s = []
    for k in range(12):
        d = work.demand(2.5 * k, 2.5, limits)
        assert np.all(d.activity <= 1.0) and np.all(d.resident_frac == (1.0 if k >= 2 else 0.0))
        activity_s.append(d.activity * d.resident_frac * 2.5)
    reps = runs[0].sim.replicas
    booked = np.sum(activity_s, axis=0)[:: reps[0].dep.tp]
    np.testing.assert_allclose(booked, [r.activity_s for r in reps], rtol=1e-9)
    assert runs[0].sim.now == pytest.approx(30.0)  # the simulator's clock is the twin's
    first = min(r.arrival_s for r in runs[0].sim.requests)
    assert first == pytest.approx(5.0)  # the trace starts at the job's start
