"""Control at a chosen interval over 1 s physics: the interval changes what the controller does,
never the physics (fixed setpoints give the same run at every interval)."""

from __future__ import annotations

import math

import pytest

from aidc.control.resolution import EVENTS, event_scenario, run_at_interval


def _small(event: str, kind: str = "liquid") -> dict:
    return event_scenario(kind, event, racks=1, dt_s=1.0)


def test_fixed_setpoints_give_the_same_run_at_every_interval():
    runs = [run_at_interval(_small("load-step"), "fixed", s, 0.25) for s in (1.0, 60.0, 300.0)]
    for run in runs[1:]:
        for key in ("cooling_kwh", "it_kwh", "facility_kwh", "gpu_temp_peak_c"):
            assert run[key] == pytest.approx(runs[0][key], rel=1e-9), key
        assert run["work_pflop"] == 0.0 and math.isnan(run["facility_kwh_per_eflop"])  # the job starts at 1 h


def test_a_controller_acting_more_often_acts_differently_on_the_same_physics():
    fast = run_at_interval(_small("fault", "air"), "pid", 10.0, 1.25)
    slow = run_at_interval(_small("fault", "air"), "pid", 900.0, 1.25)
    assert fast["cooling_kwh"] != slow["cooling_kwh"]
    assert fast["it_kwh"] == pytest.approx(slow["it_kwh"], rel=0.05)  # the same work, to within leakage
    assert fast["work_pflop"] == pytest.approx(slow["work_pflop"], rel=0.05)
    assert fast["facility_kwh_per_eflop"] == pytest.approx(1e3 * fast["facility_kwh"] / fast["work_pflop"])
    for run in (fast, slow):
        assert 0.0 <= run["fallback_share"] <= 1.0 and math.isnan(run["shutdown_h"])
        assert run["pue"] == pytest.approx(run["facility_kwh"] / run["it_kwh"])


def test_each_event_is_its_scenario():
    load = _small("load-step")
    assert load["halls"][0]["jobs"][0]["start_s"] == 3600.0 and "faults" not in load
    assert _small("fault", "air")["faults"][0]["component"] == "chiller"
    assert _small("fault")["faults"][0]["component"] == "coolant_pump"
    assert _small("weather-front")["weather"]["start"] == EVENTS["weather-front"].start
    with pytest.raises(ValueError, match="unknown event"):
        event_scenario("air", "meteor")


def test_a_shutdown_is_timed_in_the_physics_not_at_the_control_step_that_sees_it():
    runs = {s: run_at_interval(_small("severe-fault", "air"), "rule-based", s, 2.0) for s in (60.0, 900.0)}
    for run in runs.values():
        assert 1.0 < run["shutdown_h"] < 2.0
    slow = runs[900.0]["shutdown_h"]
    assert abs(slow * 4 - round(slow * 4)) > 1e-3  # not the end of a 15-minute step
    assert slow == pytest.approx(runs[60.0]["shutdown_h"], abs=0.1)
