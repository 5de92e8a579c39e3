import numpy as np
import pytest

from aidc.control.controllers import CONTROLLERS, PIDHottestGPU, make_controller
from aidc.control.shield import SafetyShield
from aidc.control.spaces import (
    AIR_ACTIONS,
    LIQUID_ACTIONS,
    CoolingObservation,
    defaults,
    to_normalized,
    to_physical,
)


def obs(**kw) -> CoolingObservation:
    base = dict(
        outdoor_dry_bulb_c=25.0,
        outdoor_wet_bulb_c=18.0,
        it_power_kw=800.0,
        gpu_temp_median_c=60.0,
        gpu_temp_p99_c=66.0,
        gpu_temp_max_c=68.0,
        inlet_temp_median_c=23.0,
        inlet_temp_max_c=25.0,
        hour_of_day=14.0,
        day_of_year=196.0,
        gpu_slowdown_temp_c=87.0,
    )
    base.update(kw)
    return CoolingObservation(**base)


def test_normalization_round_trips_and_clips():
    x = np.array([-1.0, 0.0, 1.0])
    phys = to_physical(x, AIR_ACTIONS)
    assert phys[0] == 18.0 and phys[2] == 20.0
    np.testing.assert_allclose(to_normalized(phys, AIR_ACTIONS), x)
    assert to_physical(np.array([5.0, -5.0]), LIQUID_ACTIONS).tolist() == [40.0, 0.4]


@pytest.mark.parametrize(
    "bad", [None, np.array([np.nan, 12.0, 10.0]), np.array([1.0, 2.0]), np.array([np.inf] * 3)]
)
def test_shield_rejects_bad_actions_for_the_fallback(bad):
    shield = SafetyShield(AIR_ACTIONS)
    prev = defaults(AIR_ACTIONS)
    fallback = np.array([21.5, 11.5, 12.0])
    d = shield.filter(bad, prev, obs(), fallback)
    assert d.used_fallback
    np.testing.assert_allclose(d.setpoints, fallback)
    assert sum(shield.counts.values()) == 1


def test_shield_rejects_late_actions():
    shield = SafetyShield(AIR_ACTIONS, max_latency_s=10.0)
    d = shield.filter(np.array([27.0, 20.0, 20.0]), defaults(AIR_ACTIONS), obs(), defaults(AIR_ACTIONS), 11.0)
    assert d.used_fallback and "late" in d.interventions


def test_shield_clamps_and_rate_limits():
    shield = SafetyShield(AIR_ACTIONS)
    prev = np.array([22.0, 12.0, 12.0])
    d = shield.filter(np.array([40.0, 0.0, 12.5]), prev, obs(), prev)
    assert d.setpoints.tolist() == [23.0, 11.0, 12.5]  # clamped to [18, 27], then ±1 K per step
    assert set(d.interventions) == {"clamped", "rate_limited"} and not d.used_fallback


@pytest.mark.parametrize(("step_s", "moved_k"), [(60.0, 0.2), (900.0, 3.0)])
def test_shield_rate_limits_in_time_not_in_steps(step_s, moved_k):
    """1 K per 5 minutes is 0.2 K for a controller acting every minute, 3 K every 15 minutes."""
    shield = SafetyShield(AIR_ACTIONS, step_s=step_s)
    prev = np.array([22.0, 12.0, 12.0])
    d = shield.filter(np.array([27.0, 12.0, 12.0]), prev, obs(), prev)
    assert d.setpoints[0] == pytest.approx(22.0 + moved_k)


def test_shield_falls_back_when_the_margin_is_thin():
    shield = SafetyShield(AIR_ACTIONS, gpu_margin_k=5.0)
    prev = np.array([22.0, 12.0, 12.0])
    d = shield.filter(
        np.array([23.0, 13.0, 12.0]), prev, obs(gpu_temp_max_c=83.0), np.array([21.0, 11.0, 12.0])
    )
    assert d.used_fallback and "fallback_margin" in d.interventions
    d = shield.filter(
        np.array([23.0, 13.0, 12.0]), prev, obs(inlet_temp_max_c=30.5), np.array([21.0, 11.0, 12.0])
    )
    assert d.used_fallback
    assert shield.counts["fallback_margin"] == 2 and len(shield.log) == 2


@pytest.mark.parametrize("name", list(CONTROLLERS))
@pytest.mark.parametrize("specs", [AIR_ACTIONS, LIQUID_ACTIONS], ids=["air", "liquid"])
def test_baselines_stay_in_range(name, specs):
    c = make_controller(name, specs)
    for o in (obs(), obs(gpu_temp_max_c=95.0, inlet_temp_max_c=35.0), obs(outdoor_wet_bulb_c=-20.0)):
        a = c.act(o)
        assert a.shape == (len(specs),)
        assert all(s.low <= v <= s.high for s, v in zip(specs, a, strict=True))


def test_rule_based_cools_when_the_inlet_is_hot():
    c = make_controller("rule-based", AIR_ACTIONS)
    assert c.act(obs(inlet_temp_max_c=29.0))[0] < c.act(obs(inlet_temp_max_c=23.0))[0]


def test_pid_lowers_supply_temperature_when_gpus_run_hot_and_resets():
    pid = PIDHottestGPU(LIQUID_ACTIONS)
    hot = [pid.act(obs(gpu_temp_max_c=85.0))[0] for _ in range(5)]
    assert hot[-1] < hot[0] < LIQUID_ACTIONS[0].default
    pid.reset()
    assert pid.act(obs(gpu_temp_max_c=75.0))[0] == pytest.approx(LIQUID_ACTIONS[0].default)


def test_unknown_controller():
    with pytest.raises(KeyError, match="rule-based"):
        make_controller("mpc", AIR_ACTIONS)
