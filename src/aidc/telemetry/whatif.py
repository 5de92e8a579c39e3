"""Hot-path what-ifs: from a scenario's energy profile, the levers on its largest parts, each run
as a real variant of the same scenario (same weather, seed and workload), never estimated.

A lever is a change of the scenario (:data:`LEVERS`) aimed at profile parts; :func:`what_ifs`
profiles the base run, takes the levers aimed at its largest parts, runs each variant and reports
facility energy, work delivered and energy per unit of work against the base. The coupling
decides the sign: colder coolant cuts GPU leakage but costs chiller energy; a power cap saves
energy and costs throughput; both show in the result.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from aidc.hardware.catalog import GPU_CATALOG
from aidc.scenario import Scenario, ScenarioError, validate_scenario
from aidc.sim.build import build_simulation
from aidc.telemetry.metrics import RunMetrics
from aidc.telemetry.profile import EnergyMonitor, Window

Change = Callable[[dict], bool]
"""Edits a validated scenario's full dump (every field present) in place; False where it does not apply."""


def _cap(frac: float) -> Change:
    def change(d: dict) -> bool:
        for hall in d["halls"]:
            spec = GPU_CATALOG[hall["gpu"]]
            cap = hall["power_cap_w"] or spec.tdp_w
            hall["power_cap_w"] = max(frac * cap, spec.power_cap_min_w)
        return True

    return change


def _coolant(delta_k: float) -> Change:
    """Liquid and immersion: facility water ± delta_k; air: supply air and chilled water ± delta_k/2."""

    def change(d: dict) -> bool:
        for hall in d["halls"]:
            c = hall["cooling"]
            if c["type"] == "air":
                c["supply_air_temp_c"] += delta_k / 2
                c["chw_supply_temp_c"] += delta_k / 2
            else:
                c["facility_supply_temp_c"] += delta_k
        return True

    return change


def _dc_800v(d: dict) -> bool:
    if d["power_chain"]["distribution"] == "dc_800v":
        return False
    d["power_chain"]["distribution"] = "dc_800v"
    return True


@dataclass(frozen=True)
class Lever:
    name: str
    targets: tuple[str, ...]  # the profile parts it acts on
    change: Change


LEVERS: tuple[Lever, ...] = (
    Lever("GPU power cap at 85 %", ("gpu_dynamic", "gpu_leakage"), _cap(0.85)),
    Lever("coolant 4 K colder", ("gpu_leakage",), _coolant(-4.0)),
    Lever("coolant 4 K warmer", ("chillers", "heat_rejection"), _coolant(4.0)),
    Lever("800 V DC distribution", ("distribution_loss",), _dc_800v),
)
"""The levers the twin can pull on a scenario, each aimed at the profile parts it should move."""


@dataclass(frozen=True)
class Outcome:
    lever: str
    facility_kwh: float
    work_tflop: float
    profile: Window
    summary: dict

    def against(self, base: Outcome) -> dict[str, float]:
        """Changes against ``base`` [%]: facility energy, work, facility energy per unit of work."""
        e, w = self.facility_kwh / base.facility_kwh - 1.0, self.work_tflop / base.work_tflop - 1.0
        return {
            "facility_pct": 100 * e,
            "work_pct": 100 * w,
            "energy_per_work_pct": 100 * ((1 + e) / (1 + w) - 1),
        }


def run_variant(scenario: Scenario, lever: str = "base") -> Outcome:
    """One run in memory with its energy profile after warm-up."""
    sim = build_simulation(scenario)
    metrics = RunMetrics(sim.config(), scenario.warmup_s)
    monitor = EnergyMonitor()
    opened = False
    for rec in sim.run():
        if not opened and rec.t_s >= scenario.warmup_s:
            monitor.begin_window(lever)
            opened = True
        metrics.add(rec)
        monitor.observe(rec)
    summary = metrics.summary(sim.serving_results())
    facility = summary["energy_kwh"]["facility"]
    return Outcome(
        lever, facility, summary["tflop_per_facility_kwh"] * facility, monitor.end_window(lever), summary
    )


def what_ifs(scenario: Scenario, top: int = 3) -> tuple[Outcome, list[tuple[Lever, Outcome]]]:
    """The base run, and a variant for each lever aimed at the ``top`` largest profile parts (in
    their order; a lever that does not apply to the scenario, or that it rejects, is skipped)."""
    base = run_variant(scenario)
    parts = sorted(base.profile.by_part().items(), key=lambda kv: -kv[1])[:top]
    chosen: list[Lever] = []
    for part, _ in parts:
        chosen += [lv for lv in LEVERS if part in lv.targets and lv not in chosen]
    out = []
    for lever in chosen:
        data = copy.deepcopy(scenario.model_dump(mode="json"))
        if not lever.change(data):
            continue
        try:
            variant = validate_scenario(data, lever.name)
        except ScenarioError:  # the lever takes a field out of its range here: not a variant
            continue
        out.append((lever, run_variant(variant, lever.name)))
    return base, out
