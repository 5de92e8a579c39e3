from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "aidc" / "examples"


def example_dict(name: str) -> dict:
    return tomllib.loads((EXAMPLES / name).read_text())


@pytest.fixture
def example():
    """Load a bundled example scenario as a dict: ``example("demo_hall.toml")``."""
    return example_dict


@pytest.fixture
def small_scenario() -> dict:
    """A 2-node liquid hall for 5 minutes: cheap enough for every test that needs a run."""
    d = example_dict("cooling_matters_liquid.toml")
    d["duration_s"] = 300
    d["warmup_s"] = 0
    d["halls"][0]["racks_per_row"] = 2
    return d
