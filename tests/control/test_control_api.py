import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from aidc.cli import ExitCode, app
from aidc.control.api import (
    Behaviour,
    collect_dataset,
    episodes,
    evaluate_controllers,
    train_policy,
    write_evaluation,
)
from aidc.control.datasets import read_dataset
from aidc.control.offline import IQLConfig


def test_collect_train_evaluate_round_trip(tmp_path):
    path = collect_dataset(
        "liquid", tmp_path / "d.parquet", behaviour=(Behaviour("rule-based", 0.3),), months=(1,)
    )
    data, meta = read_dataset(path)
    assert len(data) == 288 and meta["env"] == "aidc/LiquidCooling-v0"
    assert (abs(data.actions) <= 1.0).all()
    table = pq.read_table(path)
    assert set(table.column("behaviour").to_pylist()) == {"rule-based+noise0.3"}
    policy = train_policy(path, tmp_path / "p.pt", IQLConfig(steps=20, hidden=16))
    results = evaluate_controllers("liquid", ["fixed", str(policy)], episode_list=episodes([2], 12)[:1])
    assert set(results) == {"fixed", str(policy)}
    assert results["fixed"]["steps"] == 288 and results["fixed"]["cooling_kwh"] > 0
    trace = results["fixed"]["trace"]
    assert len(trace) == 288 and trace[0]["facility_supply_temp_c"] == pytest.approx(32.0)
    assert sum(t["cooling_kw"] for t in trace) / 12 == pytest.approx(results["fixed"]["cooling_kwh"])
    js, html = write_evaluation(results, tmp_path / "eval", kind="liquid", episode_list=episodes([2], 12)[:1])
    assert js.exists() and html.stat().st_size > 10_000


def test_bad_inputs_fail_before_running(tmp_path):
    with pytest.raises(ValueError, match="neither a baseline"):
        evaluate_controllers("air", ["fixed", str(tmp_path / "missing.pt")])
    with pytest.raises(ValueError, match="air, liquid"):
        collect_dataset("immersion", tmp_path / "x.parquet")
    runner = CliRunner()
    r = runner.invoke(
        app, ["control", "train", str(tmp_path / "nothing.parquet"), "--out", str(tmp_path / "p.pt")]
    )
    assert r.exit_code == ExitCode.BAD_INPUT and "no dataset" in r.output
    r = runner.invoke(app, ["control", "eval", "fixed", "--env", "water"])
    assert r.exit_code == ExitCode.BAD_INPUT
    assert not (tmp_path / "p.pt").exists()


def test_parallel_evaluation_through_ray_equals_sequential():
    eps = episodes([2], 12)[:1]
    seq = evaluate_controllers("liquid", ["fixed", "rule-based"], episode_list=eps)
    par = evaluate_controllers("liquid", ["fixed", "rule-based"], episode_list=eps, parallel=True)
    for name in seq:
        assert par[name].pop("trace") == seq[name].pop("trace")
        assert par[name] == pytest.approx(seq[name], rel=1e-12)
