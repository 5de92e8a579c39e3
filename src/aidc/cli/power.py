"""`aidc power-quality`: a training job's power swings as the grid sees them, and what a GPU power
floor, a ramp limit or a battery make of them (:mod:`aidc.sim.power_quality`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from aidc.cli.common import app, bad_input, console, load, writable
from aidc.scenario import ScenarioError, TrainingJob


def _training_job(sc, hall: str | None, job: str | None) -> tuple[int, int]:
    """The indices of the hall and training job named (the first of each if not)."""
    for h, hcfg in enumerate(sc.halls):
        if hall is not None and hcfg.name != hall:
            continue
        for j, jcfg in enumerate(hcfg.jobs):
            if isinstance(jcfg, TrainingJob) and (job is None or jcfg.name == job):
                return h, j
    names = [f"{hc.name}/{jc.name}" for hc in sc.halls for jc in hc.jobs if isinstance(jc, TrainingJob)]
    problem = f"no training job {job or ''} in hall {hall or '(any)'}; training jobs: {names or 'none'}"
    raise bad_input([problem], "--job")


@app.command("power-quality")
def power_quality(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    hall: Annotated[
        str | None, typer.Option(help="hall name (default: the first with a training job)")
    ] = None,
    job: Annotated[str | None, typer.Option(help="training job name (default: the hall's first)")] = None,
    seconds: Annotated[float, typer.Option(min=1.0, max=3600.0, help="record length [s]")] = 120.0,
    sample_hz: Annotated[float, typer.Option(min=1.0, max=2000.0, help="samples per second")] = 100.0,
    floor_frac: Annotated[float, typer.Option(min=0.0, max=0.9, help="GPU power floor, share of TDP")] = 0.65,
    ramp_w_per_s: Annotated[float, typer.Option(min=0.0, help="GPU ramp limit [W/s]; 0: none")] = 0.0,
    battery_kw: Annotated[float, typer.Option(min=0.0, help="battery at the meter [kW]; 0: none")] = 0.0,
    battery_kwh: Annotated[float, typer.Option(min=0.0, help="its energy [kWh]")] = 0.0,
    battery_window_s: Annotated[float, typer.Option(min=0.01, help="its smoothing window [s]")] = 10.0,
    out: Annotated[Path | None, typer.Option(help="HTML page of the waveforms and spectra")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing --out file")] = False,
) -> None:
    """Resolve a synchronized training job's power in time after the twin's warm-up: its swing,
    ramps and 0.1–20 Hz content at the meter, raw and mitigated."""
    from aidc.report.power_quality import ROWS, write_power_quality
    from aidc.sim.build import build_simulation
    from aidc.sim.power_quality import Mitigations, training_power_quality

    sc = load(scenario)
    h, j = _training_job(sc, hall, job)
    if (battery_kw > 0.0) != (battery_kwh > 0.0):
        raise bad_input(["--battery-kw and --battery-kwh go together (both > 0)"], "--battery-kw")
    if out is not None:
        writable(out, overwrite, "--out", "page")
    try:
        sim = build_simulation(sc)
    except ScenarioError as e:
        raise bad_input(e.problems, str(scenario)) from None
    mitigations = Mitigations(floor_frac, ramp_w_per_s or None, battery_kw, battery_kwh, battery_window_s)
    result = training_power_quality(sim, h, j, seconds, sample_hz, mitigations)
    table = Table(title=f"power quality: {sc.halls[h].name}/{sc.halls[h].jobs[j].name}")
    table.add_column("")
    for name in result["cases"]:
        table.add_column(name, justify="right")
    for key, label, scale in ROWS:
        cells = [result["cases"][c].get(key) for c in result["cases"]]
        if any(v is not None for v in cells):
            table.add_row(escape(label), *("—" if v is None else f"{v * scale:,.3g}" for v in cells))
    console.print(table)
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        console.print(f"page written to [bold]{write_power_quality(result, out, table.title)}[/]")
