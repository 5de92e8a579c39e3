"""`aidc validate`, `run`, `compare`, `report`: a scenario into a run folder, and what to read of it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from aidc.cli.common import (
    ExitCode,
    app,
    bad_input,
    console,
    err_console,
    load,
    signals_stop,
    stopped,
)
from aidc.report.summary import summary_table
from aidc.scenario import ScenarioError


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help="scenario TOML file")]) -> None:
    """Check a scenario file without running it (its components are built: traces, weather, fits)."""
    from aidc.sim.build import build_simulation

    sc = load(scenario)
    try:
        build_simulation(sc)
    except ScenarioError as e:
        raise bad_input(e.problems, str(scenario)) from None
    gpus = sum(h.gpu_count for h in sc.halls)
    console.print(
        f"[green]valid[/]: {scenario} — {len(sc.halls)} hall(s), {gpus:,} GPUs, "
        f"{sc.steps:,} steps of {sc.dt_s:g} s"
    )


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    out: Annotated[Path | None, typer.Option(help="run folder (default runs/<scenario name>)")] = None,
    sample_s: Annotated[
        float | None, typer.Option("--sample-s", help="keep one telemetry sample every N seconds")
    ] = None,
    overwrite: Annotated[
        bool, typer.Option(help="replace an existing run folder (only an aidc run, only aidc's files)")
    ] = False,
) -> None:
    """Simulate a scenario and write its run folder."""
    from aidc.api import run_scenario
    from aidc.scenario import validate_scenario
    from aidc.sim.build import build_simulation
    from aidc.telemetry.folder import OutputError, check_run_folder

    sc = load(scenario)
    if sample_s is not None:
        data = sc.model_dump()
        data["telemetry"]["sample_s"] = sample_s
        try:
            sc = validate_scenario(data, "--sample-s")
        except ScenarioError as e:
            raise bad_input(e.problems, "--sample-s") from None
    out = out or Path("runs") / sc.name
    try:
        check_run_folder(out, overwrite)
    except OutputError as e:
        raise bad_input([str(e)], "--out") from None
    try:
        sim = build_simulation(sc)
    except ScenarioError as e:
        raise bad_input(e.problems, str(scenario)) from None
    try:
        with signals_stop(), _progress(sc.name, sc.steps) as tick:
            result = run_scenario(sc, out, overwrite=overwrite, progress=tick, source=str(scenario), sim=sim)
    except OutputError as e:  # claimed by another writer meanwhile: nothing was written
        raise bad_input([str(e)], "--out") from None
    except KeyboardInterrupt as e:
        raise stopped(e, f"{out} is marked incomplete, with every chunk flushed so far") from None
    except Exception as e:  # the store has marked the run incomplete
        err_console.print(f"[bold red]run failed[/]: {type(e).__name__}: {e}; {out} is marked incomplete")
        raise typer.Exit(ExitCode.RUN_FAILED) from None
    console.print(summary_table([result]))
    console.print(f"run written to [bold]{out}[/]")


@contextmanager
def _progress(name: str, steps: int) -> Iterator[Callable[[int], None]]:
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    with progress:
        task = progress.add_task(name, total=steps)
        every = max(steps // 200, 1)

        def tick(k: int) -> None:
            if k % every == 0 or k == steps - 1:
                progress.update(task, completed=k + 1)

        yield tick


def _open_run(path: Path):
    from aidc.telemetry.store import Run, RunError

    try:
        return Run(path)
    except RunError as e:
        raise bad_input([str(e)], str(path)) from None


@app.command()
def compare(runs: Annotated[list[Path], typer.Argument(help="two or more run folders")]) -> None:
    """Show the headline metrics of runs side by side (a stopped run shows what it has)."""
    if len(runs) < 2:
        raise bad_input(["give at least two run folders"], "compare")
    console.print(summary_table([_open_run(p) for p in runs]))


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="run folder")],
    out: Annotated[Path | None, typer.Option(help="HTML file (default RUN/report.html)")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing --out file")] = False,
) -> None:
    """Write a self-contained HTML report with charts of a run (a stopped run shows what it has)."""
    from aidc.report.html import write_report
    from aidc.telemetry.folder import OutputError, check_writable_file
    from aidc.telemetry.store import RunError

    r = _open_run(run_dir)
    target = out or run_dir / "report.html"
    try:  # the default report is aidc's own file in the run folder, replaced at will
        check_writable_file(target, overwrite=overwrite or out is None, what="report")
    except OutputError as e:
        raise bad_input([str(e)], "--out") from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target = write_report(r, target)
    except RunError as e:
        raise bad_input([str(e)], str(run_dir)) from None
    console.print(f"report written to [bold]{target}[/]")


