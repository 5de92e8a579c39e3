"""`aidc sweep SWEEP.toml` (many runs on Ray, resumable) and `aidc capacity` (bisection over runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aidc.cli.common import ExitCode, app, bad_input, console, err_console, signals_stop, stopped
from aidc.scenario import ScenarioError


@app.command()
def sweep(
    sweep_file: Annotated[
        Path, typer.Argument(help="sweep TOML file: a base scenario and the fields to vary")
    ],
    out: Annotated[Path | None, typer.Option(help="sweep folder (default runs/<sweep name>)")] = None,
    ray_address: Annotated[
        str | None, typer.Option("--ray-address", help="a Ray cluster to run on (default: this machine)")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="runs at once on this machine (default: one per core)")
    ] = None,
    use_ray: Annotated[
        bool, typer.Option("--ray/--no-ray", help="run on Ray, or one run after another")
    ] = True,
) -> None:
    """Run every variant of a sweep into its own run folder (finished ones are skipped, so a stopped
    sweep resumes), then write the table of every run (sweep.duckdb) and the comparison page."""
    from aidc.sweep import load_sweep, run_sweep
    from aidc.sweep.page import write_sweep_page
    from aidc.sweep.runner import TABLE_FILE, prepare, table
    from aidc.telemetry.folder import OutputError

    try:
        sw = load_sweep(sweep_file)
    except ScenarioError as e:
        raise bad_input(e.problems, str(sweep_file)) from None
    out = out or Path("runs") / sw.name
    if use_ray and not _has_ray():
        raise bad_input(["Ray is not installed: pip install 'aidc[ray]', or run with --no-ray"], "--ray")
    try:
        before = len(prepare(sw, out))
    except OutputError as e:
        raise bad_input([str(e)], "--out") from None
    console.print(f"sweep {sw.name}: {len(sw.variants)} runs, {before} finished before, into {out}")
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err_console, transient=True,
    )  # fmt: skip
    try:
        with signals_stop(), progress:
            task = progress.add_task(sw.name, total=len(sw.variants), completed=before)

            def tick(outcome, done: int, total: int) -> None:
                progress.update(task, completed=done)
                if outcome.status.startswith("failed"):
                    err_console.print(f"[red]{outcome.id}[/]: {outcome.status}")

            outcomes = run_sweep(
                sw, out, use_ray=use_ray, ray_address=ray_address, workers=workers, progress=tick
            )
    except KeyboardInterrupt as e:
        raise stopped(e, f"{out}: finished runs are kept; run the same command to resume") from None
    rows = table(sw, {o.id: o for o in outcomes})
    page = write_sweep_page(sw, rows, out / "sweep.html")
    failed = [o for o in outcomes if o.status.startswith("failed")]
    console.print(_table(sw, rows))
    console.print(f"table {out / TABLE_FILE} (SELECT * FROM runs), page {page}")
    if failed:
        err_console.print(f"[bold red]{len(failed)} run(s) failed[/]; their folders are marked incomplete")
        raise typer.Exit(ExitCode.RUN_FAILED)


def _has_ray() -> bool:
    from aidc.sweep.runner import ray

    return ray is not None


def _table(sw, rows) -> Table:
    from aidc.sweep.runner import column_name

    t = Table(title=f"sweep {sw.name}")
    keys = ["run", "status", *(column_name(f) for f in sw.fields), "pue", "facility_kwh", "gpu_temp_p99_c"]
    for k in keys:
        t.add_column(k, justify="left" if k in ("run", "status") else "right")
    for r in rows.to_pylist():
        t.add_row(
            *("–" if r[k] is None else f"{r[k]:,.4g}" if isinstance(r[k], float) else str(r[k]) for k in keys)
        )
    return t


@app.command()
def capacity(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    field: Annotated[str, typer.Option("--vary", help="the field to push up, e.g. halls.0.rows")],
    low: Annotated[float, typer.Option(help="a value that fits (the search's start)")],
    high: Annotated[float, typer.Option(help="the most to try")],
    limit: Annotated[
        list[str],
        typer.Option(help="PATH<=N or PATH>=N on the run summary, e.g. facility_power_peak_15min_kw<=5000"),
    ],
    hours: Annotated[
        float | None, typer.Option(min=0.1, max=8760.0, help="simulate this long after warm-up")
    ] = None,
) -> None:
    """The most of FIELD (GPUs by rows or racks, a serving job's request rate) the site holds under
    every --limit, by bisection over runs (whole numbers when --low and --high are)."""
    from aidc.scenario import scenario_data
    from aidc.sweep.capacity import Limit, most_that_fits

    try:
        limits = [Limit.parse(x) for x in limit]
    except ValueError as e:
        raise bad_input([str(e)], "--limit") from None
    if not low < high:
        raise bad_input([f"--low ({low:g}) must be below --high ({high:g})"], "--low")
    try:
        base = scenario_data(scenario)
        if hours is not None:
            base["duration_s"] = float(base.get("warmup_s", 0.0)) + 3600.0 * hours
        integer = low.is_integer() and high.is_integer()

        def show(p) -> None:
            console.print(
                f"  {field} = {p.value:g}: " + ("fits" if p.fits else "over: " + "; ".join(p.failing))
            )

        with signals_stop():
            best, _ = most_that_fits(base, field, low, high, limits, integer=integer, on_probe=show)
    except ScenarioError as e:
        raise bad_input(e.problems, str(scenario)) from None
    except KeyboardInterrupt as e:
        raise stopped(e, "no answer: the search was stopped") from None
    if best is None:
        console.print(f"[red]even {field} = {low:g} breaks a limit[/]")
        raise typer.Exit(ExitCode.RUN_FAILED)
    console.print(f"[green]most that fits[/]: {field} = {best:g} under " + ", ".join(map(str, limits)))
