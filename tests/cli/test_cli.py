from pathlib import Path

from typer.testing import CliRunner

from aidc.cli import ExitCode, app
from conftest import EXAMPLES

runner = CliRunner()


def _short(tmp_path: Path, name: str = "cooling_matters_liquid.toml") -> Path:
    text = (EXAMPLES / name).read_text()
    text = text.replace("duration_s = 1800", "duration_s = 120").replace("warmup_s = 600", "warmup_s = 0")
    p = tmp_path / name
    p.write_text(text)
    return p


def test_validate_ok_and_bad(tmp_path):
    assert runner.invoke(app, ["validate", str(EXAMPLES / "demo_hall.toml")]).exit_code == ExitCode.OK
    bad = tmp_path / "bad.toml"
    bad.write_text((EXAMPLES / "demo_hall.toml").read_text().replace('gpu = "H100-SXM"', 'gpu = "X1"'))
    r = runner.invoke(app, ["validate", str(bad)])
    assert r.exit_code == ExitCode.BAD_INPUT
    assert "unknown GPU 'X1'" in r.output


def test_bad_input_leaves_no_run_directory(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(_short(tmp_path).read_text().replace("dt_s = 5", "dt_s = 5000"))
    out = tmp_path / "run"
    r = runner.invoke(app, ["run", str(bad), "--out", str(out)])
    assert r.exit_code == ExitCode.BAD_INPUT
    assert not out.exists()
    r = runner.invoke(app, ["run", str(_short(tmp_path)), "--out", str(out), "--sample-s", "1"])
    assert r.exit_code == ExitCode.BAD_INPUT and not out.exists()


def test_run_compare_report(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    r = runner.invoke(app, ["run", str(_short(tmp_path)), "--out", str(a)])
    assert r.exit_code == ExitCode.OK, r.output
    assert "PUE" in r.output
    r = runner.invoke(app, ["run", str(_short(tmp_path, "cooling_matters_air.toml")), "--out", str(b)])
    assert r.exit_code == ExitCode.OK, r.output
    r = runner.invoke(app, ["run", str(_short(tmp_path)), "--out", str(a)])
    assert r.exit_code == ExitCode.BAD_INPUT  # exists, no --overwrite
    r = runner.invoke(app, ["compare", str(a), str(b)])
    assert r.exit_code == ExitCode.OK and "TFLOPS per GPU" in r.output
    r = runner.invoke(app, ["report", str(a)])
    assert r.exit_code == ExitCode.OK
    html = (a / "report.html").read_text()
    assert "plotly" in html and "Facility power by subsystem" in html and "cooling-matters-liquid" in html
    assert runner.invoke(app, ["compare", str(tmp_path / "nope"), str(a)]).exit_code == ExitCode.BAD_INPUT


def test_gpus_lists_the_catalog():
    r = runner.invoke(app, ["gpus"], terminal_width=200)
    assert r.exit_code == ExitCode.OK
    for name in ("H100-SXM", "H200-SXM", "B200", "MI300X"):
        assert name in r.output


def test_model_info_prints_kv_and_equivalents():
    r = runner.invoke(app, ["model", "info", "deepseek-v3"], env={"COLUMNS": "200"})
    assert r.exit_code == ExitCode.OK, r.output
    assert "70,272" in r.output  # BF16 KV bytes per token
    assert "MHA equivalent" in r.output and "GQA-8 equivalent" in r.output
    assert "671.03 B" in r.output


def test_model_info_unknown_preset_is_bad_input():
    r = runner.invoke(app, ["model", "info", "gpt-9"])
    assert r.exit_code == ExitCode.BAD_INPUT
    assert "deepseek-v3" in r.output


def test_model_list():
    r = runner.invoke(app, ["model", "list"], env={"COLUMNS": "200"})
    assert r.exit_code == ExitCode.OK and "qwen2.5-72b" in r.output
