"""`aidc gpus` and `aidc model …`: the catalogs."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from aidc.cli.common import (
    app,
    bad_input,
    console,
)


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
        raise bad_input([str(e.args[0])], "PRESET") from None
    for table in model_info_tables(cfg):
        console.print(table)


