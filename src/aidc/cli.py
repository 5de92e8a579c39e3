"""``aidc``: the command line, a thin shell over :mod:`aidc.api`.

Exit codes (:class:`ExitCode`): 0 success; 1 the run failed while simulating (the run directory is
marked incomplete); 2 bad input (scenario, path, options) — nothing was written; 130 interrupted
(the run directory is marked incomplete).
"""

from __future__ import annotations

import enum
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from aidc.report.summary import summary_table
from aidc.scenario import ScenarioError, load_scenario

console = Console()
err_console = Console(stderr=True)
app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="aidc: a digital twin of an AI data center."
)


class ExitCode(enum.IntEnum):
    OK = 0
    RUN_FAILED = 1
    BAD_INPUT = 2
    INTERRUPTED = 130


def _bad_input(problems: list[str], source: str) -> typer.Exit:
    err_console.print(f"[bold red]error[/]: {source} is not valid:")
    for p in problems:
        err_console.print(f"  • {p}")
    return typer.Exit(ExitCode.BAD_INPUT)


def _load(path: Path):
    try:
        return load_scenario(path)
    except ScenarioError as e:
        raise _bad_input(e.problems, str(path)) from None


@app.command()
def validate(scenario: Annotated[Path, typer.Argument(help="scenario TOML file")]) -> None:
    """Check a scenario file without running it (its components are built: traces, weather, fits)."""
    from aidc.sim.build import build_simulation

    sc = _load(scenario)
    try:
        build_simulation(sc)
    except ScenarioError as e:
        raise _bad_input(e.problems, str(scenario)) from None
    gpus = sum(h.gpu_count for h in sc.halls)
    console.print(
        f"[green]valid[/]: {scenario} — {len(sc.halls)} hall(s), {gpus:,} GPUs, "
        f"{sc.steps:,} steps of {sc.dt_s:g} s"
    )


@app.command()
def run(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    out: Annotated[Path | None, typer.Option(help="run directory (default runs/<scenario name>)")] = None,
    sample_s: Annotated[
        float | None, typer.Option("--sample-s", help="keep one telemetry sample every N seconds")
    ] = None,
    overwrite: Annotated[bool, typer.Option(help="replace an existing run directory")] = False,
) -> None:
    """Simulate a scenario and write its run directory."""
    from aidc.api import run_scenario
    from aidc.scenario import validate_scenario
    from aidc.telemetry.store import RunExistsError

    sc = _load(scenario)
    if sample_s is not None:
        data = sc.model_dump()
        data["telemetry"]["sample_s"] = sample_s
        try:
            sc = validate_scenario(data, "--sample-s")
        except ScenarioError as e:
            raise _bad_input(e.problems, "--sample-s") from None
    out = out or Path("runs") / sc.name
    if out.exists() and not overwrite:
        raise _bad_input([f"run directory exists: {out} (use --overwrite to replace it)"], "--out")
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task(sc.name, total=sc.steps)
            every = max(sc.steps // 200, 1)

            def tick(k: int) -> None:
                if k % every == 0 or k == sc.steps - 1:
                    progress.update(task, completed=k + 1)

            result = run_scenario(sc, out, overwrite=overwrite, progress=tick, source=str(scenario))
    except RunExistsError as e:
        raise _bad_input([str(e)], "--out") from None
    except ScenarioError as e:  # a component could not be built: nothing was written
        raise _bad_input(e.problems, str(scenario)) from None
    except KeyboardInterrupt:
        err_console.print(f"[yellow]interrupted[/]: {out} is marked incomplete")
        raise typer.Exit(ExitCode.INTERRUPTED) from None
    except Exception as e:  # the store has marked the run incomplete
        err_console.print(f"[bold red]run failed[/]: {type(e).__name__}: {e}; {out} is marked incomplete")
        raise typer.Exit(ExitCode.RUN_FAILED) from None
    console.print(summary_table([result]))
    console.print(f"run written to [bold]{out}[/]")


def _open_run(path: Path):
    from aidc.telemetry.store import Run

    try:
        return Run(path)
    except (FileNotFoundError, json.JSONDecodeError) as e:
        raise _bad_input([str(e)], str(path)) from None


@app.command()
def compare(runs: Annotated[list[Path], typer.Argument(help="two or more run directories")]) -> None:
    """Show the headline metrics of runs side by side."""
    if len(runs) < 2:
        raise _bad_input(["give at least two run directories"], "compare")
    console.print(summary_table([_open_run(p) for p in runs]))


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="run directory")],
    out: Annotated[Path | None, typer.Option(help="HTML file (default RUN/report.html)")] = None,
) -> None:
    """Write a self-contained HTML report with charts of a run."""
    from aidc.report.html import write_report

    r = _open_run(run_dir)
    target = write_report(r, out or run_dir / "report.html")
    console.print(f"report written to [bold]{target}[/]")


@app.command()
def gpus() -> None:
    """List the GPU catalog."""
    from aidc.hardware.catalog import GPU_CATALOG, PRECISIONS

    table = Table(title="GPU catalog (peak dense TFLOPS)")
    for col in (
        "GPU",
        "TDP [W]",
        "cap [W]",
        "clock [MHz]",
        "HBM [GB]",
        "HBM [TB/s]",
        *PRECISIONS,
        "slowdown/shutdown [°C]",
    ):
        if col == "GPU":
            table.add_column(col, no_wrap=True)
        else:
            table.add_column(col, justify="right", overflow="fold")
    for spec in GPU_CATALOG.values():
        table.add_row(
            spec.name,
            f"{spec.tdp_w:g}",
            f"{spec.power_cap_min_w:g}–{spec.power_cap_max_w:g}",
            f"{spec.clock_min_mhz:g}–{spec.clock_max_mhz:g}",
            f"{spec.hbm_gb:g}",
            f"{spec.hbm_bandwidth_tb_s:g}",
            *[f"{spec.peak_dense_tflops[p]:g}" if p in spec.peak_dense_tflops else "—" for p in PRECISIONS],
            f"{spec.slowdown_temp_c:g}/{spec.shutdown_temp_c:g}",
        )
    console.print(table)


model_app = typer.Typer(no_args_is_help=True, help="Model architectures: presets and their accounting.")
app.add_typer(model_app, name="model")


@model_app.command("list")
def model_list() -> None:
    """List the model presets."""
    from aidc.model.accounting import parameter_counts
    from aidc.model.presets import PRESETS

    table = Table(title="model presets")
    for col in ("preset", "model", "attention", "total [B]", "active [B]"):
        table.add_column(col, justify="right" if "[" in col else "left")
    for key, cfg in PRESETS.items():
        p = parameter_counts(cfg)
        total, active = (f"{n / 1e9:,.2f}" if n >= 1e7 else f"{n / 1e9:.2e}" for n in (p.total, p.active))
        table.add_row(key, cfg.name, cfg.attention_kind.upper(), total, active)
    console.print(table)


@model_app.command("info")
def model_info(preset: Annotated[str, typer.Argument(help="preset name (see `aidc model list`)")]) -> None:
    """Parameters, KV cache (beside MHA/GQA/MQA equivalents), FLOPs and bytes per token of a preset."""
    from aidc.model.presets import get_preset
    from aidc.report.model_info import model_info_tables

    try:
        cfg = get_preset(preset)
    except KeyError as e:
        raise _bad_input([str(e.args[0])], "PRESET") from None
    for table in model_info_tables(cfg):
        console.print(table)


control_app = typer.Typer(
    no_args_is_help=True, help="Cooling control: log behaviour, train offline RL, evaluate."
)
app.add_typer(control_app, name="control")


@control_app.command("collect")
def control_collect(
    out: Annotated[Path, typer.Option(help="dataset file to write (Parquet)")],
    env: Annotated[str, typer.Option(help="air or liquid")] = "air",
    seed: Annotated[int, typer.Option(help="seed of the behaviour noise")] = 0,
) -> None:
    """Log shielded, noisy baseline controllers on the twin (Greensboro, odd months) as a dataset."""
    from aidc.control.api import collect_dataset

    try:
        with console.status("collecting behaviour logs…"):
            path = collect_dataset(env, out, seed=seed)
    except ValueError as e:  # checked before anything runs
        raise _bad_input([str(e)], "--env") from None
    console.print(f"dataset written to [bold]{path}[/]")


@control_app.command("train")
def control_train(
    dataset: Annotated[Path, typer.Argument(help="dataset written by `aidc control collect`")],
    out: Annotated[Path, typer.Option(help="policy file to write")],
    steps: Annotated[int, typer.Option(help="gradient steps")] = 15_000,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train an IQL policy from a dataset only."""
    import dataclasses

    from aidc.control.api import COOLING_IQL, train_policy

    if steps < 1:
        raise _bad_input([f"--steps must be >= 1, got {steps}"], "--steps")
    try:
        with console.status("training IQL…"):
            path = train_policy(dataset, out, dataclasses.replace(COOLING_IQL, steps=steps, seed=seed))
    except (FileNotFoundError, ValueError) as e:
        raise _bad_input([str(e)], str(dataset)) from None
    console.print(f"policy written to [bold]{path}[/]")


@control_app.command("eval")
def control_eval(
    controllers: Annotated[
        list[str], typer.Argument(help="baseline names (fixed, rule-based, pid) or policy files")
    ],
    env: Annotated[str, typer.Option(help="air or liquid")] = "air",
    parallel: Annotated[bool, typer.Option(help="run the episodes as Ray tasks")] = False,
    ray_address: Annotated[
        str | None, typer.Option(help="Ray cluster address (default: this machine)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="directory for results.json and evaluation.html")] = None,
) -> None:
    """Compare controllers on held-out weather (Greensboro even months, Miami)."""
    from aidc.control.api import evaluate_controllers

    kind = env
    if out is not None and out.exists() and not out.is_dir():
        raise _bad_input([f"--out {out} exists and is not a directory"], "--out")
    try:
        with console.status("evaluating…"):
            results = evaluate_controllers(
                kind, controllers, parallel=parallel or ray_address is not None, ray_address=ray_address
            )
    except ValueError as e:
        raise _bad_input([str(e)], "CONTROLLERS") from None
    base = results.get("fixed")
    table = Table(title=f"held-out evaluation, {kind} hall")
    for col in (
        "controller",
        "cooling [kWh]",
        "vs fixed",
        "PUE",
        "violations [GPU·h + K·h]",
        "throttled [GPU·h]",
        "shield fallbacks",
    ):
        table.add_column(col, justify="left" if col == "controller" else "right")
    for name, r in results.items():
        saved = f"{r['cooling_kwh'] / base['cooling_kwh'] - 1:+.1%}" if base else "—"
        table.add_row(
            name,
            f"{r['cooling_kwh']:,.1f}",
            saved,
            f"{r['pue']:.4f}",
            f"{r['gpu_violation_gpu_h'] + r['inlet_excess_k_h']:.3f}",
            f"{r['throttled_gpu_h']:.3f}",
            str(r["shield_interventions"]),
        )
    console.print(table)
    if out is not None:
        from aidc.control.api import write_evaluation

        path_json, path_html = write_evaluation(results, out, kind=kind)
        console.print(f"results written to [bold]{path_json}[/] and [bold]{path_html}[/]")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
