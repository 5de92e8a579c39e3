"""Environment steps per second for a 1,024-GPU hall at 5-minute control steps.

Run with ``python benchmarks/bench_control_env.py``. Each figure is a median of three runs of
200 steps with random actions, after a reset: with the predictive shield (the default), with the
reactive shield only, and without a shield; and, as the in-process baseline, the bare twin
advancing 5 minutes per call (what any environment must pay), and each as a share of it.
Physics at the scenario's 60 s.
"""

from __future__ import annotations

import platform
import statistics
import time

import gymnasium as gym
import numpy as np

import aidc.control
from aidc.control.twin import HallTwin, control_scenario

STEPS = 200


def rate(fn) -> float:
    runs = []
    for _ in range(3):
        t0 = time.perf_counter()
        fn()
        runs.append(STEPS / (time.perf_counter() - t0))
    return statistics.median(runs)


def env_rate(env_id: str, **kw) -> float:
    env = gym.make(env_id, **kw).unwrapped
    env.reset(seed=0)
    rng = np.random.default_rng(0)
    n = env.action_space.shape[0]

    def run():
        for _ in range(STEPS):
            env.step(rng.uniform(-1, 1, n).astype(np.float32))

    return rate(run)


def twin_rate(kind: str) -> float:
    twin = HallTwin(control_scenario(kind))
    twin.reset(seed=0)

    def run():
        for _ in range(STEPS):
            twin.advance(300.0)

    return rate(run)


def main() -> None:
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}; 1,024 GPUs, dt 60 s, 300 s steps"
    )
    print(
        f"{'environment':>24} {'predictive':>11} {'reactive':>9} {'no shield':>10} {'bare twin':>10}  [1/s]"
    )
    for env_id, kind in zip(aidc.control.ENV_IDS, ("air", "liquid"), strict=True):
        pred = env_rate(env_id)
        react = env_rate(env_id, predictive_shield=False)
        raw = env_rate(env_id, shielded=False)
        bare = twin_rate(kind)
        print(f"{env_id:>24} {pred:>11.0f} {react:>9.0f} {raw:>10.0f} {bare:>10.0f}")
        # this machine's speed drifts by up to 2x between runs; the ratio to the bare twin does not
        print(f"{'(share of bare twin)':>24} {pred / bare:>11.2f} {react / bare:>9.2f} {raw / bare:>10.2f}")


if __name__ == "__main__":
    main()
