import json

import pyarrow.parquet as pq
import pytest

from aidc.api import run_scenario
from aidc.scenario import validate_scenario
from aidc.telemetry.store import Run, RunExistsError


def test_run_directory_chunked_duckdb_equals_parquet(tmp_path, small_scenario):
    small_scenario["telemetry"] = {"chunk_rows": 7, "per_gpu": True}
    sc = validate_scenario(small_scenario)
    run = run_scenario(sc, tmp_path / "r")
    assert run.complete
    assert {p.name for p in run.path.iterdir()} >= {
        "metadata.json",
        "summary.json",
        "telemetry.duckdb",
        "facility.parquet",
        "halls.parquet",
        "gpus.parquet",
    }
    fac = run.table("facility")
    assert fac.num_rows == sc.steps
    assert pq.read_table(run.path / "facility.parquet").num_rows == sc.steps
    assert pq.ParquetFile(run.path / "facility.parquet").num_row_groups == -(-sc.steps // 7)
    gpus = run.query("SELECT count(*) AS n, count(DISTINCT gpu) AS g FROM gpus").to_pylist()[0]
    assert gpus == {"n": sc.steps * 16, "g": 16}
    meta = json.loads((run.path / "metadata.json").read_text())
    assert meta["seed"] == sc.seed and meta["versions"]["aidc"]


def test_sample_s_downsamples(tmp_path, small_scenario):
    small_scenario["telemetry"] = {"sample_s": 60}
    run = run_scenario(validate_scenario(small_scenario), tmp_path / "r")
    assert run.table("facility").column("t_s").to_pylist() == [0.0, 60.0, 120.0, 180.0, 240.0]


def test_a_run_stopped_midway_is_marked_incomplete(tmp_path, small_scenario):
    sc = validate_scenario(small_scenario)
    small_scenario["telemetry"] = {"chunk_rows": 5}
    sc = validate_scenario(small_scenario)

    def stop(k: int) -> None:
        if k == 30:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_scenario(sc, tmp_path / "r", progress=stop)
    run = Run(tmp_path / "r")
    assert not run.complete
    assert run.metadata["status"] == "incomplete" and run.metadata["reason"] == "interrupted"
    assert run.summary is None
    assert run.table("facility").num_rows >= 25  # the chunks flushed before the stop are kept


def test_existing_run_is_not_overwritten_silently(tmp_path, small_scenario):
    sc = validate_scenario(small_scenario)
    run_scenario(sc, tmp_path / "r")
    with pytest.raises(RunExistsError):
        run_scenario(sc, tmp_path / "r")
    run_scenario(sc, tmp_path / "r", overwrite=True)
