"""Gymnasium contract and safety of the cooling environments."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import aidc.control
from aidc.control.spaces import AIR_ACTIONS, LIQUID_ACTIONS, to_normalized
from aidc.control.twin import control_scenario

SMALL = {"racks": 4}  # 128 GPUs: the same physics, faster tests


def make(env_id: str, **kw) -> gym.Env:
    kind = "air" if "Air" in env_id else "liquid"
    return gym.make(env_id, scenario=control_scenario(kind, **SMALL), episode_hours=2.0, **kw)


@pytest.mark.parametrize("env_id", aidc.control.ENV_IDS)
def test_check_env_passes(env_id):
    check_env(make(env_id).unwrapped, skip_render_check=True)


@pytest.mark.parametrize("env_id", aidc.control.ENV_IDS)
def test_same_seed_same_rollout(env_id):
    rollouts = []
    for _ in range(2):
        env = make(env_id)
        env.action_space.seed(3)
        obs, _ = env.reset(seed=11, options={"start": "01-20 06:00"})
        trace = [obs]
        for _ in range(6):
            obs, reward, *_ = env.step(env.action_space.sample())
            trace += [obs, np.array([reward])]
        rollouts.append(np.concatenate(trace))
    np.testing.assert_array_equal(rollouts[0], rollouts[1])


def test_reset_options_change_the_weather():
    env = make("aidc/AirCooling-v0")
    a, _ = env.reset(seed=0, options={"climate": "sand-point-ak", "start": "01-15 06:00"})
    b, _ = env.reset(seed=0, options={"climate": "miami-fl", "start": "07-15 14:00"})
    assert b[0] > a[0] + 20  # outdoor dry-bulb: Alaska in January vs Miami in July
    with pytest.raises(ValueError, match="unknown reset options"):
        env.reset(seed=0, options={"workload": "x"})


def test_episode_truncates_after_its_hours():
    env = make("aidc/LiquidCooling-v0")
    env.reset(seed=0)
    steps, truncated = 0, False
    while not truncated:
        *_, truncated, _ = env.step(env.action_space.sample())
        steps += 1
    assert steps == 24  # 2 h of 5-min control steps


# Wider ranges and faster moves than the defaults (which are safe on their own: even their
# hottest corner keeps a Miami July afternoon violation-free), so that a bad policy can hurt.
WIDE = {
    "aidc/AirCooling-v0": (
        dataclasses.replace(AIR_ACTIONS[0], high=35.0, max_step=3.0),
        dataclasses.replace(AIR_ACTIONS[1], high=25.0, max_step=3.0),
        AIR_ACTIONS[2],
    ),
    "aidc/LiquidCooling-v0": (
        dataclasses.replace(LIQUID_ACTIONS[0], high=50.0, max_step=3.0),
        dataclasses.replace(LIQUID_ACTIONS[1], low=0.1, max_step=0.3),
    ),
}


def _episode(env_id, policy, shielded=True, seed=5):
    env = make(env_id, specs=WIDE[env_id], shielded=shielded)
    env.reset(seed=seed, options={"start": "07-15 12:00", "climate": "miami-fl"})
    rng = np.random.default_rng(seed)
    viol = throttled = 0.0
    for _ in range(24):
        _, _, terminated, _, info = env.step(policy(rng, env.unwrapped))
        viol += info["gpu_violation_gpu_h"] + info["inlet_excess_k_h"]
        throttled += info["throttled_gpu_h"]
        if terminated:
            viol += 1e6  # a shutdown is the worst violation
            break
    return viol, throttled, env.unwrapped.shield.counts if shielded else None


@pytest.mark.parametrize("env_id", aidc.control.ENV_IDS)
def test_adversarial_policies_cannot_cause_violations_the_baseline_avoids(env_id):
    """Random, extreme (hottest setpoints, least flow) and NaN actions, on a hot afternoon."""
    n = len(WIDE[env_id])
    hottest = np.array([1.0] * (n - 1) + [-1.0], dtype=np.float32)
    policies = {
        "random": lambda rng, env: rng.uniform(-1, 1, n).astype(np.float32),
        "extreme-hot": lambda rng, env: hottest,
        "nan": lambda rng, env: np.full(n, np.nan, dtype=np.float32),
    }

    def rule_based(rng, env):
        return to_normalized(env.fallback.act(env.cooling_observation), env.specs).astype(np.float32)

    base_viol, base_thr, _ = _episode(env_id, rule_based)
    unshielded, _, _ = _episode(env_id, policies["extreme-hot"], shielded=False)
    assert unshielded > base_viol + 1.0  # the attack is real: without the shield it overheats GPUs
    for name, policy in policies.items():
        viol, thr, counts = _episode(env_id, policy)
        assert viol <= base_viol + 1e-9, name
        assert thr <= base_thr + 1e-9, name
        if name == "nan":
            assert counts["non_finite"] == 24


def test_preview_leaves_the_twin_unchanged_and_its_first_step_is_reused_exactly():
    """A preview runs on a copy; advancing with the previewed setpoints adopts the copy's first
    step, which must equal computing it afresh, and other setpoints must not adopt it."""
    from aidc.control.twin import HallTwin

    def fresh(setpoints):
        twin = HallTwin(control_scenario("liquid", racks=2))
        twin.reset(seed=3)
        twin.apply(setpoints)
        return twin.advance(300.0)

    hot, cold = np.array([35.0, 0.6]), np.array([20.0, 1.0])
    for taken in (hot, cold):
        twin = HallTwin(control_scenario("liquid", racks=2))
        twin.reset(seed=3)
        before = twin.sim
        twin.preview([hot, cold], 300.0)
        assert twin.sim is before and twin.t_s == 60.0
        twin.apply(taken)
        step = twin.advance(300.0)
        assert step == fresh(taken)
        assert (twin.sim is before) == (taken is cold)  # only the previewed setpoints adopt the copy
