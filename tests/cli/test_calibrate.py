"""`aidc calibrate` end to end: a trace of the twin's GPU with known parameters becomes a parameter
file that recovers them, which a hall then names; bad input exits 2 and writes nothing."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest
from typer.testing import CliRunner

from aidc.api import simulate
from aidc.cli import ExitCode, app
from aidc.scenario import ScenarioError, validate_scenario
from aidc.sim.build import build_simulation
from conftest import TRUE_SPLIT, synthetic_gpu_trace


@pytest.fixture(scope="module")
def trace_csv(tmp_path_factory):
    trace, _ = synthetic_gpu_trace(seconds=4800)
    energy = np.concatenate([[0.0], np.cumsum(trace.power_w * np.diff(trace.t_s))])
    table = np.column_stack([trace.t_s, trace.temp_c, trace.clock_mhz, trace.activity, trace.sink_c, energy])
    path = tmp_path_factory.mktemp("rec") / "trace.csv"
    np.savetxt(
        path,
        table,
        delimiter=",",
        header="t_s,temp_c,clock_mhz,activity,sink_c,energy_j",
        comments="",
        fmt="%.6f",
    )
    return path


@pytest.fixture(scope="module")
def parameters(trace_csv):
    out = trace_csv.parent / "h100.toml"
    result = CliRunner().invoke(app, ["calibrate", str(trace_csv), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Guideline 14" in result.output
    return out


def test_the_parameter_file_holds_the_recovered_gpu(parameters):
    data = tomllib.loads(parameters.read_text())
    assert data["gpu"] == "H100-SXM"
    for name, value in TRUE_SPLIT.items():
        assert data[name] == pytest.approx(value, rel=0.02), name
    # 0.041 K/W junction to coolant supply, less the coolant's own rise at 1.5 L/min
    assert data["thermal"]["cold_plate_resistance_k_w"] == pytest.approx(0.041 - 0.0048, rel=0.03)
    assert data["fit"]["temp_c_after_cv_rmse_pct"] <= 5.0


def test_a_hall_names_the_file_and_runs_on_it(parameters, small_scenario):
    small_scenario["halls"][0]["gpu_parameters"] = str(parameters)
    del small_scenario["halls"][0]["thermal"]["cold_plate_resistance_k_w"]
    sim = build_simulation(validate_scenario(small_scenario))
    hall = sim.halls[0]
    assert hall.spec.static_power_w == pytest.approx(TRUE_SPLIT["static_power_w"], rel=0.02)
    assert hall.node.capacitance_j_k == pytest.approx(780.0, rel=0.02)
    assert "calibrated" in hall.spec.sources["physics"]
    assert simulate(validate_scenario(small_scenario))["halls"][0]["gpu_power_mean_w"] > 0.0


def test_a_hall_cannot_set_the_same_thermal_field_twice_or_name_another_gpus_file(parameters, small_scenario):
    small_scenario["halls"][0]["gpu_parameters"] = str(parameters)
    with pytest.raises(ScenarioError, match=r"halls\.0\.gpu_parameters: .* both set cold_plate"):
        build_simulation(validate_scenario(small_scenario))
    del small_scenario["halls"][0]["thermal"]["cold_plate_resistance_k_w"]
    small_scenario["halls"][0]["gpu"] = "H200-SXM"
    with pytest.raises(ScenarioError, match="fitted for H100-SXM, the hall has H200-SXM"):
        build_simulation(validate_scenario(small_scenario))
    small_scenario["halls"][0]["gpu_parameters"] = str(parameters.parent / "missing.toml")
    with pytest.raises(ScenarioError, match="cannot read"):
        build_simulation(validate_scenario(small_scenario))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gpu", "H900"], "known GPUs are"),
        (["--cooling", "air"], "air-cooled GPU needs its fan speed"),
    ],
)
def test_bad_options_exit_2_and_write_nothing(trace_csv, tmp_path, args, message):
    out = tmp_path / "p.toml"
    result = CliRunner().invoke(app, ["calibrate", str(trace_csv), "--out", str(out), *args])
    assert result.exit_code == ExitCode.BAD_INPUT
    assert message in result.output and not out.exists()


def test_an_existing_file_is_not_replaced_unasked(trace_csv, tmp_path):
    out = tmp_path / "p.toml"
    out.write_text("mine\n")
    result = CliRunner().invoke(app, ["calibrate", str(trace_csv), "--out", str(out)])
    assert result.exit_code == ExitCode.BAD_INPUT and "--overwrite" in result.output
    assert out.read_text() == "mine\n"
    missing = CliRunner().invoke(
        app, ["calibrate", str(tmp_path / "none.csv"), "--out", str(tmp_path / "q.toml")]
    )
    assert missing.exit_code == ExitCode.BAD_INPUT and "no such run folder or CSV file" in missing.output
