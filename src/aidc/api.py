"""The public Python API the CLI and the report call: run a scenario into a run directory, in
memory, or live behind a Prometheus endpoint."""

from __future__ import annotations

import platform
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pvlib
import pyarrow

import aidc
from aidc.hardware.calibration import POWER_PARAMETERS, Calibration, ThermalPath, calibrate
from aidc.hardware.catalog import get_gpu
from aidc.hardware.node import coolant_rise_resistance_k_w
from aidc.scenario import Scenario, load_scenario
from aidc.scenario.gpu_parameters import GPUParameters
from aidc.scenario.hall import ThermalConfig
from aidc.sim.build import build_simulation
from aidc.sim.engine import Simulation, StepRecord
from aidc.telemetry.exporter import TwinCollector
from aidc.telemetry.live import start_live_server
from aidc.telemetry.metrics import RunMetrics
from aidc.telemetry.rows import facility_row, gpu_columns, hall_rows, serving_rows
from aidc.telemetry.sources import Source, host_sources
from aidc.telemetry.store import Run, RunStore
from aidc.telemetry.traces import read_device_trace

__all__ = [
    "MetricsServer",
    "Run",
    "calibrate_gpu",
    "load_scenario",
    "run_scenario",
    "serve_twin",
    "simulate",
    "start_metrics_server",
]


def _versions() -> dict[str, str]:
    return {
        "aidc": aidc.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pvlib": pvlib.__version__,
        "duckdb": duckdb.__version__,
        "pyarrow": pyarrow.__version__,
    }


def simulate(scenario: Scenario, on_step: Callable[[StepRecord], None] | None = None) -> dict[str, Any]:
    """Run a scenario in memory and return its summary (no run directory).

    ``ScenarioError`` (naming the field) if a component cannot be built, before anything runs.
    """
    sim = build_simulation(scenario)
    metrics = RunMetrics(sim.config(), scenario.warmup_s)
    for rec in sim.run():
        metrics.add(rec)
        if on_step is not None:
            on_step(rec)
    return metrics.summary(sim.serving_results())


def run_scenario(
    scenario: Scenario,
    out: str | Path,
    *,
    overwrite: bool = False,
    progress: Callable[[int], None] | None = None,
    source: str | None = None,
    sim: Simulation | None = None,
) -> Run:
    """Simulate ``scenario`` and write its run directory at ``out``; returns the :class:`Run`.

    The scenario's components are built before anything is written (``ScenarioError`` naming the
    field if one cannot be; pass ``sim`` if it is built already), then the run folder is claimed
    (``OutputError`` if it may not be written), so nothing is written for bad input. An exception or
    Ctrl-C during the run leaves the folder marked incomplete, with everything flushed so far.
    """
    sim = sim or build_simulation(scenario)
    components = sim.config()
    metadata = {
        "scenario": scenario.model_dump(mode="json"),
        "scenario_file": source,
        "seed": scenario.seed,
        "versions": _versions(),
        "components": components,
    }
    tel = scenario.telemetry
    sample_s = tel.sample_s or scenario.dt_s
    metrics = RunMetrics(components, scenario.warmup_s)
    next_sample = 0.0
    with RunStore(out, metadata, tel.chunk_rows, overwrite) as store:
        for rec in sim.run(progress):
            metrics.add(rec)
            if rec.t_s + 1e-9 < next_sample:
                continue
            next_sample += sample_s
            store.append("facility", facility_row(rec))
            for row in hall_rows(rec):
                store.append("halls", row)
            for row in serving_rows(rec):
                store.append("serving", row)
            if tel.per_gpu:
                for h in rec.halls:
                    store.extend("gpus", gpu_columns(rec, h))
        store.finish(metrics.summary(sim.serving_results()))
    return Run(out)


# -- serving a running twin's metrics to Prometheus (aidc.telemetry.exporter) --------------------
@dataclass
class MetricsServer:
    """The endpoint of a served twin: where it listens and how to stop it."""

    address: str
    port: int
    collector: TwinCollector
    _server: object
    _thread: threading.Thread

    @property
    def url(self) -> str:
        """The Prometheus endpoint."""
        return f"http://{self.address}:{self.port}/metrics"

    @property
    def page_url(self) -> str:
        """The live page."""
        return f"http://{self.address}:{self.port}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5.0)


def start_metrics_server(scenario: Scenario, address: str = "127.0.0.1", port: int = 9400) -> MetricsServer:
    """A collector for ``scenario`` behind an HTTP server (``port`` 0: any free one): ``/metrics``
    for Prometheus, ``/`` a live page, ``/state.json`` its data (:mod:`aidc.telemetry.live`).
    ``OSError`` if the address cannot be bound."""
    collector = TwinCollector(scenario)
    server, thread = start_live_server(collector, address, port)
    return MetricsServer(address, server.server_port, collector, server, thread)


def serve_twin(
    scenario: Scenario,
    server: MetricsServer,
    *,
    speed: float = 1.0,
    stop: threading.Event | None = None,
    on_step: Callable[[float], None] | None = None,
    sim: Simulation | None = None,
) -> None:
    """Step ``scenario`` to its end, each step's record published to ``server`` once the wall clock
    has caught up with it: ``speed`` simulated seconds per wall second (0: as fast as it can).
    ``stop`` ends it early. ``ScenarioError`` before anything runs if a component cannot be built
    (pass ``sim`` if it is built already)."""
    sim = sim or build_simulation(scenario)
    start = time.monotonic()
    for rec in sim.run():
        if stop is not None and stop.is_set():
            return
        if speed > 0.0:
            wait = start + (rec.t_s + rec.dt_s) / speed - time.monotonic()
            if wait > 0.0 and (stop.wait(wait) if stop is not None else time.sleep(wait) or False):
                return
        server.collector.update(rec)
        if on_step is not None:
            on_step(rec.t_s + rec.dt_s)


# -- recording what the host reads (aidc.telemetry.sources) ---------------------------------------
def record_host(
    out: str | Path,
    seconds: float,
    interval_s: float = 1.0,
    *,
    sources: list[Source] | None = None,
    overwrite: bool = False,
    stop: threading.Event | None = None,
) -> Run:
    """Read every source that can read here every ``interval_s`` for ``seconds`` into the run folder
    ``out`` (table ``host``: ``t_s``, ``source``, ``metric``, ``value``); the metadata lists each
    source with why it could not read, if it could not. ``stop`` ends it early."""
    sources = host_sources() if sources is None else sources
    probes = {s.name: s.probe() for s in sources}
    live = [s for s in sources if probes[s.name] is None]
    metadata = {"kind": "recording", "sources": {n: why or "reading" for n, why in probes.items()}}
    start = time.monotonic()
    samples = 0
    with RunStore(out, {**metadata, "versions": _versions()}, overwrite=overwrite) as store:
        while True:
            t = time.monotonic() - start
            for source in live:
                for metric, value in source.read().items():
                    store.append("host", {"t_s": t, "source": source.name, "metric": metric, "value": value})
            samples += 1
            if samples * interval_s > seconds:
                break
            pause = max(samples * interval_s - (time.monotonic() - start), 0.0)
            if stop is not None and stop.wait(pause):
                break
            if stop is None:
                time.sleep(pause)
        store.finish(
            {"seconds": time.monotonic() - start, "samples": samples, "sources": metadata["sources"]}
        )
    return Run(out)


def calibrate_gpu(
    recording: str | Path,
    gpu: str,
    *,
    gpu_index: int = 0,
    sink_c: float | None = None,
    cooling: str = "liquid",
    flow_l_min: float = ThermalConfig().cold_plate_flow_l_min,
    fixed: dict[str, float] | None = None,
) -> tuple[Calibration, GPUParameters]:
    """Fit GPU ``gpu_index`` of ``recording`` (an ``aidc record`` run folder or a CSV trace,
    :mod:`aidc.telemetry.traces`) to the catalog's ``gpu`` on a ``cooling`` path ("liquid": a
    cold plate with ``flow_l_min`` per plate; "immersion"), starting from, and judged against, the
    catalog and the hall's default thermal path; returns the fit and the parameter file it makes.
    ``ValueError`` (a ``TraceError`` for the recording) for what cannot be fitted."""
    if cooling not in ("liquid", "immersion"):
        raise ValueError(
            f"cooling = {cooling!r}: liquid or immersion (an air-cooled GPU needs its fan speed)"
        )
    spec = get_gpu(gpu)
    trace = read_device_trace(recording, gpu_index, sink_c)
    defaults = ThermalConfig()
    rise = coolant_rise_resistance_k_w(flow_l_min) if cooling == "liquid" else 0.0
    own = defaults.cold_plate_resistance_k_w if cooling == "liquid" else defaults.immersion_resistance_k_w
    cal = calibrate(trace, spec, ThermalPath(own + rise, defaults.capacitance_j_k), fixed=fixed)
    field = "cold_plate_resistance_k_w" if cooling == "liquid" else "immersion_resistance_k_w"
    if cal.path.resistance_k_w - rise < 0.001:
        raise ValueError(
            f"fitted junction-to-coolant resistance {cal.path.resistance_k_w:.4g} K/W is below the "
            f"coolant's own rise at {flow_l_min:g} L/min ({rise:.4g} K/W): check --flow-l-min"
        )
    params = GPUParameters(
        gpu=gpu,
        **{name: getattr(cal.spec, name) for name in POWER_PARAMETERS},
        thermal={field: cal.path.resistance_k_w - rise, "capacitance_j_k": cal.path.capacitance_j_k},
        fit={
            "recording": str(recording),
            "gpu_index": gpu_index,
            "cooling": cooling,
            "flow_l_min": flow_l_min if cooling == "liquid" else 0.0,
            "held_out_s": cal.held_out_s,
            **{
                f"{k}_{when}_{stat}": getattr(getattr(cal, when)[k], stat)
                for when in ("before", "after")
                for k in ("temp_c", "power_w")
                for stat in ("cv_rmse_pct", "nmbe_pct")
            },
        },
    )
    return cal, params
