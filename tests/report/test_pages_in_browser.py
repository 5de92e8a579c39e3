"""Every page aidc writes, opened in headless Chromium: it draws without a console error, every
figure has data, each hall, job or controller has one colour and one legend entry per figure, and a
screenshot is taken. Needs the ``playwright`` package and a system Chromium (``apt-get install -y
chromium``); the browser playwright would download is never used."""

from __future__ import annotations

import shutil
import struct
import threading
from pathlib import Path

import numpy as np
import pytest
from fake_runs import year_run

from aidc.api import run_scenario, serve_twin, start_metrics_server
from aidc.control.api import episodes, write_evaluation
from aidc.report.html import write_report
from aidc.report.power_quality import write_power_quality
from aidc.scenario import validate_scenario
from aidc.sim.build import build_simulation
from aidc.sim.power_quality import Mitigations, training_power_quality
from aidc.sweep import load_sweep, run_sweep
from aidc.sweep.page import write_sweep_page
from aidc.sweep.runner import table
from conftest import EXAMPLES, example_dict

sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright: pip install playwright")

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
FIGURES_JS = """() => [...document.querySelectorAll(".js-plotly-plot")].map((d) => ({
  empty: d._fullData.filter((t) => !Array.from(t.type === "sankey" ? t.link.value : t.y || [])
    .some(Number.isFinite)).map((t) => t.name || t.type),
  legend: d._fullData.filter((t) => t.showlegend).map((t) => `${t.legendgroup}: ${t.name}`),
  colours: d._fullData.filter((t) => t.legendgroup).map((t) => [t.legendgroup, t.line.color]),
  types: d._fullData.map((t) => t.type),
  nodes: d._fullData.filter((t) => t.type === "sankey").map((t) => t.node.label.length),
}))"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _short_run_report(tmp: Path) -> Path:
    d = example_dict("serving_deepseek_v3.toml")
    d["duration_s"], d["warmup_s"] = 300.0, 0.0
    return write_report(run_scenario(validate_scenario(d), tmp / "run"), tmp / "report.html")


def _site_report(tmp: Path) -> Path:
    """A liquid hall with PV and a battery at the meter for a day (the energy-sources figure),
    with grid signals (a synthetic daily shape, only to draw: aidc ships no grid data)."""
    d = example_dict("cooling_matters_liquid.toml")
    d["duration_s"], d["warmup_s"], d["dt_s"] = 86400.0, 0.0, 300.0
    d["weather"] = {"climate": "greensboro-nc", "start": "06-01 00:00"}
    hours = np.arange(8760)
    carbon = 400.0 + 150.0 * np.cos(2 * np.pi * (hours % 24 - 3) / 24)
    price = 40.0 + 30.0 * np.sin(2 * np.pi * (hours % 24 - 9) / 24)
    signals = tmp / "grid.csv"
    rows = [f"{h},{c:.1f},{p:.2f}" for h, c, p in zip(hours, carbon, price, strict=True)]
    signals.write_text("hour_of_year,carbon_g_per_kwh,price_usd_per_mwh\n" + "\n".join(rows) + "\n")
    d["site"] = {
        "pv": {"dc_capacity_kw": 20.0},
        "battery": {"capacity_kwh": 40.0, "max_charge_kw": 10.0, "max_discharge_kw": 10.0},
        "grid_signals_file": str(signals),
    }
    return write_report(run_scenario(validate_scenario(d), tmp / "run"), tmp / "report.html")


def _faults_report(tmp: Path) -> Path:
    """The DLC ride-through example, shortened: a pump loss and a utility outage (the ride-through
    figure and the fault rows)."""
    d = example_dict("ride_through_dlc.toml")
    d["duration_s"], d["warmup_s"], d["dt_s"] = 900.0, 0.0, 2.0
    d["halls"][0]["rows"] = 1
    d["faults"][0] |= {"start_s": 200.0, "duration_s": 120.0}
    d["faults"][1] |= {"start_s": 450.0, "duration_s": 300.0}
    return write_report(run_scenario(validate_scenario(d), tmp / "run"), tmp / "report.html")


def _power_quality(tmp: Path) -> Path:
    """A training job's swings raw and mitigated (waveforms and spectra)."""
    sim = build_simulation(validate_scenario(example_dict("demand_response_256.toml")))
    mitigations = Mitigations(floor_frac=0.65, ramp_w_per_s=2000.0, battery_kw=150.0, battery_kwh=5.0)
    result = training_power_quality(sim, 0, 0, seconds=60.0, sample_hz=100.0, mitigations=mitigations)
    return write_power_quality(result, tmp / "power.html", "power quality")


def _year_report(tmp: Path) -> Path:
    return write_report(year_run(tmp / "run"), tmp / "report.html")


def _evaluation(tmp: Path) -> Path:
    """Results shaped as ``evaluate_controllers`` returns them; "rule-based" ends episode 1 early."""
    rng = np.random.default_rng(0)
    results = {}
    for k, name in enumerate(("fixed", "rule-based", "policy.pt")):
        trace = [
            {
                "episode": ep,
                "step": i,
                "cooling_kw": 20.0 + 5.0 * np.sin(i / 40.0) + k + rng.normal(),
                "gpu_temp_max_c": 70.0 + k + rng.normal(),
                "inlet_temp_max_c": 25.0,
            }
            for ep in range(2)
            for i in range(200 if (name, ep) == ("rule-based", 1) else 288)
        ]
        results[name] = {"cooling_kwh": 100.0 + k, "pue": 1.2, "steps": len(trace), "trace": trace}
    audit = [  # an LLM controller's explained decisions: the operator's view under the totals
        {"episode": 0, "prompt": "…\n\nNow: outdoor 30.1 °C, hottest 63.0 °C\n\n…", "letters": "DC",
         "action": [32.5, 1.0], "rationale": "GPUs are cool, so I raise the water supply.", "faithful": True,
         "shield": "pass"},
    ] * 3  # fmt: skip
    results["policy.pt"]["audit"] = audit
    path = write_evaluation(results, tmp, kind="liquid", episode_list=episodes([2, 4], 12))[1]
    assert "decisions with their rationales" in path.read_text()
    return path


def _sweep(tmp: Path) -> Path:
    """The example sweep's nine variants, shortened to one hour each (both varied fields drawn)."""
    text = (EXAMPLES / "sweeps" / "supply_by_climate.toml").read_text()
    (tmp / "sweeps").mkdir()
    path = tmp / "sweeps" / "sw.toml"
    path.write_text(
        text.replace('"../demo_hall.toml"', repr(str(EXAMPLES / "demo_hall.toml"))).replace("21600", "3600")
    )
    sw = load_sweep(path)
    outcomes = run_sweep(sw, tmp / "out", use_ray=False)
    return write_sweep_page(sw, table(sw, {o.id: o for o in outcomes}), tmp / "sweep.html")


PAGES = {
    "run report": _short_run_report,
    "run report, PV and battery": _site_report,
    "run report, faults": _faults_report,
    "power quality": _power_quality,
    "run report, a year": _year_report,
    "evaluation": _evaluation,
    "sweep": _sweep,
}


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("page_name", list(PAGES))
def test_page_draws_in_chromium(browser, tmp_path, page_name):
    path = PAGES[page_name](tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector("body[data-figures=drawn]", timeout=60_000)
    figures = page.evaluate(FIGURES_JS)
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    page.close()

    assert errors == []
    assert len(figures) == path.read_text().count('class="aidc-figure"') >= 1
    if page_name == "run report":  # a real run: its energy flow (facility, IT, cooling, the parts)
        (flow,) = [f for f in figures if "sankey" in f["types"]]
        assert flow["nodes"][0] >= 9
    assert all(f["empty"] == [] for f in figures), [f["empty"] for f in figures]
    for f in figures:
        assert len(f["legend"]) == len(set(f["legend"])), f["legend"]
    colours: dict[str, set[str]] = {}
    for group, colour in (c for f in figures for c in f["colours"]):
        colours.setdefault(group, set()).add(colour)
    assert colours and all(len(c) == 1 for c in colours.values()), colours
    width, height = _png_size(shot)
    assert width == 1280 and height > 900 and shot.stat().st_size > 30_000


def test_the_live_page_loads_and_updates_in_chromium(browser, tmp_path):
    """aidc serve's page: it draws the twin's state, and a second later a newer one, with no error."""
    d = example_dict("cooling_matters_liquid.toml")
    d["duration_s"], d["warmup_s"], d["dt_s"] = 3600.0, 0.0, 5.0
    scenario = validate_scenario(d)
    server = start_metrics_server(scenario, port=0)
    stop = threading.Event()
    twin = threading.Thread(target=serve_twin, args=(scenario, server), kwargs={"speed": 20.0, "stop": stop})
    twin.start()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(server.page_url)
        page.wait_for_function("Number(document.body.dataset.updates || 0) >= 1", timeout=20_000)
        first = float(page.evaluate("document.body.dataset.runTime"))
        page.wait_for_function("Number(document.body.dataset.updates || 0) >= 3", timeout=20_000)
        later = float(page.evaluate("document.body.dataset.runTime"))
        latency_ms = float(page.evaluate("document.body.dataset.latencyMs"))
        rows = page.locator("#halls tbody tr").count()
        shot = tmp_path / "live.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
        stop.set()
        twin.join(timeout=10.0)
        server.close()
    assert errors == []
    assert later > first > 0.0 and rows == 1  # the twin moved on between two polls
    # a state is on screen at most one poll (1 s) plus this after the twin wrote it
    assert 0.0 < latency_ms < 500.0
    assert _png_size(shot)[0] == 1280 and shot.stat().st_size > 10_000
