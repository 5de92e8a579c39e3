""" "Resolution is speed", measured: the same cooling controllers sensing and acting every 1 s,
10 s, 1 min, 5 min and 15 min, on days with one fast change, the twin's physics at 1 s throughout.

For each hall (direct-to-chip liquid and air, 1,024 H100s training) and each event of
:data:`aidc.control.resolution.EVENTS` (a load step, a weather front, a cooling fault), run the
rule-based controller, the PI on the hottest GPU, and an IQL policy trained offline on the default
5-minute behaviour logs (one seed, Greensboro's odd months, :func:`aidc.control.api.collect_dataset`)
for 6 hours at each interval, behind the reactive shield. Reports cooling, IT and facility energy, the work
delivered and the facility energy per EFLOP (a hotter GPU leaks more and, at its power cap, clocks
lower: energy alone would reward slowing the job), GPU-hours within 2 K of slowdown or throttled,
throttled GPU-hours, the hottest junction at any second, how long the shield's fallback was in
control, and when the first GPU shut down (the run stops there).

Run: ``python experiments/resolution_is_speed.py`` (about 25 minutes on 2 cores; ``--policy-dir``
reuses trained policies). Writes ``results/resolution_is_speed.json`` and ``.png``.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

from aidc.control.api import collect_dataset, train_policy
from aidc.control.resolution import EVENTS, event_scenario, run_at_interval

RESULTS = Path(__file__).parent / "results"
INTERVALS_S = (1.0, 10.0, 60.0, 300.0, 900.0)
KINDS = ("liquid", "air")
BASELINES = ("rule-based", "pid")
HOURS = 6.0


def policies(folder: Path) -> dict[str, Path]:
    """An IQL policy per hall kind, trained here unless ``folder`` already holds one."""
    out = {}
    for kind in KINDS:
        policy = folder / f"{kind}.pt"
        if not policy.is_file():
            t0 = time.perf_counter()
            data = collect_dataset(kind, folder / f"{kind}.parquet", seed=0)
            train_policy(data, policy)
            print(f"{kind}: IQL policy trained in {time.perf_counter() - t0:.0f} s", flush=True)
        out[kind] = policy
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy-dir", type=Path, default=None, help="trained policies to reuse (or keep)")
    args = parser.parse_args()
    folder = args.policy_dir or Path(tempfile.mkdtemp(prefix="aidc-resolution-"))
    folder.mkdir(parents=True, exist_ok=True)
    trained = policies(folder)
    rows = []
    t0 = time.perf_counter()
    for kind in KINDS:
        for event in EVENTS:
            scenario = event_scenario(kind, event)
            for name in (*BASELINES, "iql"):
                controller = trained[kind] if name == "iql" else name
                for interval in INTERVALS_S:
                    r = run_at_interval(scenario, controller, interval, HOURS)
                    rows.append(
                        {"hall": kind, "event": event, "controller": name, "interval_s": interval, **r}
                    )
                    print(_line(rows[-1]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = {
        "hours": HOURS,
        "physics_dt_s": 1.0,
        "events": {k: v.description for k, v in EVENTS.items()},
        "rows": rows,
        "wall_s": round(time.perf_counter() - t0, 1),
        "machine": platform.platform(),
    }
    (RESULTS / "resolution_is_speed.json").write_text(json.dumps(out, indent=1, allow_nan=True))
    plot(rows, RESULTS / "resolution_is_speed.png")


def _line(r: dict) -> str:
    return (
        f"{r['hall']:6s} {r['event']:13s} {r['controller']:10s} {r['interval_s']:5.0f} s: "
        f"cooling {r['cooling_kwh']:7.1f} kWh, IT {r['it_kwh']:7.1f} kWh, "
        f"peak {r['gpu_temp_peak_c']:5.2f} °C, "
        f"{r['facility_kwh_per_eflop']:.4f} kWh/EFLOP, near slowdown {r['gpu_violation_gpu_h']:.3f} GPU-h, "
        f"fallback {r['fallback_share']:.2f}, shutdown at {r['shutdown_h']:.2f} h"
    )


def plot(rows: list[dict], path: Path) -> None:
    """Per event (columns), over the interval: facility energy per unit of work and cooling energy
    against the same controller at 1 s [%], and the hottest junction [°C]; for the fault the hall
    does not survive, the minutes from the fault to the first shutdown instead (its runs end there,
    so their energies are not comparable). One colour per controller, solid liquid, dashed air."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [
        ("facility_kwh_per_eflop", "facility energy per EFLOP\nvs the same at 1 s [%]", True),
        ("cooling_kwh", "cooling energy\nvs the same at 1 s [%]", True),
        ("gpu_temp_peak_c", "hottest junction [°C]", False),
    ]
    colours = {"rule-based": "tab:blue", "pid": "tab:orange", "iql": "tab:green"}
    fig, axes = plt.subplots(len(metrics), len(EVENTS), figsize=(15, 9), sharex=True)
    for col, event in enumerate(EVENTS):
        survived = event != "severe-fault"
        for row, (key, label, relative) in enumerate(metrics):
            ax = axes[row][col]
            if row == 0:
                ax.set_title(event)
            if not survived and row < 2:
                ax.axis("off")
                ax.text(
                    0.5,
                    0.5,
                    "runs end at the first shutdown:\nenergies not comparable",
                    ha="center",
                    va="center",
                    transform=ax.transAxes,
                    color="grey",
                )
                continue
            for kind in KINDS:
                for name, colour in colours.items():
                    sel = [r for r in rows if (r["hall"], r["event"], r["controller"]) == (kind, event, name)]
                    sel.sort(key=lambda r: r["interval_s"])
                    if survived:
                        ys = [r[key] for r in sel]
                        ys = [100.0 * (y / ys[0] - 1.0) for y in ys] if relative else ys
                    else:
                        ys = [60.0 * (r["shutdown_h"] - 1.0) for r in sel]  # the fault starts at 1 h
                    ax.plot(
                        [r["interval_s"] for r in sel],
                        ys,
                        marker="o",
                        color=colour,
                        linestyle="-" if kind == "liquid" else "--",
                        label=f"{name} ({kind})",
                    )
            ax.set_xscale("log")
            ax.grid(True, alpha=0.3)
            ax.set_ylabel(label if survived else "first shutdown after the fault [min]")
            if row == len(metrics) - 1:
                ax.set_xlabel("sensing and control interval [s]")
    axes[0][0].legend(fontsize=7)
    fig.suptitle("Resolution is speed? Cooling controllers at 1 s … 15 min over 1 s physics (1,024 H100s)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
