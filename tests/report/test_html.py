import numpy as np
import pytest
from fake_runs import SPIKE_C, page_figures, year_run

from aidc.report.html import write_report


@pytest.fixture(scope="module")
def year_page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("year")
    return write_report(year_run(tmp / "run"), tmp / "report.html")


def _by_title(figs: list[dict]) -> dict[str, dict]:
    return {f["layout"]["title"]["text"]: f for f in figs}


def test_a_year_long_report_stays_under_5_mb(year_page):
    assert year_page.stat().st_size < 5e6  # 105,120 samples a series; 41 MB before downsampling
    for fig in page_figures(year_page):
        for trace in fig["data"]:
            assert 2 <= len(trace["y"]) <= 2100  # a few per pixel column, not the whole year


def test_a_one_sample_spike_survives_downsampling(year_page):
    temps = _by_title(page_figures(year_page))["GPU junction and coolant temperatures"]
    hottest = next(t for t in temps["data"] if t["legendgroup"] == "training" and t["name"] == "GPU max")
    assert hottest["y"].max() == SPIKE_C


def test_each_hall_and_job_keeps_one_colour_on_every_figure(year_page):
    colours: dict[str, set[str]] = {}
    for fig in page_figures(year_page):
        for trace in fig["data"]:
            if "legendgroup" in trace:
                colours.setdefault(trace["legendgroup"], set()).add(trace["line"]["color"])
    assert set(colours) == {"training", "inference", "inference/chat"}
    assert all(len(c) == 1 for c in colours.values())
    assert len({next(iter(c)) for c in colours.values()}) == 3


def test_clocks_are_shown_over_busy_gpus_and_over_all(year_page):
    clocks = _by_title(page_figures(year_page))["GPU clocks and throttling"]
    names = {(t["legendgroup"], t["name"]) for t in clocks["data"]}
    for hall in ("training", "inference"):
        assert {(hall, "mean clock, busy GPUs"), (hall, "mean clock, all GPUs")} <= names


def test_event_counts_start_at_zero(year_page):
    memory = _by_title(page_figures(year_page))["KV-cache memory"]
    kills = next(t for t in memory["data"] if t["name"] == "kills (cumulative)")
    assert not np.any(kills["y"])
    lo, hi = memory["layout"]["yaxis2"]["range"]
    assert -0.05 < lo <= 0.0 and 1.0 <= hi < 1.1
    assert memory["layout"]["yaxis2"]["dtick"] == 1


def test_a_long_run_is_drawn_in_days(year_page):
    power = _by_title(page_figures(year_page))["Facility power by subsystem"]
    assert power["layout"]["xaxis"]["title"]["text"] == "time [d]"
    assert power["layout"]["xaxis"]["range"][1] == pytest.approx(365.0, abs=0.01)
