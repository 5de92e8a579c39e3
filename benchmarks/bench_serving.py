"""Simulated requests per second of wall time: the Azure LLM conversation trace 2023 (19,366
requests over ~58 minutes) served by one 8-GPU replica, and by 16 replicas with the trace sped up
16× (so each replica sees the original load). Two deployments: DeepSeek-V3 in FP8 on 8×H200
(expert-parallel, MTP at 85 %) and Llama-3.1-70B in BF16 on 8×H100 (tensor-parallel).

Run with ``python benchmarks/bench_serving.py``; each figure is the best of three runs.
"""

from __future__ import annotations

import platform
import time

from aidc.hardware.catalog import get_gpu
from aidc.hardware.interconnect import LINKS
from aidc.model.presets import get_preset
from aidc.workload.serving import Pool, SchedulerConfig, ServingSim
from aidc.workload.steptime import Deployment
from aidc.workload.traces import load_trace

NVLINK = LINKS["nvlink4"]
DEPLOYMENTS = {
    "DeepSeek-V3 FP8, 8×H200, EP, MTP": (
        Deployment(
            get_preset("deepseek-v3"),
            get_gpu("H200-SXM"),
            tp=8,
            expert_parallel=True,
            precision="fp8",
            link=NVLINK,
        ),
        SchedulerConfig(mtp_acceptance=0.85),
    ),
    "Llama-3.1-70B BF16, 8×H100, TP": (
        Deployment(get_preset("llama-3.1-70b"), get_gpu("H100-SXM"), tp=8, link=NVLINK),
        SchedulerConfig(),
    ),
}


def rate(dep, sched, replicas: int) -> tuple[float, int]:
    trace = load_trace("azure-conv")
    if replicas > 1:
        trace = trace.compressed(replicas)
    best = 0.0
    for _ in range(3):
        sim = ServingSim([Pool(dep, replicas)], trace, scheduler=sched, router="least-loaded")
        t0 = time.perf_counter()
        res = sim.run()
        best = max(best, len(trace) / (time.perf_counter() - t0))
        assert res.finished == len(trace)
    return best, sum(r["steps"] for r in res.replicas)


def main() -> None:
    print(f"machine: {platform.machine()}, Python {platform.python_version()}; Azure conversation trace 2023")
    print(f"{'deployment':>36} {'replicas':>9} {'requests/s (wall)':>18} {'engine steps':>13}")
    for name, (dep, sched) in DEPLOYMENTS.items():
        for replicas in (1, 16):
            r, steps = rate(dep, sched, replicas)
            print(f"{name:>36} {replicas:>9} {r:>18,.0f} {steps:>13,}")


if __name__ == "__main__":
    main()
