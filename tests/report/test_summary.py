from aidc.report.summary import PIPED_WIDTH, console, summary_table
from aidc.telemetry.store import Run, RunStore

SUMMARY = {
    "pue": 1.2,
    "it_power_mean_kw": 880.0,
    "halls": [{"hall": "a-hall-with-a-long-name", "tflops_per_kw": 46.5, "gpu_temp_p99_c": 64.0}],
}


def _run(tmp_path) -> Run:
    with RunStore(tmp_path / "a-run-with-a-long-folder-name", {"scenario": {"name": "x"}}) as store:
        store.append("facility", {"t_s": 0.0, "it_w": 1.0, "facility_w": 1.2})
        store.finish(SUMMARY)
    return Run(tmp_path / "a-run-with-a-long-folder-name")


def test_piped_tables_keep_labels_and_units_whole(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    out = console()
    assert not out.is_terminal and out.width == PIPED_WIDTH
    out.print(summary_table([_run(tmp_path)]))
    lines = capsys.readouterr().out.splitlines()
    assert any("a-hall-with-a-long-name: TFLOPS/kW (per GPU / node)" in line for line in lines)
    assert any("a-hall-with-a-long-name: GPU temp p99 [°C]" in line for line in lines)


def test_columns_set_by_the_user_win(monkeypatch):
    monkeypatch.setenv("COLUMNS", "90")
    assert console().width == 90
    assert console(stderr=True).stderr
