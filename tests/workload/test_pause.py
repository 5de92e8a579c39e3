"""Pausing and resuming a flexible training job: the phases, their shares of a step, and the work
and energy it costs in the twin whatever the time step."""

from __future__ import annotations

import pytest

from aidc.scenario import validate_scenario
from aidc.sim.build import build_simulation
from aidc.workload.pause import JobSchedule, Phase


def test_a_pause_saves_then_idles_and_a_resume_restores_then_trains():
    s = JobSchedule(checkpoint_s=60.0, restore_s=120.0)
    s.pause(100.0)
    assert [s.phase_at(t) for t in (99.0, 100.0, 159.0, 160.0)] == [
        Phase.RUN,
        Phase.SAVE,
        Phase.SAVE,
        Phase.PAUSED,
    ]
    s.resume(300.0)
    assert [s.phase_at(t) for t in (299.0, 300.0, 419.0, 420.0)] == [
        Phase.PAUSED,
        Phase.RESTORE,
        Phase.RESTORE,
        Phase.RUN,
    ]
    assert s.shares(90.0, 20.0) == pytest.approx((0.5, 0.5))  # 10 s training, 10 s saving
    assert s.shares(200.0, 50.0) == (0.0, 0.0)  # idle
    assert s.shares(410.0, 20.0) == pytest.approx((0.5, 0.5))


def test_a_resume_during_the_save_trains_on_once_it_is_written_and_a_pause_abandons_a_restore():
    s = JobSchedule(checkpoint_s=60.0, restore_s=120.0)
    s.pause(0.0)
    s.resume(30.0)
    assert s.phase_at(59.0) is Phase.SAVE and s.phase_at(60.0) is Phase.RUN and not s.paused
    s.pause(100.0)
    s.resume(200.0)
    s.pause(250.0)  # mid-restore: nothing new to save
    assert s.phase_at(250.0) is Phase.PAUSED and s.paused


def _flexible(dt_s: float) -> dict:
    return {
        "name": "flex",
        "duration_s": 1200.0,
        "dt_s": dt_s,
        "weather": {"dry_bulb_c": 20.0, "relative_humidity_pct": 40.0},
        "halls": [
            {
                "name": "h",
                "racks_per_row": 2,
                "cooling": {"type": "liquid"},
                "jobs": [{"type": "training", "name": "pretrain", "flexible": True}],
            }
        ],
    }


def _run(dt_s: float) -> tuple[float, float, list[float]]:
    """Pause at 300 s, resume at 600 s; the TFLOP delivered, the GPU energy and the TFLOPS trace."""
    sim = build_simulation(validate_scenario(_flexible(dt_s)))
    tflop = gpu_j = 0.0
    trace = []
    for k in range(sim.scenario.steps):
        t = k * dt_s
        if t == 300.0:
            sim.halls[0].workload.pause("pretrain", t)
        if t == 600.0:
            sim.halls[0].workload.resume("pretrain", t)
        rec = sim.step(t)
        tflop += rec.halls[0].step.tflops_sum * dt_s
        gpu_j += rec.halls[0].step.gpu_w * dt_s
        trace.append(rec.halls[0].step.tflops_sum)
    return tflop, gpu_j, trace


def test_a_paused_job_costs_its_checkpoint_and_restore_and_the_time_step_does_not_matter():
    fine, coarse = _run(1.0), _run(30.0)
    base = _run(1.0)  # same run: the twin is deterministic
    assert fine == base
    trace = fine[2]
    assert trace[299] > 0.0 and trace[300] == 0.0 and trace[500] == 0.0  # saving, then idle
    assert trace[600] == 0.0 and trace[719] == 0.0 and trace[720] > 0.0  # restoring, then training
    assert coarse[0] == pytest.approx(fine[0], rel=0.01)
    assert coarse[1] == pytest.approx(fine[1], rel=0.01)


def test_only_a_flexible_job_is_paused():
    d = _flexible(10.0)
    d["halls"][0]["jobs"][0]["flexible"] = False
    sim = build_simulation(validate_scenario(d))
    with pytest.raises(ValueError, match="not a flexible training job"):
        sim.halls[0].workload.pause("pretrain", 0.0)
