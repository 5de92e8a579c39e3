"""Simulate a 10,000-GPU hall and print GPU-steps per second.

Run with ``make bench`` (or ``python benchmarks/bench_hall.py``). The hall is the air-cooled
plant (the costliest thermal path: airflow-dependent resistance and in-node preheat) running a
training job; the figure is the whole step loop (weather, IT physics, plant, power chain,
metrics), without telemetry writes. The same loop at 1,000 GPUs is timed as a baseline in the
same process, so the ratio shows how cost scales with GPU count on this machine.
"""

from __future__ import annotations

import platform
import time

from aidc.scenario import validate_scenario
from aidc.sim.build import build_simulation
from aidc.telemetry.metrics import RunMetrics


def hall(racks: int, steps: int) -> dict:
    return {
        "name": f"bench-{racks * 40}",
        "seed": 0,
        "duration_s": 10.0 * steps,
        "dt_s": 10.0,
        "weather": {"climate": "greensboro-nc", "start": "07-15 12:00"},
        "halls": [
            {
                "name": "hall",
                "rows": racks // 25,
                "racks_per_row": 25,
                "nodes_per_rack": 5,
                "gpu": "H100-SXM",
                "cooling": {"type": "air"},
                "jobs": [{"type": "training", "name": "pretrain"}],
            }
        ],
    }


def gpu_steps_per_second(racks: int, steps: int) -> tuple[int, float]:
    sc = validate_scenario(hall(racks, steps))
    sim = build_simulation(sc)
    metrics = RunMetrics(sim.config(), 0.0)
    gpus = sim.halls[0].n
    t0 = time.perf_counter()
    for rec in sim.run():
        metrics.add(rec)
    elapsed = time.perf_counter() - t0
    return gpus, gpus * sc.steps / elapsed


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    small_gpus, small = gpu_steps_per_second(racks=25, steps=2000)
    big_gpus, big = gpu_steps_per_second(racks=250, steps=1000)
    print(f"{small_gpus:>6,} GPUs: {small:,.0f} GPU-steps/s")
    print(f"{big_gpus:>6,} GPUs: {big:,.0f} GPU-steps/s ({big / small:.1f}× the 1,000-GPU rate)")
    print(f"one simulated day at 10 s steps, {big_gpus:,} GPUs: {big_gpus * 8640 / big:.1f} s")


if __name__ == "__main__":
    main()
