"""Following a demand-response call: hold the site's grid import under a cap by the GPUs' power
caps, once the battery has given what it can.

The baseline the issue names ("follow the cap greedily"): an integral controller on one power cap
per GPU, shared by every hall. After each step it moves the cap by the step's excess over the
event's limit, scaled to per-GPU watts at the meter:

    cap_next = clip(cap − (grid_w − limit_w) / (n_gpus · k),  cap_min, cap_max)

with k = the step's facility power over its GPU power (PUE × the nodes' wall-to-GPU ratio): the
average cost of a GPU watt at the meter, above the marginal one (base loads do not scale), so the
controller steps short of the excess and approaches the limit from above without overshoot.
Between events every hall gets back the cap its scenario set. The controller acts one step late
(it reads the meter after the step, as a site's controller reads its meter), so the first steps
of an event may exceed the cap; a step's import is booked as it happens. A GPU's cap only
bounds its power: GPUs already below it (idle, memory-bound decode) give nothing, and below the
GPU's minimum cap (the ``nvidia-smi -pl`` range, the catalog's ``power_cap_min_w``) nothing is
left, which shows as excess over the limit.

.. warning:: A greedy baseline, not an optimal policy: it neither forecasts the load nor trades
   the battery's state of charge against future events, and it caps every GPU alike (training
   and serving, flexible or not).
"""

from __future__ import annotations

from dataclasses import dataclass

from aidc.facility.site import SiteOutputs
from aidc.sim.hall import HallSim

MIN_SPAN_W = 1e-9  # a hall already at its minimum cap has no range: avoid dividing by zero


@dataclass(frozen=True)
class CapEvent:
    start_s: float
    end_s: float
    cap_w: float  # grid import limit [W]


def event_in_force(events: list[CapEvent], t_s: float, dt_s: float) -> CapEvent | None:
    """The event in force for the step ``[t_s, t_s + dt_s)``: the one holding its middle."""
    mid = t_s + 0.5 * dt_s
    return next((e for e in events if e.start_s <= mid < e.end_s), None)


class SiteCapFollower:
    """One GPU power cap for every hall during demand-response events; the scenario's caps otherwise."""

    def __init__(self, events: list[CapEvent], halls: list[HallSim]):
        self.events, self.halls = sorted(events, key=lambda e: e.start_s), halls
        self.base_caps_w = [h.power_cap_w for h in halls]
        self.gpus = sum(h.n for h in halls)
        # the mean range of the caps [W]: what a change of cap_frac by 1 moves a GPU's cap by
        ranges = [base - h.spec.power_cap_min_w for h, base in zip(halls, self.base_caps_w, strict=True)]
        self.span_w = max(sum(ranges) / len(ranges), MIN_SPAN_W) if ranges else MIN_SPAN_W
        self.cap_frac = 1.0  # the cap as a fraction of each hall's own range, 1 = its base cap
        self.active: CapEvent | None = None

    def before_step(self, t_s: float, dt_s: float) -> float | None:
        """Set every hall's GPU cap for this step; the event's grid limit [W], or None."""
        event = event_in_force(self.events, t_s, dt_s)
        if event is None:
            self.cap_frac = 1.0
        for hall, base in zip(self.halls, self.base_caps_w, strict=True):
            low = hall.spec.power_cap_min_w
            hall.power_cap_w = low + self.cap_frac * (base - low)
        self.active = event
        return event.cap_w if event else None

    def after_step(self, site: SiteOutputs, gpu_w: float) -> None:
        """Move the cap by the step's excess over the event's limit (the integral step)."""
        if self.active is None or self.gpus == 0 or gpu_w <= 0.0:
            return
        k = site.facility_w / gpu_w  # facility W per GPU W (PUE × wall/GPU), average ≥ marginal
        per_gpu_w = (site.grid_w - self.active.cap_w) / (self.gpus * k)
        self.cap_frac = min(max(self.cap_frac - per_gpu_w / self.span_w, 0.0), 1.0)
