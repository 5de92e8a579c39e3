import json

import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from aidc.api import run_scenario
from aidc.scenario import validate_scenario
from aidc.telemetry.folder import LOCK_FILE, RunLock
from aidc.telemetry.store import Run, RunBusyError, RunError, RunExistsError, RunStore


def test_run_folder_chunked_duckdb_equals_parquet_parts(tmp_path, small_scenario):
    small_scenario["telemetry"] = {"chunk_rows": 7, "per_gpu": True}
    sc = validate_scenario(small_scenario)
    run = run_scenario(sc, tmp_path / "r")
    assert run.complete and run.status == "complete"
    assert {p.name for p in run.path.iterdir()} >= {
        "metadata.json", "summary.json", "telemetry.duckdb", "facility", "halls", "gpus", LOCK_FILE,
    }  # fmt: skip
    fac = run.table("facility")
    assert fac.num_rows == sc.steps and run.source == "duckdb"
    parts = sorted((run.path / "facility").iterdir())
    assert len(parts) == -(-sc.steps // 7)  # one closed part file per flushed chunk
    assert all(pq.ParquetFile(p).metadata.num_rows <= 7 for p in parts)
    assert ds.dataset(run.path / "facility").to_table().sort_by("t_s").equals(fac)
    gpus = run.query("SELECT count(*) AS n, count(DISTINCT gpu) AS g FROM gpus").to_pylist()[0]
    assert gpus == {"n": sc.steps * 16, "g": 16}
    meta = json.loads((run.path / "metadata.json").read_text())
    assert meta["seed"] == sc.seed and meta["versions"]["aidc"]
    assert run.tables() == ["facility", "halls", "gpus"]


def test_sample_s_downsamples(tmp_path, small_scenario):
    small_scenario["telemetry"] = {"sample_s": 60}
    run = run_scenario(validate_scenario(small_scenario), tmp_path / "r")
    assert run.table("facility").column("t_s").to_pylist() == [0.0, 60.0, 120.0, 180.0, 240.0]


def test_a_run_stopped_midway_is_marked_incomplete(tmp_path, small_scenario):
    small_scenario["telemetry"] = {"chunk_rows": 5}
    sc = validate_scenario(small_scenario)

    def stop(k: int) -> None:
        if k == 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scenario(sc, tmp_path / "r", progress=stop)
    run = Run(tmp_path / "r")
    assert not run.complete and run.status == "incomplete (interrupted)"
    assert run.metadata["reason"] == "interrupted" and run.summary is None
    assert run.table("facility").num_rows >= 25  # the chunks flushed before the stop are kept


def test_existing_run_is_not_overwritten_silently(tmp_path, small_scenario):
    sc = validate_scenario(small_scenario)
    run_scenario(sc, tmp_path / "r")
    with pytest.raises(RunExistsError):
        run_scenario(sc, tmp_path / "r")
    run_scenario(sc, tmp_path / "r", overwrite=True)


def test_overwrite_removes_only_what_aidc_wrote(tmp_path, small_scenario):
    sc = validate_scenario(small_scenario)
    run_scenario(sc, tmp_path / "r")
    (tmp_path / "r" / "notes.txt").write_text("mine")
    (tmp_path / "r" / "facility" / "mine.csv").write_text("mine")
    run = run_scenario(sc, tmp_path / "r", overwrite=True)
    assert (tmp_path / "r" / "notes.txt").read_text() == "mine"
    assert (tmp_path / "r" / "facility" / "mine.csv").read_text() == "mine"
    assert run.table("facility").num_rows == sc.steps  # not twice: the old parts were removed


@pytest.mark.parametrize("content", ["notes.txt", "metadata.json"])
def test_a_folder_that_is_not_an_aidc_run_is_never_replaced(tmp_path, small_scenario, content):
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / content).write_text("[]" if content.endswith(".json") else "precious")
    with pytest.raises(ValueError, match="does not hold an aidc run"):
        run_scenario(validate_scenario(small_scenario), folder, overwrite=True)
    assert [p.name for p in folder.iterdir()] == [content]


def test_an_empty_folder_and_a_file_in_the_way(tmp_path, small_scenario):
    sc = validate_scenario(small_scenario)
    (tmp_path / "empty").mkdir()
    assert run_scenario(sc, tmp_path / "empty").complete  # nothing to lose
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="file, not a folder"):
        run_scenario(sc, tmp_path / "file" / "run")
    with pytest.raises(ValueError, match="not a folder"):
        run_scenario(sc, tmp_path / "file", overwrite=True)
    assert (tmp_path / "file").read_text() == "x"


def test_a_second_writer_is_refused_before_it_touches_anything(tmp_path, small_scenario):
    sc = validate_scenario(small_scenario)
    run_scenario(sc, tmp_path / "r")
    lock = RunLock(tmp_path / "r")  # a live writer (this process) holds the folder
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "r").iterdir()}
    try:
        with pytest.raises(RunBusyError, match="another aidc process"):
            RunStore(tmp_path / "r", {}, overwrite=True)
        assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "r").iterdir()} == before
    finally:
        lock.release()
    run_scenario(sc, tmp_path / "r", overwrite=True)  # a released (or dead) writer's lock is free


def test_a_run_that_says_running_without_its_writer_reads_as_interrupted(tmp_path):
    store = RunStore(tmp_path / "r", {"versions": {"aidc": "x"}}, chunk_rows=5)
    for k in range(12):
        store.append("facility", {"t_s": float(k), "pue": 1.2})
    assert Run(tmp_path / "r").status.startswith("running (PID")
    # while the writer holds DuckDB, readers get the Parquet parts flushed so far
    live = Run(tmp_path / "r")
    assert live.table("facility").num_rows == 10 and live.source == "parquet"
    store.lock.release()  # as the kernel does when the writer is killed
    assert Run(tmp_path / "r").status == "incomplete (interrupted)"
    store.db.close()
    assert Run(tmp_path / "r").table("facility").num_rows == 10


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "does not exist"),
        (lambda p: p.mkdir(), "no metadata.json"),
        (lambda p: (p.mkdir(), (p / "metadata.json").write_text("[]")), "no metadata.json object"),
        (lambda p: (p.mkdir(), (p / "metadata.json").write_text("{trunc")), "not valid JSON"),
    ],
)
def test_a_folder_that_is_not_a_readable_run(tmp_path, setup, message):
    setup(tmp_path / "r")
    with pytest.raises(RunError, match=message):
        Run(tmp_path / "r")


def test_a_damaged_duckdb_file_falls_back_to_parquet(tmp_path, small_scenario):
    run = run_scenario(validate_scenario(small_scenario), tmp_path / "r")
    (run.path / "telemetry.duckdb").write_bytes(b"not a database" * 100)
    assert run.table("facility").num_rows == validate_scenario(small_scenario).steps
    assert run.source == "parquet"
    for table in ("facility", "halls"):
        for part in (run.path / table).iterdir():
            part.unlink()
    with pytest.raises(RunError, match="no readable telemetry"):
        Run(run.path).table("facility")
