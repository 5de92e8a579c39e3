"""`aidc calibrate`: one GPU's power split and thermal path fitted to a recorded trace, judged by
ASHRAE Guideline 14 on held-out parts of it, written as a parameter file a scenario can name."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from aidc.cli.common import app, bad_input, console, writable


@app.command()
def calibrate(
    recording: Annotated[Path, typer.Argument(help="an `aidc record` run folder or a CSV trace")],
    gpu: Annotated[str, typer.Option(help="the catalog GPU the recorded one is")] = "H100-SXM",
    gpu_index: Annotated[int, typer.Option(min=0, max=1023, help="which GPU of the recording")] = 0,
    sink_c: Annotated[
        float | None,
        typer.Option(
            min=-40.0, max=150.0, help="coolant (or immersion fluid) temperature [°C], if not recorded"
        ),
    ] = None,
    cooling: Annotated[str, typer.Option(help="liquid (cold plates) or immersion")] = "liquid",
    flow_l_min: Annotated[
        float, typer.Option("--flow-l-min", min=0.1, max=50.0, help="coolant flow per cold plate [L/min]")
    ] = 1.5,
    fix_doubling_c: Annotated[
        float | None,
        typer.Option(
            min=3.0, max=40.0, help="hold the leakage doubling temperature [°C] instead of fitting it"
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="parameter file to write")] = Path("gpu_parameters.toml"),
    overwrite: Annotated[bool, typer.Option(help="replace an existing --out file")] = False,
) -> None:
    """Fit the GPU's static, leakage and dynamic power and its junction-to-coolant resistance and
    heat capacity to RECORDING by least squares; print the fit and Guideline 14's CV(RMSE) and NMBE
    of the catalog and of the fit on held-out parts of the trace; write OUT for a hall's
    `gpu_parameters`."""
    from aidc.api import calibrate_gpu
    from aidc.hardware.catalog import GPU_CATALOG
    from aidc.scenario.gpu_parameters import gpu_parameters_toml

    if gpu not in GPU_CATALOG:
        raise bad_input([f"--gpu = {gpu!r}: known GPUs are {', '.join(GPU_CATALOG)}"], "--gpu")
    writable(out, overwrite, "--out", "parameter file")
    fixed = None if fix_doubling_c is None else {"leakage_doubling_c": fix_doubling_c}
    try:
        cal, params = calibrate_gpu(
            recording,
            gpu,
            gpu_index=gpu_index,
            sink_c=sink_c,
            cooling=cooling,
            flow_l_min=flow_l_min,
            fixed=fixed,
        )
    except ValueError as e:
        raise bad_input([str(e)], str(recording)) from None
    _print(cal, gpu, f"{recording}, GPU {gpu_index}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(gpu_parameters_toml(params), encoding="utf-8")
    console.print(f"parameters written to [bold]{out}[/]: name it as a hall's gpu_parameters")


def _print(cal, gpu: str, what: str) -> None:
    """The fitted parameters beside the catalog's, and Guideline 14's statistics before and after."""
    from aidc.hardware.calibration import POWER_PARAMETERS
    from aidc.hardware.catalog import GPU_CATALOG

    table = Table(title=f"{gpu} fitted to {what}")
    for name in ("parameter", "catalog", "fitted"):
        table.add_column(name, justify="left" if name == "parameter" else "right")
    catalog = GPU_CATALOG[gpu]
    for name in POWER_PARAMETERS:
        table.add_row(name, f"{getattr(catalog, name):.4g}", f"{getattr(cal.spec, name):.4g}")
    table.add_row("resistance_k_w (junction to sink)", "", f"{cal.path.resistance_k_w:.4g}")
    table.add_row("capacitance_j_k", "", f"{cal.path.capacitance_j_k:.4g}")
    console.print(table)
    stats = Table(
        title=f"ASHRAE Guideline 14 on {cal.held_out_s:,.0f} s held out (hourly: CV ≤ 30 %, |NMBE| ≤ 10 %)"
    )
    for name in ("", "CV(RMSE) %", "NMBE %", "RMSE"):
        stats.add_column(name, justify="left" if not name else "right")
    for when in ("before", "after"):
        for key, unit in (("temp_c", "K"), ("power_w", "W")):
            a = getattr(cal, when)[key]
            label = f"{key} {'catalog' if when == 'before' else 'fitted'}"
            stats.add_row(label, f"{a.cv_rmse_pct:.2f}", f"{a.nmbe_pct:+.2f}", f"{a.rmse:.3g} {unit}")
    console.print(stats)
