"""Simulate halls of 1,000, 10,000 and 100,000 GPUs and print GPU-steps per second.

Run with ``make bench`` (or ``python benchmarks/bench_hall.py``). The hall is the air-cooled
plant (the costliest thermal path: airflow-dependent resistance and in-node preheat) running a
training job; the figure is the whole step loop (weather, IT physics, plant, power chain,
metrics), without telemetry writes, after a few warm-up steps (the compiled kernels load from
numba's cache on their first call; start-up is timed on its own, in a fresh process). In the same
process the numpy reference path (``AIDC_KERNELS=numpy``) runs the 10,000-GPU hall as the
baseline, so the ratio is the compiled kernels' speed-up on this machine; the cost per GPU-step
at the three sizes shows whether it stays linear.
"""

from __future__ import annotations

import platform
import subprocess
import sys
import time
from pathlib import Path

from aidc.hardware import kernels
from aidc.scenario import validate_scenario
from aidc.sim.build import build_simulation
from aidc.telemetry.metrics import RunMetrics

WARM_UP_STEPS = 20


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
                "rows": max(racks // 25, 1),
                "racks_per_row": min(racks, 25),
                "nodes_per_rack": 5,
                "gpu": "H100-SXM",
                "cooling": {"type": "air"},
                "jobs": [{"type": "training", "name": "pretrain"}],
            }
        ],
    }


def gpu_steps_per_second(racks: int, steps: int) -> tuple[int, float]:
    sc = validate_scenario(hall(racks, steps + WARM_UP_STEPS))
    sim = build_simulation(sc)
    metrics = RunMetrics(sim.config(), 0.0)
    gpus = sim.halls[0].n
    records = sim.run()
    for _ in range(WARM_UP_STEPS):
        metrics.add(next(records))
    t0 = time.perf_counter()
    for rec in records:
        metrics.add(rec)
    return gpus, gpus * steps / (time.perf_counter() - t0)


START_UP = """
import sys, time
t0 = time.perf_counter()
sys.path.insert(0, {bench!r})
from bench_hall import RunMetrics, build_simulation, hall, validate_scenario
sim = build_simulation(validate_scenario(hall(250, 10)))
metrics = RunMetrics(sim.config(), 0.0)
metrics.add(next(sim.run()))
print(time.perf_counter() - t0)
"""


def start_up_s() -> float:
    """A fresh interpreter's imports, scenario, weather, build and first step of the 10,000-GPU
    hall [s], the median of three (the first also fills numba's cache if it is empty)."""
    code = START_UP.format(bench=str(Path(__file__).parent))
    runs = []
    for _ in range(3):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        runs.append(float(out.stdout))
    return sorted(runs)[1]


def main() -> None:
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"start-up (imports, weather, build, first step of 10,000 GPUs): {start_up_s():.2f} s")
    kernels.USE_COMPILED = False
    ref_gpus, reference = gpu_steps_per_second(racks=250, steps=300)
    kernels.USE_COMPILED = True
    rates = [gpu_steps_per_second(racks, steps) for racks, steps in ((25, 3000), (250, 1000), (2500, 100))]
    for gpus, rate in rates:
        print(f"{gpus:>7,} GPUs: {rate:>12,.0f} GPU-steps/s   {1e9 / rate:5.1f} ns per GPU-step")
    big = rates[1][1]
    print(f"numpy reference, {ref_gpus:,} GPUs: {reference:,.0f} GPU-steps/s", end="; ")
    print(f"compiled {big / reference:.2f}× that")
    print(f"one simulated day at 10 s steps, {ref_gpus:,} GPUs: {ref_gpus * 8640 / big:.1f} s")


if __name__ == "__main__":
    main()
