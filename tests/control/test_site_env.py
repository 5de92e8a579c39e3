"""aidc/SitePower-v0: Gymnasium's contract, determinism, the levers, and the site controllers
against each other (follow-cap meets a call that hold breaks; carbon-threshold cuts carbon)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import aidc.control  # noqa: F401  (registers the environments)
from aidc.control.site_controllers import SITE_CONTROLLERS, run_site_controller
from aidc.control.site_env import SiteObservation, SitePowerEnv
from aidc.scenario import validate_scenario
from conftest import example_dict


def test_the_registered_environment_passes_gymnasiums_checks():
    env = gym.make("aidc/SitePower-v0")
    check_env(env.unwrapped, skip_render_check=True)
    assert env.action_space.shape == (3,)  # battery, GPU caps, one flexible job


def test_two_environments_with_one_seed_and_one_action_sequence_agree():
    rng = np.random.default_rng(7)
    actions = rng.uniform(-1.0, 1.0, (6, 3)).astype(np.float32)
    runs = []
    for _ in range(2):
        env = SitePowerEnv()
        obs, _ = env.reset(seed=3)
        trace = [obs]
        for a in actions:
            obs, reward, *_ = env.step(a)
            trace += [obs, np.array([reward])]
        runs.append(np.concatenate(trace))
    np.testing.assert_array_equal(runs[0], runs[1])


def test_the_levers_move_the_battery_the_caps_and_the_job():
    env = SitePowerEnv()
    env.reset(seed=0)
    _, _, _, _, full = env.step(np.array([0.0, 1.0, -1.0], np.float32))
    obs, _, _, _, capped = env.step(np.array([1.0, -1.0, 1.0], np.float32))  # discharge, lowest caps, pause
    paused = SiteObservation.size()  # the first entry after the observation's fields
    assert obs[paused] == 1.0 and env.sim.site.battery_command_w == pytest.approx(100e3)
    assert all(h.power_cap_w == h.spec.power_cap_min_w for h in env.sim.halls)
    assert capped["pflop"] < 0.5 * full["pflop"]  # the checkpoint takes a minute, then nothing


def test_follow_cap_meets_the_call_that_hold_breaks():
    env = SitePowerEnv()
    hold, follow = run_site_controller(env, "hold"), run_site_controller(env, "follow-cap")
    assert hold["dr_excess_kwh"] > 150.0
    assert follow["dr_excess_kwh"] < 0.15 * hold["dr_excess_kwh"]
    assert 0.95 * hold["pflop"] < follow["pflop"] <= hold["pflop"]
    assert follow["reward"] > hold["reward"]


def test_carbon_threshold_pauses_the_flexible_job_when_the_grid_is_dirty(tmp_path):
    # a synthetic daily carbon shape, only to drive the policy (aidc ships no grid data)
    hours = np.arange(8760)
    carbon = 400.0 + 200.0 * np.cos(2 * np.pi * (hours % 24 - 10) / 24)
    csv = tmp_path / "grid.csv"
    rows = (f"{h},{c:.1f}" for h, c in zip(hours, carbon, strict=True))
    csv.write_text("hour_of_year,carbon_g_per_kwh\n" + "\n".join(rows))
    d = example_dict("site_power_256.toml")
    d["site"]["grid_signals_file"] = str(csv)
    d["site"]["demand_response"] = []
    env = SitePowerEnv(validate_scenario(d))
    hold, shifted = run_site_controller(env, "hold"), run_site_controller(env, "carbon-threshold")
    assert shifted["carbon_t"] < 0.9 * hold["carbon_t"]
    assert shifted["pflop"] < hold["pflop"]  # paused work is not made up within the episode


def test_an_admission_limit_scales_a_serving_job_in():
    # eight Llama-3.1-8B replicas on one air-cooled 8×H100 node, 40 requests/s
    d = example_dict("cooling_matters_air.toml")
    d["duration_s"], d["warmup_s"], d["dt_s"] = 1800.0, 0.0, 10.0
    serving = {"type": "serving", "name": "chat", "model": "llama-3.1-8b", "trace": "azure-conv"}
    d["halls"][0]["jobs"] = [serving | {"rate_per_s": 40.0}]
    d["site"] = {"battery": {"capacity_kwh": 10.0, "max_charge_kw": 5.0, "max_discharge_kw": 5.0}}
    runs = {}
    for limit in (1.0, 0.0, -1.0):  # all eight replicas, four, one
        env = SitePowerEnv(validate_scenario(d), control_step_s=300.0)
        env.reset(seed=0)
        assert env.action_space.shape == (3,)  # battery, caps, one serving job
        obs, _, _, _, info = env.step(np.array([0.0, 1.0, limit], np.float32))
        runs[limit] = (obs[-1], info["pflop"], info["grid_kwh"])
    (_, work, grid), (_, half_work, half_grid), (queue, one_work, one_grid) = runs.values()
    assert half_work == pytest.approx(work, rel=0.01) and half_grid < 0.9 * grid  # same work, bigger batches
    assert queue > 1000 and one_work < 0.7 * work and one_grid < half_grid  # one replica: a queue


def test_cleanest_hours_does_the_same_work_as_hold_with_less_carbon_and_the_threshold_does_not():
    # a March week of ERCOT 2022; the flexible job needs 60 % of what the hall could do in it (over
    # three days the checkpoints and restores of a pause a day cost more than the shift saves)
    d = example_dict("site_power_256.toml")
    d["site"] |= {"grid_signals": "ercot-2022", "demand_response": []}
    d["duration_s"], d["dt_s"], d["weather"]["start"] = 7 * 86400.0, 600.0, "03-07 00:00"
    hold = run_site_controller(SitePowerEnv(validate_scenario(d), control_step_s=3600.0), "hold")
    d["halls"][0]["jobs"][0]["work_pflop"] = 0.6 * hold["pflop"]
    env = SitePowerEnv(validate_scenario(d), control_step_s=3600.0)
    runs = {name: run_site_controller(env, name) for name in ("hold", "carbon-threshold", "cleanest-hours")}
    target = d["halls"][0]["jobs"][0]["work_pflop"]
    assert runs["hold"]["pflop"] == pytest.approx(target, rel=1e-9)  # done early, then idle
    assert runs["cleanest-hours"]["pflop"] == pytest.approx(target, rel=1e-9)
    assert runs["cleanest-hours"]["carbon_t"] < 0.99 * runs["hold"]["carbon_t"]
    assert runs["carbon-threshold"]["pflop"] < target  # pausing half the hours misses the work


def test_every_controller_is_registered_by_name():
    assert set(SITE_CONTROLLERS) == {"hold", "follow-cap", "carbon-threshold", "cleanest-hours"}


def test_a_scenario_without_a_meter_is_refused():
    d = example_dict("cooling_matters_liquid.toml")
    with pytest.raises(ValueError, match=r"\[site\]"):
        SitePowerEnv(validate_scenario(d))
