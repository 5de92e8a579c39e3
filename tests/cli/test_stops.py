"""Every stop leaves a readable run: real `aidc run` processes stopped by signals, SIGKILL at random
moments included, then read back from DuckDB and from the Parquet parts.

``AIDC_KILL_ROUNDS`` sets how many SIGKILLs (default 2; ``make fuzz`` runs 40)."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

from aidc.telemetry.store import Run

EXAMPLE = Path(__file__).parents[2] / "src/aidc/examples/cooling_matters_liquid.toml"
CHUNK = 4


def _long_scenario(tmp_path: Path) -> Path:
    """The liquid example for a simulated day, flushing every 4 samples, per-GPU series on."""
    text = EXAMPLE.read_text().replace("duration_s = 1800", "duration_s = 86400")
    path = tmp_path / "long.toml"
    path.write_text(text + f"\n[telemetry]\nchunk_rows = {CHUNK}\nper_gpu = true\n")
    return path


def _start(scenario: Path, out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "from aidc.cli import main; main()", "run", str(scenario), "--out", str(out)]
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _wait_for_rows(proc: subprocess.Popen, out: Path, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not list((out / "facility").glob("part-*.parquet")):
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the run wrote nothing"
        time.sleep(0.02)


def _read_back(out: Path) -> tuple[int, int]:
    """Rows of facility in DuckDB and in Parquet; both readable, DuckDB's rows a prefix of Parquet's."""
    run = Run(out)
    assert run.status == "complete" or run.status.startswith("incomplete (interrupted"), run.status
    parquet = ds.dataset(out / "facility").to_table().sort_by("t_s")
    with duckdb.connect(str(out / "telemetry.duckdb"), read_only=True) as con:
        db_t = [r[0] for r in con.sql("SELECT t_s FROM facility ORDER BY t_s").fetchall()]
        con.sql("SELECT count(*) FROM gpus").fetchall()
    assert db_t == parquet.column("t_s").to_pylist()[: len(db_t)]
    assert parquet.num_rows - len(db_t) <= CHUNK  # at most the chunk being inserted at the kill
    assert run.table("facility").num_rows >= len(db_t)
    return len(db_t), parquet.num_rows


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_marks_the_run_incomplete_with_its_name(tmp_path, signum, code):
    out = tmp_path / "run"
    proc = _start(_long_scenario(tmp_path), out)
    _wait_for_rows(proc, out)
    proc.send_signal(signum)
    assert proc.wait(timeout=60) == code, proc.stderr.read()
    run = Run(out)
    reason = "interrupted" if signum == signal.SIGINT else f"interrupted by {signal.Signals(signum).name}"
    assert run.metadata["status"] == "incomplete" and run.metadata["reason"] == reason
    db_rows, parquet_rows = _read_back(out)
    assert db_rows == parquet_rows > 0  # a caught signal flushes everything buffered


def test_sigkill_at_random_moments_leaves_a_readable_run(tmp_path):
    rounds = int(os.environ.get("AIDC_KILL_ROUNDS", "2"))
    scenario = _long_scenario(tmp_path)
    rng = random.Random(12)
    out = tmp_path / "run"
    for k in range(rounds):
        proc = _start(scenario, out)
        if k:  # the next run reuses the killed one's folder: --overwrite is needed, the lock is free
            assert proc.wait(timeout=60) == 2, proc.stderr.read()
            proc = subprocess.Popen(
                [*proc.args, "--overwrite"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
            )
        _wait_for_rows(proc, out)
        time.sleep(rng.uniform(0.0, 1.0))
        proc.kill()
        proc.wait(timeout=60)
        assert _read_back(out)[1] > 0


def test_a_second_writer_to_a_live_run_exits_2_and_changes_nothing(tmp_path):
    scenario, out = _long_scenario(tmp_path), tmp_path / "run"
    first = _start(scenario, out)
    _wait_for_rows(first, out)
    second = subprocess.run(
        [*first.args, "--overwrite"], capture_output=True, text=True, timeout=120, check=False
    )
    assert second.returncode == 2 and f"PID {first.pid}" in " ".join(second.stderr.split())
    assert first.poll() is None  # the first writer goes on undisturbed
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 143
    db_rows, parquet_rows = _read_back(out)
    assert db_rows == parquet_rows > 0
