"""`aidc serve`: the twin running in real or accelerated time behind a Prometheus endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aidc.cli.common import app, bad_input, console, load, signals_stop, stopped
from aidc.scenario import ScenarioError


@app.command()
def serve(
    scenario: Annotated[Path, typer.Argument(help="scenario TOML file")],
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port of /metrics (0: any free)")] = 9400,
    address: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    speed: Annotated[
        float, typer.Option(min=0.0, help="simulated seconds per wall second (0: as fast as it can)")
    ] = 1.0,
) -> None:
    """Run a scenario while a Prometheus /metrics endpoint shows every GPU under NVIDIA DCGM
    exporter's names (labelled by hall, rack, node, GPU) and the facility under aidc_ names, and a
    live page at / updates every second; at the scenario's end the last state stays served until
    Ctrl-C."""
    import threading

    from aidc.api import serve_twin, start_metrics_server
    from aidc.sim.build import build_simulation

    sc = load(scenario)
    try:
        sim = build_simulation(sc)  # everything that cannot be built is reported before listening
    except ScenarioError as e:
        raise bad_input(e.problems, str(scenario)) from None
    try:
        server = start_metrics_server(sc, address, port)
    except OSError as e:
        raise bad_input([f"cannot listen on {address}:{port}: {e.strerror or e}"], "--port") from None
    console.print(
        f"serving [bold]{server.url}[/] and a live page at [bold]{server.page_url}[/] "
        f"({sc.name}, {speed:g}× real time); Ctrl-C stops"
    )
    try:
        with signals_stop():
            serve_twin(sc, server, speed=speed, sim=sim)
            console.print("the scenario has ended; its last state stays served")
            threading.Event().wait()
    except KeyboardInterrupt as e:
        raise stopped(e, "stopped serving") from None
    finally:
        server.close()
