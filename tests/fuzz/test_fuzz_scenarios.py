"""Fuzzing the scenario input down to the simulator (issue "Nothing lost, nothing deleted, no traceback").

Each case writes a scenario file (and the data files it names) to a fresh folder and checks the
property of :func:`fuzzing.check_scenario_file`: rejected with a ScenarioError, or built and stepped
with finite outputs. The default profile runs a few hundred cases; ``AIDC_FUZZ=1`` (or
``--hypothesis-profile=fuzz``) runs the "fuzz" profile of tests/conftest.py, over 10,000.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fuzzing import EXAMPLE_DATA, check_scenario_file, fuzz_settings, time_limit, write_scenario
from hypothesis import given
from hypothesis import strategies as st
from mutations import mutated_example, trace_file, weather_file
from typer.testing import CliRunner
from valid import valid_scenario

from aidc.cli import ExitCode, app

FUZZ_SETTINGS = fuzz_settings(examples=40)  # `make fuzz` runs 3,400 of each


def _check(data: dict | str, files: dict[str, bytes | str] | None = None) -> str:
    with tempfile.TemporaryDirectory() as folder:
        for name, content in (files or {}).items():
            target = Path(folder) / name
            target.write_bytes(content) if isinstance(content, bytes) else target.write_text(content)
        return check_scenario_file(write_scenario(Path(folder), data))


@FUZZ_SETTINGS
@given(mutated_example())
def test_mutated_examples_are_rejected_or_run(case):
    _, data = case
    _check(data)


@fuzz_settings(examples=20)  # each case writes and parses a file, and may build PV: ~0.3 s
@given(st.sampled_from(sorted(EXAMPLE_DATA)), st.data())
def test_broken_data_files_are_rejected_or_run(name, data):
    scenario = {k: v for k, v in EXAMPLE_DATA[name].items()}
    files: dict[str, bytes | str] = {}
    serving = [j for h in scenario["halls"] for j in h.get("jobs", []) if j.get("type") == "serving"]
    if serving and data.draw(st.booleans()):
        files["trace.csv"] = data.draw(trace_file())
        scenario["halls"] = [
            dict(h, jobs=[dict(j, trace="trace.csv") for j in h["jobs"]]) for h in scenario["halls"]
        ]
    else:
        fmt, content = data.draw(weather_file())
        files["weather.dat"] = content
        scenario["weather"] = {"file": "weather.dat", "format": fmt, "start": "07-15 12:00"}
    _check(scenario, files)


@FUZZ_SETTINGS
@given(valid_scenario())
def test_valid_scenarios_run_with_finite_outputs(case):
    data, files = case
    outcome = _check(data, files)
    assert outcome != "rejected by the schema", "the generator drew an invalid scenario"


@fuzz_settings(examples=15, fuzz_examples=200)
@given(mutated_example())
def test_cli_validate_never_raises(case):
    _, data = case
    with tempfile.TemporaryDirectory() as folder:
        path = write_scenario(Path(folder), data)
        with time_limit():
            result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code in (ExitCode.OK, ExitCode.BAD_INPUT), result.output
