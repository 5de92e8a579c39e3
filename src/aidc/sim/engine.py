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

from aidc.facility.cooling import CoolingPlant, PlantOutputs
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
    ):
        self.scenario, self.weather, self.halls, self.plants, self.chain = (
            scenario,
            weather,
            halls,
            plants,
            chain,
        )
        self.site, self.cap_follower = site, cap_follower
        self.start_hour = scenario.weather.start_hour_of_year()

    def config(self) -> dict[str, object]:
        return {
            "weather": self.weather.config(),
            "halls": [h.config() for h in self.halls],
            "plants": [p.config() for p in self.plants],
            "power_chain": self.chain.config(),
            "site": self.site.config() if self.site else None,
        }

    def serving_results(self) -> list[ServingResult]:
        """Every serving job's result so far, halls in order, jobs in order within a hall."""
        return [run.result() for hall in self.halls for run in hall.workload.serving]

    def step(self, t_s: float) -> StepRecord:
        """Advance every hall, its plant and the power chain by one ``dt_s`` starting at ``t_s``."""
        dt = self.scenario.dt_s
        tdb, twb = self.weather.at(self.start_hour + t_s / 3600.0)
        event_cap_w = self.cap_follower.before_step(t_s, dt) if self.cap_follower else None
        records = []
        it_w = cooling_w = 0.0
        for hall, plant in zip(self.halls, self.plants, strict=True):
            hs = hall.step(t_s, dt, supply_of(plant.state()))
            po = plant.step(dt, hs.heat_to_air_w, hs.heat_to_liquid_w, hs.server_airflow_m3_s, tdb, twb)
            records.append(HallRecord(hall.state(), hs, po))
            it_w += hs.it_w
            cooling_w += po.total_w
        chain = self.chain.step(it_w, cooling_w)
        site = self.site.step(t_s, dt, chain.facility_w, event_cap_w) if self.site else None
        if self.cap_follower is not None and site is not None:
            self.cap_follower.after_step(site, sum(r.step.gpu_w for r in records))
        return StepRecord(t_s, dt, tdb, twb, records, chain, site, event_cap_w)

    def run(self, progress: Callable[[int], None] | None = None) -> Iterator[StepRecord]:
        """Step the scenario to its end, yielding one :class:`StepRecord` per step."""
        dt = self.scenario.dt_s
        for k in range(self.scenario.steps):
            rec = self.step(k * dt)
            if progress is not None:
                progress(k)
            yield rec
