"""Hot-path what-ifs: levers are chosen by the profile's largest parts and each is a real run of
the changed scenario, whose effect has the sign the physics gives it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from aidc.cli import ExitCode, app
from aidc.scenario import validate_scenario
from aidc.telemetry.whatif import LEVERS, what_ifs
from conftest import EXAMPLES, example_dict


@pytest.fixture(scope="module")
def air_node():
    d = example_dict("cooling_matters_air.toml")
    d["duration_s"], d["warmup_s"] = 900.0, 300.0
    return validate_scenario(d)


@pytest.fixture(scope="module")
def every_lever(air_node):
    return what_ifs(air_node, top=11)


def test_every_lever_runs_as_a_variant(every_lever):
    base, variants = every_lever
    assert [lv.name for lv, _ in variants] == [lv.name for lv in LEVERS]
    assert all(o.facility_kwh != base.facility_kwh for _, o in variants)


def test_each_lever_moves_what_it_aims_at(every_lever):
    base, variants = every_lever
    by = {lv.name: o for lv, o in variants}
    parts = {name: o.profile.by_part() for name, o in by.items()}
    base_parts = base.profile.by_part()
    dc = by["800 V DC distribution"].against(base)
    assert dc["facility_pct"] < 0.0 and dc["work_pct"] == pytest.approx(0.0, abs=1e-9)
    assert parts["800 V DC distribution"]["distribution_loss"] < base_parts["distribution_loss"]
    cap = by["GPU power cap at 85 %"].against(base)
    assert cap["facility_pct"] < 0.0 and cap["work_pct"] < 0.0  # energy saved, throughput paid
    assert parts["coolant 4 K colder"]["gpu_leakage"] < base_parts["gpu_leakage"]
    assert parts["coolant 4 K warmer"]["gpu_leakage"] > base_parts["gpu_leakage"]


def test_the_top_parts_choose_the_levers(air_node):
    base, variants = what_ifs(air_node, top=1)
    (largest, _), *_ = sorted(base.profile.by_part().items(), key=lambda kv: -kv[1])
    assert variants and all(largest in lv.targets for lv, _ in variants)


def test_the_command_prints_the_variants_and_refuses_a_bad_scenario(tmp_path):
    ok = CliRunner().invoke(app, ["whatif", str(EXAMPLES / "cooling_matters_liquid.toml"), "--hours", "0.1"])
    assert ok.exit_code == 0, ok.output
    assert "energy per work" in ok.output
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 3\n")
    assert CliRunner().invoke(app, ["whatif", str(bad)]).exit_code == ExitCode.BAD_INPUT


def test_a_serving_scenario_also_shows_tokens_per_kwh_and_latency():
    ok = CliRunner().invoke(
        app, ["whatif", str(EXAMPLES / "serving_deepseek_v3.toml"), "--hours", "0.1", "--top", "1"]
    )
    assert ok.exit_code == 0, ok.output
    assert "tokens per kWh" in ok.output and "TTFT p99" in ok.output
