"""`aidc control collect`, `train`, `eval`: cooling control."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from aidc.cli.common import (
    app,
    bad_input,
    console,
    signals_stop,
    stopped,
    writable,
)

control_app = typer.Typer(
    no_args_is_help=True, help="Cooling control: log behaviour, train offline RL, evaluate."
)
app.add_typer(control_app, name="control")


_OVERWRITE = typer.Option(help="replace an existing output file")


@control_app.command("collect")
def control_collect(
    out: Annotated[Path, typer.Option(help="dataset file to write (Parquet)")],
    env: Annotated[str, typer.Option(help="air or liquid")] = "air",
    seed: Annotated[int, typer.Option(help="seed of the behaviour noise")] = 0,
    overwrite: Annotated[bool, _OVERWRITE] = False,
) -> None:
    """Log shielded, noisy baseline controllers on the twin (Greensboro, odd months) as a dataset."""
    from aidc.control.api import ENVS, collect_dataset

    if env not in ENVS:
        raise bad_input([f"--env must be one of {', '.join(ENVS)}, got {env!r}"], "--env")
    writable(out, overwrite, "--out", "dataset")
    try:
        with signals_stop(), console.status("collecting behaviour logs…"):
            path = collect_dataset(env, out, seed=seed)
    except KeyboardInterrupt as e:
        raise stopped(e, f"nothing written to {out}") from None
    console.print(f"dataset written to [bold]{path}[/]")


@control_app.command("train")
def control_train(
    dataset: Annotated[Path, typer.Argument(help="dataset written by `aidc control collect`")],
    out: Annotated[Path, typer.Option(help="policy file to write")],
    steps: Annotated[int, typer.Option(help="gradient steps")] = 15_000,
    seed: Annotated[int, typer.Option()] = 0,
    threads: Annotated[int, typer.Option(help="PyTorch threads (small networks: 1 is fastest)")] = 1,
    overwrite: Annotated[bool, _OVERWRITE] = False,
) -> None:
    """Train an IQL policy from a dataset only."""
    import dataclasses

    from aidc.control.api import COOLING_IQL, train_policy
    from aidc.control.datasets import read_dataset

    if not 1 <= steps <= 10_000_000:
        raise bad_input([f"--steps = {steps}: must be 1 to 10,000,000"], "--steps")
    if not 1 <= threads <= 1024:
        raise bad_input([f"--threads = {threads}: must be 1 to 1,024"], "--threads")
    writable(out, overwrite, "--out", "policy file")
    try:
        read_dataset(dataset)  # a bad dataset is bad input, found before training
    except (FileNotFoundError, ValueError) as e:
        raise bad_input([str(e)], str(dataset)) from None
    cfg = dataclasses.replace(COOLING_IQL, steps=steps, seed=seed, threads=threads)
    try:
        with signals_stop(), console.status("training IQL…"):
            path = train_policy(dataset, out, cfg)
    except KeyboardInterrupt as e:
        raise stopped(e, f"nothing written to {out}") from None
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
    out: Annotated[Path | None, typer.Option(help="folder for results.json and evaluation.html")] = None,
    overwrite: Annotated[bool, typer.Option(help="replace results.json, evaluation.html in --out")] = False,
    demos: Annotated[
        Path | None, typer.Option(help="offline dataset the LLM controller draws demonstrations from")
    ] = None,
) -> None:
    """Compare controllers on held-out weather (Greensboro even months, Miami). A controller is a
    baseline, a policy file, ``llm`` (SmolLM2-135M in process) or ``llm@URL#MODEL`` (an
    OpenAI-compatible endpoint)."""
    from aidc.control.api import ENVS, check_controllers, evaluate_controllers

    kind = env
    if kind not in ENVS:
        raise bad_input([f"--env must be one of {', '.join(ENVS)}, got {kind!r}"], "--env")
    for name in ("results.json", "evaluation.html") if out is not None else ():
        writable(out / name, overwrite, "--out", "evaluation output")
    try:
        check_controllers(kind, controllers, demos)
    except ValueError as e:
        raise bad_input([str(e)], "CONTROLLERS") from None
    try:
        with signals_stop(), console.status("evaluating…"):
            results = evaluate_controllers(
                kind, controllers, parallel=parallel or ray_address is not None, ray_address=ray_address,
                demos=demos,
            )  # fmt: skip
    except KeyboardInterrupt as e:
        raise stopped(e, "evaluation stopped, nothing written") from None
    console.print(_results_table(results, kind))
    llm = {name: r["llm"] for name, r in results.items() if r.get("llm")}
    if llm:
        console.print(_llm_table(llm))
    if out is not None:
        from aidc.control.api import write_evaluation

        path_json, path_html = write_evaluation(results, out, kind=kind)
        console.print(f"results written to [bold]{path_json}[/] and [bold]{path_html}[/]")


def _llm_table(llm: dict) -> Table:
    table = Table(title="LLM controllers: every decision audited (audit.parquet with --out)")
    cols = (
        "controller",
        "decisions",
        "valid actions",
        "answered",
        "fallbacks",
        "faithful",
        "p50 [s]",
        "p99 [s]",
    )
    for col in cols:
        table.add_column(col, justify="left" if col == "controller" else "right")
    for name, s in llm.items():
        rates = f"{s['valid_action_rate']:.0%}", f"{s['answered_share']:.0%}", str(s["fallbacks"])
        faithful = f"{s['faithful_share']:.0%} of {s['rationales']}"
        latency = f"{s['latency_p50_s']:.2f}", f"{s['latency_p99_s']:.2f}"
        table.add_row(name, str(s["decisions"]), *rates, faithful, *latency)
    return table


def _results_table(results: dict, kind: str) -> Table:
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
    return table
