"""A sweep file: a base scenario and the fields to vary, expanded into validated variants.

.. code-block:: toml

    base = "demo_hall.toml"          # a scenario file, relative to this file
    name = "cooling-by-climate"      # optional: the file's stem
    mode = "grid"                    # every combination ("grid") or the lists side by side ("zip")

    [vary]                           # field path = the values it takes
    "halls.0.cooling.type" = ["air", "liquid"]
    "weather.climate" = ["greensboro-nc", "miami-fl"]

    [set]                            # field path = one value for every run
    duration_s = 86400

A field path names a key of the scenario file, list items by index (``halls.0.jobs.1.rate_per_s``);
a key the base does not have is created (a value the schema then checks). Overrides apply to the
scenario as written, before defaults, so a hall switched from air to liquid takes the liquid
plant's defaults. Relative file paths in the overrides resolve against the sweep file's folder.
Every variant is validated before anything runs; a problem names the run and its values.
"""

from __future__ import annotations

import copy
import itertools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aidc.scenario import Scenario, ScenarioError, resolve_paths, scenario_data, validate_scenario


class SweepFile(BaseModel):
    """The sweep file's fields (unknown keys are errors)."""

    model_config = ConfigDict(extra="forbid")
    base: str = Field(min_length=1)
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    mode: Literal["grid", "zip"] = "grid"
    vary: dict[str, list[Any]] = Field(min_length=1)
    set: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class Variant:
    """One run of a sweep: its id (its folder's name), the values of the varied fields, the scenario."""

    id: str
    values: dict[str, Any]
    scenario: Scenario


@dataclass(frozen=True)
class Sweep:
    name: str
    source: Path
    spec: SweepFile
    variants: list[Variant]

    @property
    def fields(self) -> list[str]:
        return list(self.spec.vary)


def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file and validate every variant; ``ScenarioError`` lists every problem."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError([f"file not found: {p}"], str(p))
    try:
        spec = SweepFile.model_validate(tomllib.loads(p.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ScenarioError([f"not a readable TOML file: {e}"], str(p)) from None
    except ValidationError as e:
        problems = [f"{'.'.join(map(str, err['loc'])) or '(file)'}: {err['msg']}" for err in e.errors()]
        raise ScenarioError(problems, str(p)) from None
    problems = [f"vary.{key}: give at least one value" for key, values in spec.vary.items() if not values]
    lengths = {len(v) for v in spec.vary.values()}
    if spec.mode == "zip" and len(lengths) > 1:
        problems.append(f"vary: mode 'zip' takes lists of one length, got lengths {sorted(lengths)}")
    if problems:
        raise ScenarioError(problems, str(p))
    base = scenario_data((p.parent / spec.base).resolve() if not Path(spec.base).is_absolute() else spec.base)
    variants, problems = [], []
    for i, values in enumerate(_combinations(spec)):
        vid = variant_id(i, values)
        try:
            variants.append(
                Variant(vid, values, _variant_scenario(base, spec, values, p.parent.resolve(), vid))
            )
        except ScenarioError as e:
            problems += e.problems
    if problems:
        raise ScenarioError(problems, str(p))
    return Sweep(spec.name or p.stem, p, spec, variants)


def _combinations(spec: SweepFile) -> list[dict[str, Any]]:
    keys = list(spec.vary)
    rows = (
        itertools.product(*spec.vary.values())
        if spec.mode == "grid"
        else zip(*spec.vary.values(), strict=True)
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


def variant_id(index: int, values: dict[str, Any]) -> str:
    """``003-liquid-miami-fl``: the index, then the values, safe as a folder name."""
    slug = "-".join(re.sub(r"[^A-Za-z0-9.-]+", "_", str(v)).strip("_") for v in values.values())
    return f"{index:03d}-{slug}"[:96].rstrip("-_.")


def _variant_scenario(base: dict, spec: SweepFile, values: dict, folder: Path, vid: str) -> Scenario:
    data = copy.deepcopy(base)
    problems = []
    for section, changes in (("set", spec.set), ("vary", values)):
        for path, value in changes.items():
            try:
                set_field(data, path, value)
            except (KeyError, IndexError, TypeError) as e:
                problems.append(f"{section}.{path}: {e.args[0]}")
    if problems:
        raise ScenarioError([f"run {vid}: {p}" for p in problems], vid)
    resolve_paths(data, folder)
    try:
        return validate_scenario(data, vid)
    except ScenarioError as e:
        raise ScenarioError([f"run {vid}: {p}" for p in e.problems], vid) from None


def set_field(data: dict, path: str, value: Any) -> None:
    """Set ``path`` (``halls.0.cooling.type``) in a parsed scenario, creating missing tables."""
    keys = path.split(".")
    node: Any = data
    for depth, key in enumerate(keys):
        last = depth == len(keys) - 1
        where = ".".join(keys[:depth]) or "the scenario"
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise IndexError(f"{where} is a list of {len(node)}; {key!r} is not an index in it")
            key = int(key)
        elif not isinstance(node, dict):
            raise TypeError(f"{where} is a value ({node!r}), not a table")
        elif not last and key not in node:
            node[key] = {}
        if last:
            node[key] = value
        else:
            node = node[key]
