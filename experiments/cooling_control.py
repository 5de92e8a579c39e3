"""Offline RL for cooling on the twin, over seeds: air and direct-to-chip liquid halls.

For each hall and each seed: log the default behaviour policies (rule-based and fixed setpoints
with exploration noise, shielded) on Greensboro's odd months, train IQL from that log only, and
evaluate on the held-out days (Greensboro's even months and Miami in January and July). The seed
sets the behaviour noise and the network initialization and minibatches; the baselines do not
depend on it and run once. Cooling energy saved is reported against fixed setpoints and against
the rule-based controller, with violations and throttled GPU-hours.

Run: ``python experiments/cooling_control.py [--seeds 3]``; about 25 minutes on 2 cores. Writes
``results/cooling_control.json`` and ``results/cooling_control.png``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path

from aidc.control.api import (
    COOLING_IQL,
    collect_dataset,
    evaluate_controllers,
    heldout_episodes,
    train_policy,
)

RESULTS = Path(__file__).parent / "results"
BASELINES = ["fixed", "rule-based", "pid"]
KEYS = ("cooling_kwh", "pue", "gpu_violation_gpu_h", "inlet_excess_k_h", "throttled_gpu_h")


def run_hall(kind: str, seeds: list[int], work: Path) -> dict:
    t0 = time.perf_counter()
    base = evaluate_controllers(kind, BASELINES)
    out = {"baselines": {n: {k: r[k] for k in KEYS} for n, r in base.items()}, "iql": []}
    fixed, rule = base["fixed"]["cooling_kwh"], base["rule-based"]["cooling_kwh"]
    for seed in seeds:
        data = collect_dataset(kind, work / f"{kind}-{seed}.parquet", seed=1000 * seed)
        cfg = type(COOLING_IQL)(**{**COOLING_IQL.__dict__, "seed": seed})
        t_train = time.perf_counter()
        policy = train_policy(data, work / f"{kind}-{seed}.pt", cfg)
        train_s = time.perf_counter() - t_train
        r = evaluate_controllers(kind, [str(policy)])[str(policy)]
        row = {k: r[k] for k in KEYS} | {"seed": seed, "train_s": round(train_s, 1)}
        row["saved_vs_fixed_pct"] = 100.0 * (1.0 - r["cooling_kwh"] / fixed)
        row["saved_vs_rule_based_pct"] = 100.0 * (1.0 - r["cooling_kwh"] / rule)
        out["iql"].append(row)
        print(f"{kind} seed {seed}: {row}", flush=True)
    for key in ("saved_vs_fixed_pct", "saved_vs_rule_based_pct"):
        vals = [r[key] for r in out["iql"]]
        out[f"iql_{key}_mean"] = statistics.mean(vals)
        out[f"iql_{key}_std"] = statistics.stdev(vals) if len(vals) > 1 else 0.0
    out["rule_based_saved_vs_fixed_pct"] = 100.0 * (1.0 - rule / fixed)
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    return out


def plot(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(result["halls"]), figsize=(5 * len(result["halls"]), 4))
    for ax, (kind, r) in zip(axes, result["halls"].items(), strict=True):
        names = list(r["baselines"]) + [f"IQL s{x['seed']}" for x in r["iql"]]
        kwh = [b["cooling_kwh"] for b in r["baselines"].values()] + [x["cooling_kwh"] for x in r["iql"]]
        colors = ["tab:gray"] * len(r["baselines"]) + ["tab:blue"] * len(r["iql"])
        ax.bar(names, kwh, color=colors)
        ax.set_title(f"{kind} hall, held-out days")
        ax.set_ylabel("cooling energy [kWh]")
        ax.tick_params(axis="x", rotation=45)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--halls", default="air,liquid")
    args = ap.parse_args()
    seeds = list(range(args.seeds))
    t0 = time.perf_counter()
    result = {
        "machine": f"{platform.machine()}, Python {platform.python_version()}",
        "episodes": heldout_episodes(),
        "iql": COOLING_IQL.__dict__,
        "halls": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.halls.split(","):
            result["halls"][kind] = run_hall(kind, seeds, Path(tmp))
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "cooling_control.json").write_text(json.dumps(result, indent=1))
    plot(result, RESULTS / "cooling_control.png")
    summary = {k: {m: v for m, v in r.items() if m != "iql"} for k, r in result["halls"].items()}
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
