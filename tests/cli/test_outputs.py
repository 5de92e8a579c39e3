"""aidc never deletes or overwrites what it did not write, and bad files are exit 2, not a traceback."""

import json
import os
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aidc.cli import ExitCode, app
from aidc.control.offline import IQLConfig, IQLPolicy, OfflineDataset, train_iql
from aidc.telemetry.folder import RunLock
from conftest import EXAMPLES

runner = CliRunner()


def cli(*args: str, width: int = 200):
    return runner.invoke(app, list(args), terminal_width=width)


def _short(tmp_path: Path, name: str = "run-a", extra: str = "") -> Path:
    text = (EXAMPLES / "cooling_matters_liquid.toml").read_text()
    text = text.replace("duration_s = 1800", "duration_s = 60").replace("warmup_s = 600", "warmup_s = 0")
    text = text.replace('name = "cooling-matters-liquid"', f"name = {json.dumps(name)}") + extra
    p = tmp_path / f"s{abs(hash(name))}.toml"
    p.write_text(text)
    return p


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _ok(r) -> None:
    assert r.exit_code == ExitCode.OK, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)


def _bad(r, *words: str) -> None:
    assert r.exit_code == ExitCode.BAD_INPUT, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), r.exception
    for w in words:
        assert w in " ".join(r.output.split()), r.output


@pytest.mark.parametrize("name", ["..", "", "../../x", "/abs/x", "a/b", "."])
def test_a_run_name_cannot_reach_outside_runs(tmp_path, monkeypatch, name):
    project = tmp_path / "project"
    (project / "runs" / "other").mkdir(parents=True)
    (project / "runs" / "other" / "metadata.json").write_text('{"versions": {"aidc": "0"}}')
    (project / "code.py").write_text("precious")
    before = _tree(tmp_path)
    monkeypatch.chdir(project)
    _bad(cli("run", str(_short(tmp_path / "project" / "runs" / "other", name)), "--overwrite"))
    assert _tree(tmp_path) == before | {k: v for k, v in _tree(tmp_path).items() if k.endswith(".toml")}


def test_overwrite_refuses_a_folder_that_is_not_a_run(tmp_path):
    mine = tmp_path / "mydir"
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    _bad(
        cli("run", str(_short(tmp_path)), "--out", str(mine), "--overwrite"),
        "not hold an aidc run",
    )
    assert _tree(mine) == {"thesis.tex": b"precious"}


def test_an_output_path_through_a_file_or_busy_is_exit_2_and_writes_nothing(tmp_path):
    (tmp_path / "file").write_text("x")
    _bad(
        cli("run", str(_short(tmp_path)), "--out", str(tmp_path / "file" / "run")),
        "not a folder",
    )
    out = tmp_path / "run"
    _ok(cli("run", str(_short(tmp_path)), "--out", str(out)))
    before = _tree(out)
    lock = RunLock(out)  # a live writer
    try:
        _bad(cli("run", str(_short(tmp_path)), "--out", str(out), "--overwrite"), "PID")
    finally:
        lock.release()
    assert {k: v for k, v in _tree(out).items() if k != ".aidc.lock"} == {
        k: v for k, v in before.items() if k != ".aidc.lock"
    }


@pytest.mark.parametrize("value", ["inf", "nan", "-1"])
def test_sample_s_must_be_finite_and_positive(tmp_path, value):
    out = tmp_path / "run"
    _bad(cli("run", str(_short(tmp_path)), "--out", str(out), "--sample-s", value))
    assert not out.exists()


def test_report_and_compare_on_damaged_runs(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        _ok(cli("run", str(_short(tmp_path)), "--out", str(d)))
    (a / "telemetry.duckdb").write_bytes(b"garbage" * 1000)  # the Parquet parts still hold the run
    _ok(cli("report", str(a), "--out", str(tmp_path / "new" / "folder" / "r.html")))
    assert (tmp_path / "new" / "folder" / "r.html").stat().st_size > 10_000
    (tmp_path / "mine.html").write_text("precious")
    _bad(cli("report", str(a), "--out", str(tmp_path / "mine.html")), "--overwrite")
    assert (tmp_path / "mine.html").read_text() == "precious"
    (b / "metadata.json").write_text("[]")
    _bad(cli("compare", str(a), str(b)), "metadata.json")
    _bad(cli("report", str(b)), "metadata.json")
    _bad(cli("report", str(tmp_path / "missing")), "does not exist")
    for d in ("facility", "halls"):
        for part in (a / d).iterdir():
            part.unlink()
    _bad(cli("report", str(a)), "no readable telemetry")


def test_a_killed_run_is_compared_and_reported_as_interrupted(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        _ok(cli("run", str(_short(tmp_path)), "--out", str(d)))
    meta = json.loads((a / "metadata.json").read_text())
    (a / "metadata.json").write_text(json.dumps({**meta, "status": "running"}))  # as after kill -9
    (a / "summary.json").unlink()
    r = cli("compare", str(a), str(b))
    _ok(r)
    assert "incomplete (interrupted)" in r.output
    _ok(cli("report", str(a)))
    assert "incomplete (interrupted)" in (a / "report.html").read_text()


def _policy(tmp_path: Path, obs: int, act: int) -> Path:
    rng = np.random.default_rng(0)
    d = OfflineDataset(
        obs=rng.normal(size=(64, obs)), actions=rng.uniform(-1, 1, (64, act)), rewards=rng.normal(size=64),
        next_obs=rng.normal(size=(64, obs)), terminals=np.zeros(64),
    )  # fmt: skip
    return train_iql(d, IQLConfig(steps=2, hidden=8)).save(tmp_path / f"p{obs}.pt")


def test_control_bad_files_and_outputs_are_exit_2_before_any_work(tmp_path):
    (tmp_path / "corrupt.pt").write_bytes(os.urandom(300))
    _bad(cli("control", "eval", "fixed", str(tmp_path / "corrupt.pt")), "corrupt.pt")
    liquid_policy = _policy(tmp_path, 17, 2)
    assert IQLPolicy.load(liquid_policy).dims == (17, 2)
    _bad(cli("control", "eval", str(liquid_policy), "--env", "air"), "other hall")
    (tmp_path / "file").write_text("x")
    _bad(
        cli("control", "collect", "--out", str(tmp_path / "file" / "d.parquet")),
        "not a folder",
    )
    _bad(cli("control", "collect", "--out", str(tmp_path / "file")), "--overwrite")
    (tmp_path / "garbage.parquet").write_bytes(b"PAR1" + os.urandom(100))
    _bad(
        runner.invoke(
            app, ["control", "train", str(tmp_path / "garbage.parquet"), "--out", str(tmp_path / "p.pt")]
        )
    )
    _bad(
        cli("control", "train", "d.parquet", "--out", str(tmp_path / "file" / "p.pt")),
        "not a folder",
    )
    _bad(cli("control", "eval", "fixed", "--out", str(tmp_path / "file")), "not a folder")
    assert (tmp_path / "file").read_text() == "x" and not (tmp_path / "p.pt").exists()
