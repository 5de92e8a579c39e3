"""`aidc record`: what this host's own sensors read (NVML, RAPL, PSI, psutil) into a run folder."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aidc.cli.common import app, bad_input, console, signals_stop, stopped


@app.command()
def record(
    out: Annotated[Path, typer.Option(help="run folder to write")] = Path("runs/host"),
    seconds: Annotated[float, typer.Option(min=0.0, max=31_536_000.0, help="how long to record")] = 60.0,
    interval_s: Annotated[
        float, typer.Option("--interval-s", min=0.01, max=3600.0, help="between readings")
    ] = 1.0,
    overwrite: Annotated[bool, typer.Option(help="replace an existing run folder (only aidc's)")] = False,
) -> None:
    """Read this host's GPUs (NVML), CPU packages (RAPL energy counters), pressure stall information
    and utilization (psutil) every interval into OUT's table `host`; a source that cannot read here
    says why and is left out."""
    from aidc.api import record_host
    from aidc.telemetry.folder import OutputError, check_run_folder
    from aidc.telemetry.sources import host_sources

    try:
        check_run_folder(out, overwrite)
    except OutputError as e:
        raise bad_input([str(e)], "--out") from None
    sources = host_sources()
    for s in sources:
        why = s.probe()
        console.print(
            f"  {s.name}: " + ("[green]reading[/]" if why is None else f"[yellow]unavailable[/]: {why}")
        )
    try:
        with signals_stop():
            run = record_host(out, seconds, interval_s, sources=sources, overwrite=overwrite)
    except KeyboardInterrupt as e:
        raise stopped(e, f"recording stopped; {out} keeps what was read") from None
    console.print(f"recorded {run.summary['samples']} readings into [bold]{out}[/]")
