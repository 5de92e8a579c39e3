"""The fault timeline: shares of a step, the emergency power sequence, triggers, GPUs off."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aidc.facility.faults import EmergencyPower, Fault, FaultTimeline, overlap_share

POWER = EmergencyPower(generator_start_s=10.0, chiller_restart_s=(300.0,), cooling_on_ups=False)


def timeline(*faults: Fault, power: EmergencyPower = POWER, gpus: int = 16) -> FaultTimeline:
    return FaultTimeline(list(faults), [gpus], power)


def test_overlap_share_is_the_covered_part_of_the_step():
    assert overlap_share(5.0, 8.0, 0.0, 10.0) == pytest.approx(0.3)
    assert overlap_share(-5.0, 50.0, 0.0, 10.0) == 1.0
    assert overlap_share(10.0, 20.0, 0.0, 10.0) == 0.0


def test_a_fault_lowers_its_equipment_for_the_part_of_the_step_it_covers():
    tl = timeline(Fault("half the chillers", "chiller", (0,), 105.0, 100.0, fraction=0.5))
    assert tl.step(90.0, 10.0, 20.0).running[0].chillers == 1.0
    assert tl.step(100.0, 10.0, 20.0).running[0].chillers == pytest.approx(1.0 - 0.5 * 0.5)
    step = tl.step(110.0, 10.0, 20.0)
    assert step.running[0].chillers == pytest.approx(0.5)
    assert step.running[0].pumps == 1.0
    assert step.active == {"half the chillers": (105.0, 205.0)}
    assert tl.step(210.0, 10.0, 20.0).running[0].chillers == 1.0


def test_a_utility_outage_runs_on_the_ups_until_the_generator_then_waits_for_the_chillers():
    tl = timeline(Fault("outage", "utility", (0,), 100.0, 600.0))
    dark = tl.step(100.0, 10.0, 20.0)  # the generator is on load at 110 s
    assert (dark.site.ups_only, dark.site.generator, dark.site.utility) == (1.0, 0.0, 0.0)
    assert dark.running[0].pumps == dark.running[0].air_handlers == dark.running[0].heat_rejection == 0.0
    on_generator = tl.step(110.0, 10.0, 20.0)
    assert on_generator.site.generator == 1.0
    assert on_generator.running[0].pumps == 1.0 and on_generator.running[0].chillers == 0.0
    assert tl.step(400.0, 10.0, 20.0).running[0].chillers == 0.0  # restarting until 410 s
    assert tl.step(410.0, 10.0, 20.0).running[0].chillers == 1.0
    back = tl.step(700.0, 10.0, 20.0)
    assert back.site.utility == 1.0 and back.active == {}


def test_cooling_on_the_ups_keeps_fans_and_pumps_through_the_dark_seconds():
    power = EmergencyPower(10.0, (300.0,), cooling_on_ups=True)
    dark = timeline(Fault("outage", "utility", (0,), 0.0, 60.0), power=power).step(0.0, 5.0, 20.0)
    assert dark.running[0].pumps == dark.running[0].air_handlers == 1.0
    assert dark.running[0].chillers == dark.running[0].heat_rejection == 0.0


def test_without_a_generator_the_site_is_dark_for_the_whole_outage():
    power = EmergencyPower(math.inf, (300.0,), cooling_on_ups=False)
    tl = timeline(Fault("outage", "utility", (0,), 0.0, 60.0), power=power)
    step = tl.step(30.0, 10.0, 20.0)
    assert step.site.ups_only == 1.0 and (step.site.dark_from_s, step.site.dark_until_s) == (30.0, 40.0)
    assert tl.step(60.0, 10.0, 20.0).running[0].chillers == 0.0  # restarting from 60 s


def test_a_conditional_fault_starts_at_the_first_step_hot_enough():
    tl = timeline(Fault("hot trip", "chiller", (0,), 0.0, 50.0, dry_bulb_above_c=35.0))
    assert tl.step(0.0, 10.0, 30.0).running[0].chillers == 1.0
    assert tl.step(10.0, 10.0, 36.0).running[0].chillers == 0.0
    assert tl.start_of(0) == 10.0
    assert tl.step(20.0, 10.0, 20.0).running[0].chillers == 0.0  # it runs its duration once started
    assert tl.step(60.0, 10.0, 20.0).running[0].chillers == 1.0


def test_failed_gpus_are_off_for_their_interval_within_the_step():
    gpus = (np.arange(2, 5),)
    step = timeline(Fault("gpus", "gpu", (0,), 13.0, 4.0, gpus=gpus)).step(10.0, 10.0, 20.0)
    start, end = step.off_start_s[0], step.off_end_s[0]
    np.testing.assert_array_equal(start[2:5], 13.0)
    np.testing.assert_array_equal(end[2:5], 17.0)
    np.testing.assert_array_equal(start[[0, 1, 5]], end[[0, 1, 5]])  # empty: on throughout


@pytest.mark.parametrize("bad", [dict(component="pipe"), dict(fraction=0.0), dict(duration_s=0.0)])
def test_a_bad_fault_is_refused_with_its_field(bad):
    with pytest.raises(ValueError, match="Fault"):
        fields = {"name": "x", "component": "chiller", "halls": (0,), "start_s": 0.0, "duration_s": 1.0}
        Fault(**(fields | bad))


def test_the_schemas_fault_components_are_the_timelines():
    from aidc.facility.faults import FAULT_COMPONENTS
    from aidc.scenario.faults import FaultComponent

    assert set(FaultComponent.__args__) == set(FAULT_COMPONENTS)
