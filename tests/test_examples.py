"""Every bundled example scenario builds and runs a few steps, and its summary is sane."""

from __future__ import annotations

import pytest

from aidc.api import simulate
from aidc.scenario import validate_scenario
from conftest import EXAMPLES, example_dict


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.toml")))
def test_example_runs_a_few_steps(name):
    d = example_dict(name)
    d["duration_s"], d["warmup_s"] = 3 * d.get("dt_s", 10.0), 0.0
    s = simulate(validate_scenario(d))
    assert s["seconds"] == pytest.approx(d["duration_s"])
    assert 1.0 < s["pue"] < 2.0
    assert s["energy_kwh"]["gpu"] > 0.0
    assert all(h["tflops_per_gpu"] >= 0.0 for h in s["halls"])
