"""The twin's state as Prometheus metrics: every GPU under NVIDIA DCGM exporter's names and units,
labelled by hall, rack, node and GPU, and the facility under ``aidc_`` names.

DCGM's fields and units (NVIDIA dcgm-exporter, ``default-counters.csv``; DCGM field identifiers):

| name | type | unit |
| --- | --- | --- |
| ``DCGM_FI_DEV_GPU_TEMP`` | gauge | °C |
| ``DCGM_FI_DEV_POWER_USAGE`` | gauge | W |
| ``DCGM_FI_DEV_SM_CLOCK`` | gauge | MHz |
| ``DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION`` | counter | mJ since the run started |
| ``DCGM_FI_DEV_POWER_VIOLATION`` | counter | µs held back by the power limit |
| ``DCGM_FI_DEV_THERMAL_VIOLATION`` | counter | µs at or above the slowdown temperature |

The counters are the twin's own integrals over its steps (energy as power × time, the
violations as the share of each step the power limit or the heat held a GPU back), so a scrape
between steps reads the state after the last one, as a real exporter reads the last sample.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from aidc.scenario import Scenario

if TYPE_CHECKING:  # types only
    from aidc.sim.engine import StepRecord

_GPU_GAUGES = (  # name, help, HallState field
    ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", "temp_c"),
    ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", "power_w"),
    ("DCGM_FI_DEV_SM_CLOCK", "SM clock frequency (in MHz).", "clock_mhz"),
)
_GPU_COUNTERS = (  # name, help, key of the integrals
    ("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "Total energy consumption since boot (in mJ).", "energy_mj"),
    ("DCGM_FI_DEV_POWER_VIOLATION", "Throttling duration due to power constraints (in us).", "power_us"),
    (
        "DCGM_FI_DEV_THERMAL_VIOLATION",
        "Throttling duration due to thermal constraints (in us).",
        "thermal_us",
    ),
)
_SUBSYSTEMS = ("crah_fans_w", "pumps_w", "chiller_w", "heat_rejection_w")


class TwinCollector(Collector):
    """Prometheus metrics of a running twin: :meth:`update` after each step, scraped at will."""

    def __init__(self, scenario: Scenario):
        self.scenario = scenario
        self._lock = threading.Lock()
        self._record: StepRecord | None = None
        self._labels = [_gpu_labels(scenario, h) for h in range(len(scenario.halls))]
        self._integrals = [
            {k: np.zeros(h.gpu_count) for k in ("energy_mj", "power_us", "thermal_us")}
            for h in scenario.halls
        ]
        self._tokens: dict[tuple[str, str], float] = {}

    def update(self, rec: StepRecord) -> None:
        """Take a step's record: the gauges' new values, the counters' increments."""
        dt = rec.dt_s
        with self._lock:
            for h, integ in zip(rec.halls, self._integrals, strict=True):
                st = h.state
                integ["energy_mj"] += st.power_w * dt * 1e3
                integ["power_us"] += st.power_capped * st.resident * dt * 1e6
                integ["thermal_us"] += st.thermal * st.resident * dt * 1e6
                for sv in st.serving:
                    self._tokens[(st.name, sv.job)] = sv.output_tokens
            self._record = rec

    def snapshot(self) -> dict[str, object] | None:
        """The last step in a few numbers for the live page (None before the first step)."""
        with self._lock:
            rec = self._record
            if rec is None:
                return None
            chain = rec.chain
            halls = [
                {
                    "name": h.state.name,
                    "gpus": int(h.state.temp_c.size),
                    "gpu_temp_max_c": float(h.state.temp_c.max()),
                    "gpu_temp_mean_c": float(h.state.temp_c.mean()),
                    "gpu_kw": h.step.gpu_w / 1e3,
                    "clock_mean_mhz": float(h.state.clock_mhz.mean()),
                    "shut_down": int(h.step.shutdown_gpus),
                    "supply_air_c": h.plant.supply_air_c,
                    "liquid_supply_c": h.plant.liquid_supply_c or None,
                }
                for h in rec.halls
            ]
            return {
                "name": self.scenario.name,
                "t_s": rec.t_s + rec.dt_s,
                "pue": chain.facility_w / chain.it_w if chain.it_w else None,
                "facility_kw": chain.facility_w / 1e3,
                "it_kw": chain.it_w / 1e3,
                "dry_bulb_c": rec.dry_bulb_c,
                "halls": halls,
            }

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            rec = self._record
            if rec is None:
                return
            yield from self._gpu_metrics(rec)
            yield from self._facility_metrics(rec)

    def _gpu_metrics(self, rec: StepRecord) -> Iterator[Metric]:
        names = ["gpu", "modelName", "Hostname", "hall", "rack", "node"]
        for name, doc, field in _GPU_GAUGES:
            family = GaugeMetricFamily(name, doc, labels=names)
            for h, labels in zip(rec.halls, self._labels, strict=True):
                for values, sample in zip(labels, getattr(h.state, field), strict=True):
                    family.add_metric(values, float(sample))
            yield family
        for name, doc, key in _GPU_COUNTERS:
            family = CounterMetricFamily(name, doc, labels=names)
            for integ, labels in zip(self._integrals, self._labels, strict=True):
                for values, total in zip(labels, integ[key], strict=True):
                    family.add_metric(values, float(total))
            yield family

    def _facility_metrics(self, rec: StepRecord) -> Iterator[Metric]:
        chain = rec.chain
        yield _gauge("aidc_sim_time_seconds", "Run time of the last step's end.", rec.t_s + rec.dt_s)
        yield _gauge("aidc_it_power_watts", "IT power at the wall of the servers.", chain.it_w)
        yield _gauge("aidc_facility_power_watts", "Facility power at the meter.", chain.facility_w)
        yield _gauge(
            "aidc_pue",
            "Power usage effectiveness of the last step.",
            chain.facility_w / chain.it_w if chain.it_w else 0.0,
        )
        yield _gauge("aidc_outdoor_dry_bulb_celsius", "Outdoor dry-bulb temperature.", rec.dry_bulb_c)
        cooling = GaugeMetricFamily(
            "aidc_cooling_power_watts", "Cooling plant power by subsystem.", labels=["hall", "subsystem"]
        )
        supply = GaugeMetricFamily(
            "aidc_supply_temperature_celsius", "What the plant delivers to the IT.", labels=["hall", "medium"]
        )
        for h in rec.halls:
            for sub in _SUBSYSTEMS:
                cooling.add_metric([h.state.name, sub.removesuffix("_w")], getattr(h.plant, sub))
            supply.add_metric([h.state.name, "air"], h.plant.supply_air_c)
            if h.plant.liquid_supply_c:
                supply.add_metric([h.state.name, "liquid"], h.plant.liquid_supply_c)
        yield cooling
        yield supply
        tokens = CounterMetricFamily(
            "aidc_serving_output_tokens", "Output tokens generated.", labels=["hall", "job"]
        )
        waiting = GaugeMetricFamily(
            "aidc_serving_waiting_requests", "Requests waiting for a replica.", labels=["hall", "job"]
        )
        for h in rec.halls:
            for sv in h.state.serving:
                tokens.add_metric([h.state.name, sv.job], self._tokens[(h.state.name, sv.job)])
                waiting.add_metric([h.state.name, sv.job], sv.waiting)
        yield tokens
        yield waiting


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _gpu_labels(scenario: Scenario, hall: int) -> list[tuple[str, ...]]:
    """Each GPU's label values: its index in the node, the model, the node's host name, the hall,
    the rack (row-major) and the node's index in the rack."""
    cfg = scenario.halls[hall]
    per_node, per_rack = cfg.node.gpus_per_node, cfg.nodes_per_rack
    out = []
    for i in range(cfg.gpu_count):
        node = i // per_node
        rack, slot = divmod(node, per_rack)
        host = f"{cfg.name}-r{rack:04d}-n{slot:02d}"
        out.append((str(i % per_node), cfg.gpu, host, cfg.name, str(rack), str(slot)))
    return out
