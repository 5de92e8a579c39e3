"""Faults as a timeline: which equipment is out during each step, and for what share of it.

A fault takes out a share of one kind of equipment from its start (a time, or the first step at
or after it when a condition holds) for its duration, or to the end of the run. Each step this
module says, per hall, what share of each kind of cooling equipment ran
(:class:`~aidc.facility.plant.Availability`, time-weighted over the step, so a fault that starts
inside a step counts for the part of the step it covers), which GPUs were off and when, and
whether the site ran on the utility, its UPS or its generator. What the outage does to
temperatures, clocks and work is the job of the components that read this.

A utility outage runs the sequence a site's emergency power system runs: the UPS carries the IT
(and the CRAH fans and coolant pumps where they are on it: Uptime Institute, "Continuous Cooling",
Accredited Tier Designer Technical Paper, 2017) from the first instant; everything else stops
until the generator has started and taken the load (at most 10 s for an NFPA 110 Type 10 system);
the chillers then restart, which takes minutes (``chiller_restart_s``). When the utility returns,
the transfer back is closed (no break) and chillers already running stay on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from aidc.facility.plant import Availability

FloatArray = NDArray[np.float64]

COOLING_FAULTS = ("chiller", "heat_rejection", "air_handler", "coolant_pump")
"""Faults that take out a share of one kind of a hall's cooling equipment, by the
:class:`~aidc.facility.plant.Availability` field they lower (in this order)."""
IT_FAULTS = ("power_path", "gpu")
"""Faults that switch GPUs off: a lost power path (its racks' nodes, unless a second path
carries them) and failed GPUs."""
SITE_FAULTS = ("utility",)
FAULT_COMPONENTS = COOLING_FAULTS + IT_FAULTS + SITE_FAULTS

_AVAILABILITY_FIELD = dict(
    zip(COOLING_FAULTS, ("chillers", "heat_rejection", "air_handlers", "pumps"), strict=True)
)


@dataclass(frozen=True)
class Fault:
    """One fault of a run. Times are run time [s]; ``end_s`` is ``inf`` when it is not repaired
    within the run. ``gpus`` lists the hall's GPU indices it switches off (IT faults only)."""

    name: str
    component: str
    halls: tuple[int, ...]  # the halls it hits (all of them for a utility outage)
    start_s: float
    duration_s: float  # inf: not repaired within the run
    fraction: float = 1.0  # share of the units of that kind it takes out
    dry_bulb_above_c: float | None = None  # conditional: starts once the outdoor air is this hot
    gpus: tuple[NDArray[np.int64], ...] = ()  # per hit hall, the GPUs it switches off

    def __post_init__(self) -> None:
        if self.component not in FAULT_COMPONENTS:
            raise ValueError(
                f"Fault.component = {self.component!r}: must be one of {', '.join(FAULT_COMPONENTS)}"
            )
        if not 0.0 < self.fraction <= 1.0:
            raise ValueError(f"Fault.fraction = {self.fraction!r}: must be in (0, 1]")
        if not (self.duration_s > 0.0 and self.start_s >= 0.0):
            raise ValueError(f"Fault {self.name!r}: start_s must be >= 0 s and duration_s > 0 s")


@dataclass(frozen=True)
class EmergencyPower:
    """The site's emergency power sequence (see the module docstring)."""

    generator_start_s: float  # utility lost → generator carrying the load [s]; inf: no generator
    chiller_restart_s: tuple[float, ...]  # per hall: power back → chillers cooling again [s]
    cooling_on_ups: bool  # CRAH fans and coolant pumps ride the UPS


def overlap_share(start_s: float, end_s: float, t_s: float, dt_s: float) -> float:
    """Share of the step ``[t_s, t_s + dt_s)`` that ``[start_s, end_s)`` covers [0–1]."""
    return min(max((min(end_s, t_s + dt_s) - max(start_s, t_s)) / dt_s, 0.0), 1.0)


@dataclass(frozen=True)
class SitePower:
    """Where the site's power came from during a step, as shares of it [0–1]: ``utility`` +
    ``ups_only`` + ``generator`` = 1. In ``ups_only`` the UPS carries the IT (and cooling on it)
    and the rest of the site is dark."""

    utility: float = 1.0
    ups_only: float = 0.0
    generator: float = 0.0
    dark_from_s: float | None = None  # the part of the step on the UPS alone, in run time [s]
    dark_until_s: float | None = None


@dataclass(frozen=True)
class FaultStep:
    """What the faults do during one step: per hall the running cooling equipment and the GPUs
    off (each GPU's off interval within the step, run time [s]; an empty one at the step's end
    where it is on throughout), and the site's power sources; ``active`` maps each fault in force
    to its start and end in run time [s] (None: not repaired within the run; a utility outage
    stays in force until its chillers have restarted)."""

    running: list[Availability]
    off_start_s: list[FloatArray | None]  # per hall: None when no GPU is off in the step
    off_end_s: list[FloatArray | None]
    site: SitePower
    active: dict[str, tuple[float, float | None]]


@dataclass
class FaultTimeline:
    """The faults of a run, stepped with the run: ``step(t_s, dt_s, dry_bulb_c)``."""

    faults: list[Fault]
    halls: list[int]  # GPUs per hall
    power: EmergencyPower
    _started: dict[int, float] = field(default_factory=dict, repr=False)

    def config(self) -> list[dict[str, object]]:
        return [
            {
                "name": f.name,
                "component": f.component,
                "halls": list(f.halls),
                "start_s": f.start_s,
                "duration_s": f.duration_s if math.isfinite(f.duration_s) else None,
                "fraction": f.fraction,
                "dry_bulb_above_c": f.dry_bulb_above_c,
                "gpus_off": [int(g.size) for g in f.gpus],
            }
            for f in self.faults
        ]

    def start_of(self, i: int) -> float | None:
        """When fault ``i`` started [s] (None: not yet; a conditional fault starts at the first
        step at or after its start time whose outdoor dry-bulb is at or above its threshold)."""
        return self._started.get(i)

    def _arm(self, t_s: float, dt_s: float, dry_bulb_c: float) -> None:
        for i, f in enumerate(self.faults):
            if i in self._started or f.start_s >= t_s + dt_s:
                continue
            if f.dry_bulb_above_c is None:
                self._started[i] = f.start_s
            elif dry_bulb_c >= f.dry_bulb_above_c:
                self._started[i] = max(f.start_s, t_s)

    def step(self, t_s: float, dt_s: float, dry_bulb_c: float) -> FaultStep:
        self._arm(t_s, dt_s, dry_bulb_c)
        out = [dict.fromkeys(_AVAILABILITY_FIELD.values(), 1.0) for _ in self.halls]
        off_start: list[FloatArray | None] = [None] * len(self.halls)
        off_end: list[FloatArray | None] = [None] * len(self.halls)
        site, active = SitePower(), {}
        for i, f in enumerate(self.faults):
            start = self._started.get(i)
            if start is None:
                continue
            end = start + f.duration_s
            if f.component == "utility":
                power = self._utility(start, end, t_s, dt_s, out)
                site = power if power.utility < 1.0 else site
                back = min(end, start + self.power.generator_start_s)  # power again
                cooled = back + max(self.power.chiller_restart_s, default=0.0)  # chillers again
                if overlap_share(start, max(end, cooled), t_s, dt_s):
                    active[f.name] = (start, end if math.isfinite(end) else None)
                continue
            share = overlap_share(start, end, t_s, dt_s)
            if share <= 0.0:
                continue
            active[f.name] = (start, end if math.isfinite(end) else None)
            if f.component in _AVAILABILITY_FIELD:
                for h in f.halls:
                    out[h][_AVAILABILITY_FIELD[f.component]] *= 1.0 - f.fraction * share
                continue
            for h, gpus in zip(f.halls, f.gpus, strict=True):
                off_start[h], off_end[h] = _switch_off(
                    off_start[h], off_end[h], self.halls[h], gpus, (max(start, t_s), min(end, t_s + dt_s))
                )
        running = [Availability(**{k: min(max(v, 0.0), 1.0) for k, v in a.items()}) for a in out]
        return FaultStep(running, off_start, off_end, site, active)

    def _utility(
        self, start: float, end: float, t_s: float, dt_s: float, out: list[dict[str, float]]
    ) -> SitePower:
        """The emergency power sequence of an outage over ``[start, end)``: lowers ``out`` and
        returns the step's power sources."""
        p = self.power
        back = min(end, start + p.generator_start_s)  # power again: generator, or the utility first
        dark = overlap_share(start, back, t_s, dt_s)  # nothing but the UPS
        generator = overlap_share(back, end, t_s, dt_s) if end > back else 0.0
        for a, restart_s in zip(out, p.chiller_restart_s, strict=True):
            a["chillers"] *= 1.0 - overlap_share(start, back + restart_s, t_s, dt_s)
            a["heat_rejection"] *= 1.0 - dark
            if not p.cooling_on_ups:
                a["air_handlers"] *= 1.0 - dark
                a["pumps"] *= 1.0 - dark
        if dark <= 0.0:
            return SitePower(utility=1.0 - generator, generator=generator)
        return SitePower(1.0 - dark - generator, dark, generator, max(start, t_s), min(back, t_s + dt_s))


def _switch_off(
    start: FloatArray | None,
    end: FloatArray | None,
    n: int,
    gpus: NDArray[np.int64],
    off: tuple[float, float],
) -> tuple[FloatArray, FloatArray]:
    """Each of ``gpus`` off over ``off`` = [a, b) within the step: the hull with what is already
    off (two outages of one GPU within a step count from the first start to the last end)."""
    a, b = off
    if start is None or end is None:
        start, end = np.full(n, b), np.full(n, b)  # empty intervals
    start, end = start.copy(), end.copy()
    had = end[gpus] > start[gpus]
    start[gpus] = np.where(had, np.minimum(start[gpus], a), a)
    end[gpus] = np.where(had, np.maximum(end[gpus], b), b)
    return start, end
