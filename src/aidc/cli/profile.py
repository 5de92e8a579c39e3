"""`aidc profile RUN`: where a run's energy went, part by part (:mod:`aidc.telemetry.profile`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from aidc.cli.common import app, bad_input, console


@app.command()
def profile(run: Annotated[Path, typer.Argument(help="a run folder")]) -> None:
    """RUN's facility energy after its warm-up by part (GPU static, leakage and dynamic power, server
    fans and the rest of the servers, cooling by subsystem, power-chain losses, other loads), with
    how exactly the parts add up to the facility's energy."""
    from aidc.telemetry.profile import profile_run
    from aidc.telemetry.store import Run
    from aidc.units import J_PER_KWH

    try:
        w = profile_run(str(run))
    except ValueError as e:
        raise bad_input([str(e)], str(run)) from None
    table = Table(title=f"{run}: {w.seconds / 3600:,.2f} h after warm-up")
    for name in ("part", "kWh", "share"):
        table.add_column(name, justify="left" if name == "part" else "right")
    for part, j in sorted(w.by_part().items(), key=lambda kv: -kv[1]):
        table.add_row(
            part, f"{j / J_PER_KWH:,.2f}", f"{100 * j / w.facility_j:.2f} %" if w.facility_j else "–"
        )
    table.add_row("facility (stored)", f"{w.facility_j / J_PER_KWH:,.2f}", "100 %")
    console.print(table)
    console.print(f"the parts add up to the stored facility energy within {100 * w.closure:.2g} %")
    summary = Run(run).summary or {}
    booked = (summary.get("energy_kwh") or {}).get("facility")
    if booked:
        console.print(
            f"against the run's summary ({booked:,.2f} kWh, every step): "
            f"{100 * (sum(w.energy_j.values()) / J_PER_KWH / booked - 1):+.3f} %"
        )
