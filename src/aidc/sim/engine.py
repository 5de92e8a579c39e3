"""The clock: steps a scenario's components in a fixed order every ``dt_s``.

Step order (docs/architecture.md): clock limits at the junction temperatures → workload demand at
those clocks → GPU power → junction temperature → heat split to liquid and air (all in
:class:`~aidc.sim.hall.HallSim`) → cooling plant (its power, and the supply temperatures for the
next step) → power chain → the site's meter (PV, battery, grid) → metrics → telemetry (the
caller's, from the :class:`StepRecord`). The clock knows no physics; :mod:`aidc.sim.build` makes
the components.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from aidc.facility.backup import BackupPower, BackupStep
from aidc.facility.cooling import ALL_RUNNING, CoolingPlant, PlantOutputs
from aidc.facility.faults import FaultStep, FaultTimeline
from aidc.facility.power import PowerChain, PowerChainOutputs
from aidc.facility.site import Site, SiteOutputs
from aidc.facility.weather import Weather
from aidc.hardware.node import Supply
from aidc.scenario import Scenario
from aidc.sim.hall import HallSim, HallState, HallStep
from aidc.sim.site_cap import SiteCapFollower
from aidc.workload.serving import ServingResult


def supply_of(plant: PlantOutputs) -> Supply:
    """What a plant's last step delivers to the IT of the next step."""
    return Supply(plant.supply_air_c, plant.liquid_supply_c, plant.coolant_flow_frac)


class Supplies(NamedTuple):
    """Who supplied the facility's load over a step [W, means]: the utility, the generator and
    (in :class:`~aidc.facility.backup.BackupStep`) the UPS; ``unserved_w`` is what the UPS was
    to carry and could not (it ran out). utility + generator + UPS = facility + UPS recharge −
    unserved."""

    utility_w: float
    generator_w: float = 0.0
    unserved_w: float = 0.0


@dataclass(frozen=True)
class HallRecord:
    """One hall's step: its state after the step, the scalars it handed on, its plant's outputs."""

    state: HallState
    step: HallStep
    plant: PlantOutputs


@dataclass(frozen=True)
class StepRecord:
    """Everything one step produced, handed to metrics and telemetry."""

    t_s: float  # start of the step
    dt_s: float
    dry_bulb_c: float
    wet_bulb_c: float
    halls: list[HallRecord]
    chain: PowerChainOutputs
    site: SiteOutputs | None = None  # PV, battery and grid at the meter, when the scenario has a site
    event_cap_w: float | None = None  # the demand-response limit on grid import in force [W]
    faults: FaultStep | None = None  # what the faults took out, when the scenario has faults
    backup: BackupStep | None = None  # UPS and generator
    supplies: Supplies | None = None  # who supplied the facility's load


class Simulation:
    """A scenario's components and its clock. Iterate :meth:`run` to step it."""

    def __init__(
        self,
        scenario: Scenario,
        weather: Weather,
        halls: list[HallSim],
        plants: list[CoolingPlant],
        chain: PowerChain,
        site: Site | None = None,
        cap_follower: SiteCapFollower | None = None,
        timeline: FaultTimeline | None = None,
        backup: BackupPower | None = None,
    ):
        self.scenario, self.weather, self.halls, self.plants, self.chain = (
            scenario,
            weather,
            halls,
            plants,
            chain,
        )
        self.site, self.cap_follower = site, cap_follower
        self.timeline, self.backup = timeline, backup
        self._ups_load_w = 0.0  # what the UPS carried the last time it was asked [W]
        self.start_hour = scenario.weather.start_hour_of_year()

    def config(self) -> dict[str, object]:
        return {
            "weather": self.weather.config(),
            "halls": [h.config() for h in self.halls],
            "plants": [p.config() for p in self.plants],
            "power_chain": self.chain.config(),
            "site": self.site.config() if self.site else None,
            "backup": self.backup.config() if self.backup else None,
            "faults": self.timeline.config() if self.timeline else [],
        }

    def serving_results(self) -> list[ServingResult]:
        """Every serving job's result so far, halls in order, jobs in order within a hall."""
        return [run.result() for hall in self.halls for run in hall.workload.serving]

    def step(self, t_s: float) -> StepRecord:
        """Advance every hall, its plant and the power chain by one ``dt_s`` starting at ``t_s``."""
        dt = self.scenario.dt_s
        tdb, twb = self.weather.at(self.start_hour + t_s / 3600.0)
        event_cap_w = self.cap_follower.before_step(t_s, dt) if self.cap_follower else None
        faults = self.timeline.step(t_s, dt, tdb) if self.timeline else None
        dark_from = self._ups_runs_out_at(faults)
        records = []
        it_w = cooling_w = ups_cooling_w = 0.0
        for h, (hall, plant) in enumerate(zip(self.halls, self.plants, strict=True)):
            off = _off_intervals(faults, h, hall.n, dark_from)
            running = faults.running[h] if faults else ALL_RUNNING
            supply = supply_of(plant.state())
            if faults is not None:  # the coolant's temperature is the plant's state; its flow is now
                supply = supply._replace(flow_frac=plant.coolant_flow_frac(running))
            hs = hall.step(t_s, dt, supply, off)
            po = plant.step(
                dt, hs.heat_to_air_w, hs.heat_to_liquid_w, hs.server_airflow_m3_s, tdb, twb, running
            )
            records.append(HallRecord(hall.state(), hs, po))
            it_w += hs.it_w
            cooling_w += po.total_w
            ups_cooling_w += po.crah_fans_w + po.pumps_w
        energized = 1.0 - faults.site.ups_only if faults else 1.0
        chain = self.chain.step(it_w, cooling_w, energized)
        backup, supplies = self._emergency_power(dt, chain, ups_cooling_w, faults)
        site = None
        if self.site:
            up = faults.site.utility if faults else 1.0
            site = self.site.step(t_s, dt, supplies.utility_w, event_cap_w, grid_up_frac=up)
        if self.cap_follower is not None and site is not None:
            self.cap_follower.after_step(site, sum(r.step.gpu_w for r in records))
        return StepRecord(t_s, dt, tdb, twb, records, chain, site, event_cap_w, faults, backup, supplies)

    def _ups_runs_out_at(self, faults: FaultStep | None) -> float | None:
        """When, in run time, the UPS runs out within this step's outage (None: it does not), from
        its charge at the step's start and the load it carried last [s]."""
        if faults is None or self.backup is None or faults.site.dark_from_s is None:
            return None
        load = self._ups_load_w if self._ups_load_w > 0.0 else self.chain.rated_it_w
        empty = faults.site.dark_from_s + self.backup.time_left_s(load)
        return empty if empty < faults.site.dark_until_s else None

    def _emergency_power(
        self, dt_s: float, chain: PowerChainOutputs, ups_cooling_w: float, faults: FaultStep | None
    ) -> tuple[BackupStep | None, Supplies]:
        """The UPS over the step, and who supplied the facility's load [W]: the UPS its IT path
        (and the cooling on it) while the site is dark, the utility and the generator the rest in
        proportion to the time each was on, the UPS's recharge included."""
        if self.backup is None:
            return None, Supplies(chain.facility_w)
        site = faults.site if faults else None
        dark = site.ups_only if site else 0.0
        ups_load = chain.it_w + chain.pdu_loss_w + chain.ups_loss_w
        if self.scenario.power_chain.cooling_on_ups:
            ups_load += ups_cooling_w
        if dark > 0.0:
            self._ups_load_w = ups_load
        b = self.backup.step(dt_s, ups_load, dark)
        unserved = max(dark * ups_load - b.ups_w, 0.0)
        rest = max(chain.facility_w + b.ups_charge_w - b.ups_w - unserved, 0.0)  # the energized part
        on = site.utility + site.generator if site else 1.0
        if on <= 0.0:  # dark throughout: nothing but the UPS (and cooling not on it is off)
            return b, Supplies(0.0, 0.0, unserved)
        utility = site.utility / on if site else 1.0
        return b, Supplies(rest * utility, rest * (1.0 - utility), unserved)

    def run(self, progress: Callable[[int], None] | None = None) -> Iterator[StepRecord]:
        """Step the scenario to its end, yielding one :class:`StepRecord` per step."""
        dt = self.scenario.dt_s
        for k in range(self.scenario.steps):
            rec = self.step(k * dt)
            if progress is not None:
                progress(k)
            yield rec


def _off_intervals(
    faults: FaultStep | None, hall: int, gpus: int, dark_from_s: float | None
) -> tuple[np.ndarray, np.ndarray] | None:
    """Each GPU's off interval within the step [s]: the faults', and every GPU from when the UPS
    ran out until the generator or the utility is back; None when every GPU is on throughout."""
    if faults is None:
        return None
    start, end = faults.off_start_s[hall], faults.off_end_s[hall]
    if dark_from_s is not None:
        until = faults.site.dark_until_s
        start = np.minimum(start, dark_from_s) if start is not None else np.full(gpus, dark_from_s)
        end = np.maximum(end, until) if end is not None else np.full(gpus, until)
    return None if start is None or end is None else (start, end)
