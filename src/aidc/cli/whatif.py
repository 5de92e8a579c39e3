"""`aidc whatif SCENARIO`: the levers on a scenario's largest energy parts, each run as a variant."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from aidc.cli.common import app, bad_input, console, load


@app.command()
def whatif(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    top: Annotated[int, typer.Option(min=1, max=11, help="levers on this many of the largest parts")] = 3,
    hours: Annotated[
        float | None, typer.Option(min=0.1, max=8760.0, help="simulate this long after warm-up")
    ] = None,
) -> None:
    """Profile SCENARIO, then run it again with each lever aimed at its largest parts (a GPU power
    cap, colder or warmer coolant, 800 V DC distribution) and compare facility energy, work and
    energy per unit of work (and, with a serving job, its tokens per kWh and p99 latencies)."""
    from aidc.scenario import ScenarioError, validate_scenario
    from aidc.telemetry.whatif import what_ifs
    from aidc.units import J_PER_KWH

    sc = load(scenario)
    if hours is not None:
        sc = validate_scenario(sc.model_dump(mode="json") | {"duration_s": sc.warmup_s + 3600.0 * hours})
    try:
        base, variants = what_ifs(sc, top)
    except ScenarioError as e:
        raise bad_input(e.problems, str(scenario)) from None
    parts = sorted(base.profile.by_part().items(), key=lambda kv: -kv[1])[:top]
    console.print(
        f"base: {base.facility_kwh:,.1f} kWh, {base.work_tflop / 1e6:,.3f} EFLOP; largest parts: "
        + ", ".join(f"{p} {j / J_PER_KWH:,.1f} kWh" for p, j in parts)
    )
    serving = bool(base.summary.get("serving"))
    table = Table(title=f"what-ifs on {sc.name} (each a full run of the variant)")
    columns = ["lever", "aimed at", "facility", "work", "energy per work", "hottest GPU"]
    columns += ["tokens per kWh", "TTFT p99", "TPOT p99"] if serving else []
    for name in columns:
        table.add_column(name, justify="left" if name in ("lever", "aimed at") else "right")
    for lever, outcome in sorted(variants, key=lambda v: v[1].against(base)["energy_per_work_pct"]):
        d = outcome.against(base)
        hottest = outcome.summary["halls"][0].get("gpu_temp_max_c")
        cells = [
            lever.name,
            ", ".join(lever.targets),
            f"{d['facility_pct']:+.2f} %",
            f"{d['work_pct']:+.2f} %",
            f"{d['energy_per_work_pct']:+.2f} %",
            "–" if hottest is None else f"{hottest:.1f} °C",
        ]
        if serving:  # the first serving job's figures against the base's
            cells += [
                _change(outcome.summary, base.summary, key)
                for key in ("output_tokens_per_facility_kwh", "ttft_p99_s", "tpot_p99_s")
            ]
        table.add_row(*cells)
    console.print(table)


def _change(summary: dict, base: dict, key: str) -> str:
    new, old = summary["serving"][0].get(key), base["serving"][0].get(key)
    return "–" if not new or not old else f"{100 * (new / old - 1):+.2f} %"
