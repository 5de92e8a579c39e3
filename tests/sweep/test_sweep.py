"""`aidc sweep` and `aidc capacity`: expansion and validation of a sweep file, runs into their
folders with one table, resuming, Ray against one process, and capacity by bisection."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from aidc.cli import app
from aidc.scenario import ScenarioError, scenario_data
from aidc.sweep import Limit, load_sweep, most_that_fits, run_sweep
from aidc.sweep.runner import RUNS_DIR, TABLE_FILE, prepare
from aidc.telemetry.folder import OutputError
from aidc.telemetry.store import Run
from conftest import EXAMPLES

BASE = """
name = "tiny"
seed = 2
duration_s = 1800
dt_s = 60
[weather]
climate = "greensboro-nc"
start = "07-15 12:00"
[[halls]]
name = "h"
rows = 1
racks_per_row = 2
nodes_per_rack = 2
gpu = "H100-SXM"
[halls.cooling]
type = "liquid"
[[halls.jobs]]
type = "training"
name = "t"
"""


def write_sweep(tmp_path: Path, body: str) -> Path:
    (tmp_path / "base.toml").write_text(BASE)
    path = tmp_path / "sw.toml"
    path.write_text('base = "base.toml"\n' + body)
    return path


GRID = """
[vary]
"halls.0.cooling.facility_supply_temp_c" = [30.0, 40.0]
"halls.0.gpu" = ["H100-SXM", "H200-SXM"]
"""


def test_a_grid_expands_to_every_combination_in_order(tmp_path):
    sw = load_sweep(write_sweep(tmp_path, GRID))
    assert [v.id for v in sw.variants] == ["000-30.0-H100-SXM", "001-30.0-H200-SXM", "002-40.0-H100-SXM",
                                          "003-40.0-H200-SXM"]  # fmt: skip
    assert sw.variants[3].scenario.halls[0].gpu == "H200-SXM"
    assert sw.variants[3].scenario.halls[0].cooling.facility_supply_temp_c == 40.0
    z = load_sweep(write_sweep(tmp_path, GRID.replace("[vary]", 'mode = "zip"\n[vary]')))
    assert [v.values for v in z.variants] == [
        {"halls.0.cooling.facility_supply_temp_c": 30.0, "halls.0.gpu": "H100-SXM"},
        {"halls.0.cooling.facility_supply_temp_c": 40.0, "halls.0.gpu": "H200-SXM"},
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('[vary]\n"halls.3.gpu" = ["B200"]\n', "vary.halls.3.gpu: halls is a list of 1"),
        ('[vary]\n"weather.climate" = ["mars"]\n', "run 000-mars: weather: unknown climate 'mars'"),
        ('[vary]\n"halls.0.rows" = [1, -2]\n', "run 001--2: halls.0.rows"),
        ('colour = "red"\n[vary]\n"dt_s" = [10]\n', "colour: Extra inputs are not permitted"),
        ('mode = "zip"\n[vary]\n"dt_s" = [10, 20]\n"seed" = [1]\n', "mode 'zip' takes lists of one length"),
        ('[vary]\n"dt_s" = []\n', "vary.dt_s: give at least one value"),
        ('[vary]\n"name.x" = [1]\n', "vary.name.x: name is a value"),
    ],
)
def test_a_bad_sweep_file_names_the_run_and_the_field(tmp_path, body, expected):
    with pytest.raises(ScenarioError) as e:
        load_sweep(write_sweep(tmp_path, body))
    assert any(expected in p for p in e.value.problems), e.value.problems


def test_runs_land_in_their_folders_with_one_table_and_resume(tmp_path):
    sw = load_sweep(write_sweep(tmp_path, GRID))
    out = tmp_path / "out"
    outcomes = run_sweep(sw, out, use_ray=False)
    assert [o.status for o in outcomes] == ["complete"] * 4
    with duckdb.connect(str(out / TABLE_FILE), read_only=True) as con:
        rows = con.sql("SELECT run, halls_0_gpu, halls_0_cooling_facility_supply_temp_c, pue, gpu_temp_p99_c "
                       "FROM runs ORDER BY run").fetchall()  # fmt: skip
    assert [r[1] for r in rows] == ["H100-SXM", "H200-SXM", "H100-SXM", "H200-SXM"]
    assert all(1.0 < r[3] < 1.5 for r in rows)
    assert rows[2][4] > rows[0][4] + 5.0  # 10 K warmer water, hotter GPUs
    # a run killed mid-way (its folder says running, its writer is gone) is run again; the rest skipped
    killed = out / RUNS_DIR / sw.variants[1].id
    meta = json.loads((killed / "metadata.json").read_text())
    (killed / "metadata.json").write_text(json.dumps(meta | {"status": "running"}))
    (killed / "summary.json").unlink()
    mtime = os.stat(out / RUNS_DIR / sw.variants[0].id / "summary.json").st_mtime_ns
    again = run_sweep(sw, out, use_ray=False)
    assert [o.status for o in again] == ["skipped", "complete", "skipped", "skipped"]
    assert os.stat(out / RUNS_DIR / sw.variants[0].id / "summary.json").st_mtime_ns == mtime
    assert again[1].summary["pue"] == pytest.approx(outcomes[1].summary["pue"], rel=1e-12)


def test_a_folder_that_is_not_this_sweep_is_never_written(tmp_path):
    sw = load_sweep(write_sweep(tmp_path, GRID))
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not an aidc sweep"):
        prepare(sw, theirs)
    assert sorted(p.name for p in theirs.iterdir()) == ["notes.txt"]
    prepare(sw, tmp_path / "a")
    other = load_sweep(write_sweep(tmp_path, GRID.replace("40.0", "45.0")))
    with pytest.raises(OutputError, match="holds another sweep"):
        prepare(other, tmp_path / "a")


def test_ray_tasks_give_the_runs_one_process_gives(tmp_path):
    pytest.importorskip("ray")
    sw = load_sweep(write_sweep(tmp_path, GRID.replace(', "H200-SXM"', "")))
    local = run_sweep(sw, tmp_path / "local", use_ray=False)
    on_ray = run_sweep(sw, tmp_path / "ray", use_ray=True, workers=2)
    assert [o.status for o in on_ray] == ["complete", "complete"]
    for a, b in zip(local, on_ray, strict=True):
        assert a.summary == b.summary


def test_capacity_finds_the_most_racks_under_a_power_budget(tmp_path):
    (tmp_path / "base.toml").write_text(BASE)
    base = scenario_data(tmp_path / "base.toml")
    limit = Limit.parse("facility_power_peak_15min_kw <= 60")
    best, probes = most_that_fits(base, "halls.0.racks_per_row", 1, 12, [limit])
    by_value = {p.value: p for p in probes}
    assert best is not None and 1 <= best < 12
    assert by_value[best].fits
    assert by_value[best].summary["facility_power_peak_15min_kw"] <= 60.0
    above = [p for p in probes if p.value > best]
    assert above and not any(p.fits for p in above)
    assert best + 1 in by_value  # bisection to one rack
    with pytest.raises(ValueError, match="PATH<=NUMBER"):
        Limit.parse("pue < 1.2")


def test_the_example_sweep_validates():
    sw = load_sweep(EXAMPLES / "sweeps" / "supply_by_climate.toml")
    assert len(sw.variants) == 9
    assert {v.scenario.duration_s for v in sw.variants} == {21600.0}


def test_the_commands_exit_2_on_bad_input_before_any_work(tmp_path):
    runner = CliRunner()
    bad = write_sweep(tmp_path, '[vary]\n"weather.climate" = ["mars"]\n')
    r = runner.invoke(app, ["sweep", str(bad), "--out", str(tmp_path / "o"), "--no-ray"])
    assert r.exit_code == 2 and "mars" in r.output
    assert not (tmp_path / "o").exists()
    r = runner.invoke(app, ["capacity", str(tmp_path / "base.toml"), "--vary", "halls.0.rows", "--low", "1",
                            "--high", "4", "--limit", "pue=1.2"])  # fmt: skip
    assert r.exit_code == 2 and "PATH<=NUMBER" in r.output
    r = runner.invoke(app, ["capacity", str(tmp_path / "base.toml"), "--vary", "halls.0.rows", "--low", "0",
                            "--high", "4", "--limit", "pue<=1.2"])  # fmt: skip
    assert r.exit_code == 2 and "halls.0.rows" in r.output


def test_a_relative_file_in_an_override_resolves_against_the_sweep_file(tmp_path):
    sub = tmp_path / "sweeps"
    sub.mkdir()
    (tmp_path / "base.toml").write_text(BASE)
    path = sub / "sw.toml"
    path.write_text('base = "../base.toml"\n[set]\nweather = {file = "w.tmy3"}\n[vary]\nseed = [1, 2]\n')
    sw = load_sweep(path)
    assert {str(v.scenario.weather.file) for v in sw.variants} == {str(sub.resolve() / "w.tmy3")}


def test_a_stopped_sweep_keeps_its_finished_runs_and_resumes(tmp_path):
    """SIGTERM while the second of three runs simulates: exit 143, the first run complete, the
    second marked incomplete; the same command then skips the first and finishes the others."""
    long = BASE.replace("duration_s = 1800", "duration_s = 43200")
    (tmp_path / "base.toml").write_text(long)
    sweep_file = tmp_path / "sw.toml"
    sweep_file.write_text('base = "base.toml"\n[vary]\nseed = [1, 2, 3]\n')
    out = tmp_path / "out"
    cli = [sys.executable, "-c", "from aidc.cli import main; main()"]
    cmd = [*cli, "sweep", str(sweep_file), "--out", str(out), "--no-ray"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first, second = out / RUNS_DIR / "000-1", out / RUNS_DIR / "001-2"
    deadline = time.monotonic() + 120.0
    while not (second / "metadata.json").is_file():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the sweep did not reach its second run"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert Run(first).complete
    assert Run(second).status.startswith("incomplete")
    sw = load_sweep(sweep_file)
    assert [o.status for o in run_sweep(sw, out, use_ray=False)] == ["skipped", "complete", "complete"]
