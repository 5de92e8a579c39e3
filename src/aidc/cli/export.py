"""`aidc export brick`: the site as a Brick model in Turtle (:mod:`aidc.ontology`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from aidc.cli.common import app, bad_input, console, writable

export_app = typer.Typer(no_args_is_help=True, help="The site in other vocabularies: a Brick model.")
app.add_typer(export_app, name="export")


@export_app.command()
def brick(
    source: Annotated[Path, typer.Argument(help="a scenario file or a run folder")],
    out: Annotated[Path, typer.Option(help="Turtle file to write")] = Path("site.ttl"),
    validate: Annotated[bool, typer.Option(help="check it with SHACL against Brick 1.5 and QUDT")] = True,
    overwrite: Annotated[bool, typer.Option(help="replace an existing --out file")] = False,
) -> None:
    """Write SOURCE's halls, rows, racks, nodes, GPUs, cooling and power chain and every simulated
    point (QUDT unit, time-series reference into the run store) as a Brick 1.5 model."""
    from aidc.ontology.export import brick_of, validate_brick

    writable(out, overwrite, "--out", "model file")
    start = time.perf_counter()
    try:
        model = brick_of(source)
    except ValueError as e:
        raise bad_input([str(e)], str(source)) from None
    text = model.serialize(format="turtle")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    console.print(f"{len(model):,} triples written to [bold]{out}[/] in {time.perf_counter() - start:.1f} s")
    if validate:
        conforms, report, seconds = validate_brick(model)
        if not conforms:
            console.print(report)
            raise typer.Exit(1)
        console.print(f"valid against Brick 1.5 + QUDT (SHACL, {seconds:.1f} s)")
