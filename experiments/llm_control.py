"""The LLM cooling controller against the baselines and IQL on held-out days, per hall.

For each hall: log the default behaviour policies on Greensboro's odd months (as
``cooling_control.py`` does, seed 1), train IQL on that log, then evaluate on held-out days the
fixed, rule-based and PI baselines, the IQL policy and the LLM controller (SmolLM2-135M in
process, demonstrations drawn from the same log by nearest state, a rationale every sixth
decision). Besides cooling energy and violations it reports what the issue asks of an LLM
controller: the standard deviation of the hottest GPU's temperature (stability), setpoint churn
(the mean absolute change per step, in shares of each setpoint's range), the valid-action and
faithful-rationale shares, shield interventions and decision latency.

Run: ``python experiments/llm_control.py [--halls liquid air] [--days N]``; the LLM decides about
once a second on one core, so a held-out day of 288 decisions takes ~6 minutes; the default is
two days per hall (Greensboro in August, Miami in July), ``--days 8`` the whole held-out set.
Writes ``results/llm_control.json`` and, per hall, ``results/llm_control_<hall>/`` (results.json,
evaluation.html, audit.parquet).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from aidc.control.api import (
    COOLING_IQL,
    collect_dataset,
    evaluate_controllers,
    heldout_episodes,
    make_env,
    train_policy,
    write_evaluation,
)

RESULTS = Path(__file__).parent / "results"
KEYS = (
    "cooling_kwh",
    "pue",
    "gpu_violation_gpu_h",
    "inlet_excess_k_h",
    "throttled_gpu_h",
    "shield_interventions",
)


def days(n: int) -> list[dict]:
    held = heldout_episodes()
    first = [held[3], held[7]]  # Greensboro in August, Miami in July: the hottest held-out days
    return first + [e for e in held if e not in first][: max(n - 2, 0)] if n >= 2 else first[:n]


def stability(result: dict, names: list[str]) -> dict:
    """The hottest GPU's standard deviation and the setpoints' churn, from the step trace."""
    trace = result["trace"]
    temps = [row["gpu_temp_max_c"] for row in trace]
    churn = {}
    for name in names:
        values = np.array([row[name] for row in trace])
        churn[name] = float(np.mean(np.abs(np.diff(values)))) if values.size > 1 else 0.0
    return {"gpu_temp_max_std_k": statistics.pstdev(temps), "churn_per_step": churn}


def run_hall(kind: str, n_days: int, work: Path) -> dict:
    t0 = time.perf_counter()
    data = collect_dataset(kind, work / f"{kind}.parquet", seed=1000)
    policy = train_policy(data, work / f"{kind}.pt", type(COOLING_IQL)(**{**COOLING_IQL.__dict__, "seed": 1}))
    names = ["fixed", "rule-based", "pid", str(policy), "llm"]
    episodes = days(n_days)
    results = evaluate_controllers(kind, names, episode_list=episodes, demos=data)
    results = {("iql" if name == str(policy) else name): r for name, r in results.items()}
    write_evaluation(results, RESULTS / f"llm_control_{kind}", kind=kind, episode_list=episodes)
    specs = [s.name for s in make_env(kind).specs]
    out = {"episodes": episodes, "controllers": {}}
    for label, r in results.items():
        row = {k: r[k] for k in KEYS} | stability(r, specs)
        if "llm" in r:
            row["llm"] = r["llm"]
        out["controllers"][label] = row
        print(f"{kind} {label}: {row}", flush=True)
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--halls", nargs="+", default=["liquid", "air"])
    ap.add_argument("--days", type=int, default=2)
    args = ap.parse_args()
    RESULTS.mkdir(exist_ok=True)
    report = {"machine": platform.processor() or platform.machine(), "halls": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.halls:
            report["halls"][kind] = run_hall(kind, args.days, Path(tmp))
            (RESULTS / "llm_control.json").write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
