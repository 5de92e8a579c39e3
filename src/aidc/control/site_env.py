"""A Gymnasium environment for site power: the battery at the meter, the GPUs' power caps and
pausing flexible training, with the whole twin inside (cooling plants, thermal masses, the power
chain and the meter), against grid prices, carbon and demand-response calls.

Registered as ``aidc/SitePower-v0`` on ``src/aidc/examples/site_power_256.toml``; any scenario
with a ``[site]`` section runs (``SitePowerEnv(scenario)``). The scenario's demand-response cap
follower is switched off: meeting a call is the controller's job.
"""

from __future__ import annotations

import math
from dataclasses import astuple, dataclass, fields
from importlib.resources import files
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np

from aidc.scenario import Scenario, load_scenario
from aidc.sim.build import build_simulation
from aidc.sim.engine import Simulation, StepRecord
from aidc.sim.site_cap import CapEvent, event_in_force
from aidc.units import J_PER_KWH

DEFAULT_SCENARIO = "site_power_256.toml"

SOCIAL_COST_USD_PER_T = 190.0
"""Carbon priced at the US EPA's social cost of CO2 for 2020 emissions at a 2 % discount rate
[$/t] (EPA, "Report on the Social Cost of Greenhouse Gases", 2023, Table ES.1)."""

WORK_USD_PER_PFLOP = 0.0015
"""Value of delivered training work [$/PFLOP], a design choice at the order of 2024–25 cloud
prices for an H100 (about $2–3 per GPU-hour) over the 1,600 PFLOP one delivers in an hour at 45 %
of its 989 BF16 TFLOPS."""

DR_PENALTY_USD_PER_KWH = 20.0
"""Penalty on grid energy above a demand-response cap [$/kWh], a design choice: about ten times the
work an H100 delivers per kWh at the meter (~$2.5 of work for ~1.1 kWh), so that no work saved
outweighs breaking a call."""


@dataclass(frozen=True)
class SiteObservation:
    """What a site-power controller sees after a control step, with units."""

    hour_sin: float
    hour_cos: float
    facility_kw: float
    pv_kw: float
    battery_soc_frac: float  # 0 without a battery
    carbon_g_per_kwh: float  # 0 without grid signals
    price_usd_per_mwh: float  # 0 without grid signals
    cap_kw: float  # the demand-response cap in force at the next step; 0 outside calls
    gpu_temp_max_c: float
    dry_bulb_c: float

    @classmethod
    def size(cls) -> int:
        return len(fields(cls))


_BOUNDS = (  # of SiteObservation's fields, in order
    (-1.0, 1.0), (-1.0, 1.0), (0.0, 1e7), (0.0, 1e7), (0.0, 1.0), (0.0, 5_000.0),
    (-10_000.0, 100_000.0), (0.0, 1e8), (-20.0, 150.0), (-60.0, 60.0),
)  # fmt: skip


class SitePowerEnv(gym.Env[np.ndarray, np.ndarray]):
    """Site power control over the aidc twin.

    ## Action Space

    ``Box(-1, 1, (2 + n + m,))``: the battery's request at the bus (−1 full charge, +1 full
    discharge; ignored without a battery), every hall's GPU power cap (−1 the GPU's lowest, +1
    its highest), one entry per flexible training job (> 0: pause it, with a checkpoint; ≤ 0: run
    it, with a restore after a pause), and one per serving job: the share of its replicas that
    take new requests (−1: one per pool, +1: all; the others finish what they have and idle).

    ## Observation Space

    ``Box`` of float32: the fields of :class:`SiteObservation` in order, then 1.0 for each
    flexible job paused or on its way there, then the share of each flexible job's work still to
    do (0 without ``work_pflop``), then each serving job's waiting requests.

    ## Rewards

    Per control step [$]: the training work delivered × ``work_usd_per_pflop`` − the grid's energy
    cost at its hourly prices − its carbon × ``carbon_usd_per_t`` − energy above a
    demand-response cap × ``dr_penalty_usd_per_kwh``.

    ## Episode End

    Truncated at the scenario's end; never terminated.

    ## Exogenous drivers

    The scenario (weather, grid signals, calls) comes through the constructor.
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        scenario: Scenario | str | None = None,
        *,
        control_step_s: float = 900.0,
        work_usd_per_pflop: float = WORK_USD_PER_PFLOP,
        carbon_usd_per_t: float = SOCIAL_COST_USD_PER_T,
        dr_penalty_usd_per_kwh: float = DR_PENALTY_USD_PER_KWH,
    ) -> None:
        if scenario is None:
            scenario = str(files("aidc") / "examples" / DEFAULT_SCENARIO)
        self.scenario = load_scenario(scenario) if isinstance(scenario, str) else scenario
        if self.scenario.site is None:
            raise ValueError("SitePowerEnv needs a scenario with a [site] section (the meter)")
        if control_step_s < self.scenario.dt_s:
            raise ValueError(f"control_step_s ({control_step_s}) must be >= dt_s ({self.scenario.dt_s})")
        self.control_step_s = control_step_s
        self.weights = (work_usd_per_pflop, carbon_usd_per_t, dr_penalty_usd_per_kwh)
        self.flexible = [
            (h, job.name)
            for h, hall in enumerate(self.scenario.halls)
            for job in hall.jobs
            if getattr(job, "flexible", False)
        ]
        self.serving = [
            (h, j)
            for h, hall in enumerate(self.scenario.halls)
            for j, job in enumerate(job for job in hall.jobs if job.type == "serving")
        ]
        n, m = len(self.flexible), len(self.serving)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (2 + n + m,), dtype=np.float32)
        low = np.array([b[0] for b in _BOUNDS] + [0.0] * (2 * n + m), np.float32)
        high = np.array([b[1] for b in _BOUNDS] + [1.0] * (2 * n) + [1e7] * m, np.float32)
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)
        self.sim: Simulation | None = None
        self.calls: list[CapEvent] = []  # the scenario's demand-response calls
        self._t = 0.0
        self._last: StepRecord | None = None
        self._carry = self._totals()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if options:
            raise ValueError(f"unknown reset options {sorted(options)}; SitePowerEnv takes none")
        self.sim = build_simulation(self.scenario)
        follower, self.sim.cap_follower = self.sim.cap_follower, None  # the controller meets the calls
        self.calls = follower.events if follower else []
        self._t = 0.0
        self._last = self.sim.step(0.0)  # the first physics step gives the first observation
        self._carry = self._totals()
        self._book(self._last, self._carry)  # and is booked with the first control step
        self._t = self.scenario.dt_s
        return self._vector(), {}

    @staticmethod
    def _totals() -> dict[str, float]:
        return dict.fromkeys(("pflop", "grid_kwh", "cost_usd", "carbon_t", "dr_excess_kwh"), 0.0)

    @property
    def site_observation(self) -> SiteObservation:
        if self._last is None or self.sim is None:
            raise RuntimeError("call reset() first")
        rec, site = self._last, self._last.site
        hour = (self.sim.start_hour + rec.t_s / 3600.0) % 24.0
        soc = site.battery_soc_frac
        return SiteObservation(
            hour_sin=math.sin(2 * math.pi * hour / 24.0),
            hour_cos=math.cos(2 * math.pi * hour / 24.0),
            facility_kw=rec.chain.facility_w / 1e3,
            pv_kw=site.pv_w / 1e3,
            battery_soc_frac=0.0 if soc is None else soc,
            carbon_g_per_kwh=site.carbon_g_per_kwh or 0.0,
            price_usd_per_mwh=site.price_usd_per_mwh or 0.0,
            cap_kw=self._cap_w(self._t) / 1e3,
            gpu_temp_max_c=max(float(h.state.temp_c.max()) for h in rec.halls),
            dry_bulb_c=rec.dry_bulb_c,
        )

    def hour_of_year(self) -> float:
        """The hour of the weather year at the start of the next control step."""
        return self.sim.start_hour + self._t / 3600.0

    def _cap_w(self, t_s: float) -> float:
        """The demand-response limit on grid import for the step from ``t_s`` [W]; 0 outside calls."""
        event = event_in_force(self.calls, t_s, self.scenario.dt_s)
        return 0.0 if event is None else event.cap_w

    def apply(self, action: np.ndarray) -> None:
        """Set the levers from ``action`` (see Action Space); the twin holds them until changed."""
        sim = self.sim
        a = np.clip(np.nan_to_num(np.asarray(action, dtype=np.float64), nan=0.0), -1.0, 1.0)
        battery = sim.site.battery
        if battery is not None:
            rating_kw = battery.spec.max_discharge_kw if a[0] >= 0.0 else battery.spec.max_charge_kw
            sim.site.battery_command_w = float(a[0]) * rating_kw * 1e3
        for hall in sim.halls:
            lo, hi = hall.spec.power_cap_min_w, hall.spec.power_cap_max_w
            hall.power_cap_w = lo + (float(a[1]) + 1.0) / 2.0 * (hi - lo)
        n = len(self.flexible)
        for (h, name), pause in zip(self.flexible, a[2 : 2 + n], strict=True):
            workload = sim.halls[h].workload
            (workload.pause if pause > 0.0 else workload.resume)(name, self._t)
        for (h, j), limit in zip(self.serving, a[2 + n :], strict=True):
            sim.halls[h].workload.serving[j].sim.limit_admission((float(limit) + 1.0) / 2.0)

    def step(self, action: np.ndarray):
        if self.sim is None:
            raise RuntimeError("call reset() before step()")
        self.apply(action)
        work_usd, carbon_usd, dr_usd = self.weights
        totals, self._carry = self._carry, self._totals()
        end = min(self._t + self.control_step_s, self.scenario.steps * self.scenario.dt_s)
        while self._t < end - 1e-9:
            rec = self.sim.step(self._t)
            self._book(rec, totals)
            self._last = rec
            self._t += self.scenario.dt_s
        reward = (
            work_usd * totals["pflop"]
            - totals["cost_usd"]
            - carbon_usd * totals["carbon_t"]
            - dr_usd * totals["dr_excess_kwh"]
        )
        truncated = self._t >= self.scenario.steps * self.scenario.dt_s - 1e-9
        return self._vector(), float(reward), False, bool(truncated), totals

    def _book(self, rec: StepRecord, totals: dict[str, float]) -> None:
        dt, site = rec.dt_s, rec.site
        grid_kwh = site.grid_import_w * dt / J_PER_KWH
        totals["pflop"] += sum(h.step.tflops_sum for h in rec.halls) * dt / 1e3
        totals["grid_kwh"] += grid_kwh
        totals["cost_usd"] += grid_kwh * (site.price_usd_per_mwh or 0.0) / 1e3
        totals["carbon_t"] += grid_kwh * (site.carbon_g_per_kwh or 0.0) / 1e6
        cap = self._cap_w(rec.t_s)
        if cap > 0.0:
            totals["dr_excess_kwh"] += max(site.grid_import_w - cap, 0.0) * dt / J_PER_KWH

    def paused(self) -> list[bool]:
        return [self.sim.halls[h].workload.schedules[name][1].paused for h, name in self.flexible]

    def remaining(self) -> list[float]:
        """Each flexible job's share of its work still to do (0 without a target)."""
        return [self.sim.halls[h].workload.schedules[name][1].remaining_frac for h, name in self.flexible]

    def waiting(self) -> list[int]:
        """Each serving job's requests waiting for a replica."""
        return [self._last.halls[h].state.serving[j].waiting for h, j in self.serving]

    def _vector(self) -> np.ndarray:
        extra = [*map(float, self.paused()), *self.remaining(), *map(float, self.waiting())]
        vec = np.array([*astuple(self.site_observation), *extra], dtype=np.float32)
        return np.clip(vec, self.observation_space.low, self.observation_space.high)
