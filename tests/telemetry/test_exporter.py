"""The twin behind a Prometheus endpoint: every GPU under DCGM exporter's names and labels, the
counters integrating what the twin booked, the facility's metrics, and the command's errors."""

from __future__ import annotations

import json
import re
import threading
import urllib.request
from importlib.resources import files

import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from aidc.api import serve_twin, start_metrics_server
from aidc.cli import ExitCode, app
from aidc.scenario import validate_scenario
from aidc.sim.build import build_simulation
from conftest import EXAMPLES, example_dict


def _scrape(url: str) -> dict[str, list]:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


@pytest.fixture
def served():
    d = example_dict("cooling_matters_liquid.toml")  # one 8×H100 node under load
    d["duration_s"], d["warmup_s"], d["dt_s"] = 300.0, 0.0, 5.0
    d["halls"][0]["racks_per_row"] = 2  # two racks of one node: 16 GPUs
    scenario = validate_scenario(d)
    server = start_metrics_server(scenario, port=0)
    steps: list[float] = []
    serve_twin(scenario, server, speed=0.0, on_step=steps.append)
    yield scenario, server, steps
    server.close()


def test_every_gpu_is_scraped_under_dcgm_names_with_its_place(served):
    _, server, steps = served
    metrics = _scrape(server.url)
    temps = metrics["DCGM_FI_DEV_GPU_TEMP"]
    assert len(temps) == 16
    labels = {(s.labels["rack"], s.labels["node"], s.labels["gpu"]) for s in temps}
    assert len(labels) == 16 and {s.labels["modelName"] for s in temps} == {"H100-SXM"}
    assert {s.labels["Hostname"] for s in temps} == {"lab-r0000-n00", "lab-r0001-n00"}
    for name in ("DCGM_FI_DEV_POWER_USAGE", "DCGM_FI_DEV_SM_CLOCK"):
        assert len(metrics[name]) == 16
    assert all(30.0 < s.value < 92.0 for s in temps)
    assert metrics["aidc_sim_time_seconds"][0].value == steps[-1] == 300.0


def test_the_energy_counter_integrates_the_power_the_twin_booked(served):
    scenario, server, _ = served
    metrics = _scrape(server.url)
    energy = [s for s in metrics["DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"] if s.name.endswith("_total")]
    # the same (deterministic) run again: each GPU's booked power × step length [mJ]
    booked = sum(rec.halls[0].state.power_w * rec.dt_s * 1e3 for rec in build_simulation(scenario).run())
    hall = scenario.halls[0]
    per_node, per_rack = hall.node.gpus_per_node, hall.nodes_per_rack
    for sample in energy:
        node = int(sample.labels["rack"]) * per_rack + int(sample.labels["node"])
        gpu = node * per_node + int(sample.labels["gpu"])
        assert sample.value == pytest.approx(booked[gpu], rel=1e-12)
    assert metrics["aidc_pue"][0].value > 1.0
    subsystems = {s.labels["subsystem"] for s in metrics["aidc_cooling_power_watts"]}
    assert subsystems == {"crah_fans", "pumps", "chiller", "heat_rejection"}


def test_a_scenario_can_be_stopped_while_it_is_served():
    d = example_dict("cooling_matters_liquid.toml")
    scenario = validate_scenario(d)
    server = start_metrics_server(scenario, port=0)
    stop = threading.Event()
    steps: list[float] = []
    worker = threading.Thread(
        target=serve_twin,
        args=(scenario, server),
        kwargs={"speed": 60.0, "stop": stop, "on_step": steps.append},
    )
    worker.start()
    stop.wait(0.5)
    stop.set()
    worker.join(timeout=10.0)
    server.close()
    assert not worker.is_alive() and 0 < len(steps) < scenario.steps


def test_the_command_refuses_a_bad_scenario_and_a_busy_port(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = 'x'\n")
    result = CliRunner().invoke(app, ["serve", str(bad)])
    assert result.exit_code == ExitCode.BAD_INPUT
    scenario = validate_scenario(example_dict("cooling_matters_liquid.toml"))
    server = start_metrics_server(scenario, port=0)
    try:
        busy = CliRunner().invoke(
            app, ["serve", str(EXAMPLES / "cooling_matters_liquid.toml"), "--port", str(server.port)]
        )
        assert busy.exit_code == ExitCode.BAD_INPUT and "cannot listen" in busy.output
    finally:
        server.close()


def test_the_grafana_dashboard_asks_only_for_what_the_exporter_serves(served):
    _, server, _ = served
    served_names = set(_scrape(server.url))
    dashboard = json.loads((files("aidc") / "telemetry" / "grafana" / "aidc-twin.json").read_text())
    assert {v["name"] for v in dashboard["templating"]["list"]} == {"datasource", "hall"}
    ids, cells = set(), set()
    for panel in dashboard["panels"]:
        assert panel["id"] not in ids
        ids.add(panel["id"])
        g = panel["gridPos"]
        area = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not area & cells, panel["title"]  # no two panels overlap
        cells |= area
        for target in panel["targets"]:
            for name in re.findall(r"\b(?:DCGM_FI_DEV_\w+|aidc_\w+)", target["expr"]):
                assert name.removesuffix("_total") in served_names, (panel["title"], name)
