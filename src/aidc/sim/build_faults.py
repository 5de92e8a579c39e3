"""The composition root's part for faults: the scenario's ``[[faults]]`` as a timeline over the
halls' equipment and GPUs, and the site's emergency power (UPS battery and generator)."""

from __future__ import annotations

import math

import numpy as np

from aidc.facility.backup import BackupPower, ups_battery_spec
from aidc.facility.faults import EmergencyPower, Fault, FaultTimeline
from aidc.facility.storage import BATTERY_CHEMISTRY_PARAMETERS, Battery
from aidc.scenario import FaultConfig, HallConfig, Scenario


def fault_gpus(f: FaultConfig, hall: HallConfig, redundancy: str) -> np.ndarray:
    """The GPUs of ``hall`` that fault ``f`` switches off: the failed GPUs; for a power path
    without a second one (redundancy N) every GPU of the first ``lost_frac`` of the hall's racks,
    in row order (at least one rack); nothing otherwise."""
    if f.component == "gpu":
        return np.arange(f.first_gpu, f.first_gpu + (f.gpus or 0))
    if f.component == "power_path" and redundancy == "N":
        racks = hall.rows * hall.racks_per_row
        lost = max(math.ceil(f.lost_frac * racks - 1e-9), 1)
        return np.arange(lost * hall.nodes_per_rack * hall.node.gpus_per_node)
    return np.arange(0)


def build_timeline(scenario: Scenario) -> FaultTimeline | None:
    """The run's faults, or None when it has none."""
    if not scenario.faults:
        return None
    names = [h.name for h in scenario.halls]
    pc = scenario.power_chain
    faults = []
    for f in scenario.faults:
        halls = tuple(range(len(names))) if f.hall is None else (names.index(f.hall),)
        gpus = tuple(fault_gpus(f, scenario.halls[h], pc.redundancy) for h in halls)
        duration = f.duration_s if f.duration_s is not None else math.inf
        faults.append(
            Fault(
                f.label(),
                f.component,
                halls,
                f.start_s,
                duration,
                f.lost_frac,
                f.trigger_dry_bulb_above_c,
                gpus,
            )
        )
    power = EmergencyPower(
        generator_start_s=pc.generator_start_s if pc.generator else math.inf,
        chiller_restart_s=tuple(h.cooling.chiller_restart_s for h in scenario.halls),
        cooling_on_ups=pc.cooling_on_ups,
    )
    return FaultTimeline(faults, [h.gpu_count for h in scenario.halls], power)


def build_backup(scenario: Scenario, rated_it_w: float) -> BackupPower:
    """The UPS battery, sized for ``ups_runtime_s`` at the UPS's rated load, and the generator."""
    pc = scenario.power_chain
    params = dict(BATTERY_CHEMISTRY_PARAMETERS[pc.ups_chemistry])
    params["initial_soc_frac"] = params["soc_max_frac"]  # on float charge
    spec = ups_battery_spec(rated_it_w, pc.ups_runtime_s, params)
    start = pc.generator_start_s if pc.generator else math.inf
    return BackupPower(Battery(spec), start)
