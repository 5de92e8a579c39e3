"""``aidc export brick``: a scenario file or a run folder as a Brick model, and its SHACL check."""

from __future__ import annotations

import time
from pathlib import Path

import brickschema
import rdflib

from aidc.ontology.brick import brick_model, load_qudt_subset
from aidc.scenario import ScenarioError, load_scenario, validate_scenario
from aidc.telemetry.store import Run, RunError


def brick_of(source: str | Path) -> rdflib.Graph:
    """The Brick model of a scenario file, or of a run folder: a run's points reference the series
    it stored, in its own DuckDB file. ``ValueError`` naming the source when it is neither."""
    p = Path(source)
    if p.is_dir():
        try:
            run = Run(p)
        except RunError as e:
            raise ValueError(str(e)) from None
        data = run.metadata.get("scenario")
        if not isinstance(data, dict):
            raise ValueError(f"{p}: metadata.json has no scenario (is it a recording?)")
        try:
            scenario = validate_scenario(data, f"{p}/metadata.json")
        except ScenarioError as e:
            raise ValueError(f"{p}/metadata.json: {'; '.join(e.problems)}") from None
        columns = {t: run.query(f"SELECT * FROM {t} LIMIT 0").column_names for t in run.tables()}
        return brick_model(scenario, columns, str((p / "telemetry.duckdb").resolve()))
    try:
        return brick_model(load_scenario(p))
    except ScenarioError as e:
        raise ValueError(f"{p}: {'; '.join(e.problems)}") from None


def validate_brick(model: rdflib.Graph) -> tuple[bool, str, float]:
    """SHACL validation of ``model`` against Brick 1.5 (brickschema's copy) with the QUDT units
    and quantity kinds it names: (conforms, the report's text, seconds taken)."""
    start = time.perf_counter()
    g = brickschema.Graph(load_brick=True)
    g += model
    load_qudt_subset(g)
    conforms, _, report = g.validate()
    return bool(conforms), str(report), time.perf_counter() - start
