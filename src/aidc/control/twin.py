"""One hall of the twin, stepped by a controller: the back end of aidc's Gymnasium environments.

:class:`HallTwin` builds a one-hall simulation, applies setpoints to its cooling plant and advances
the physics at the scenario's own ``dt_s`` for as long as a control step lasts, returning what a
controller observes and what the step cost. The environment class lives in
:mod:`aidc.control.env` and only sees this object through its methods; :func:`make_env` is the
entry point the package registers.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from aidc.control.env import CoolingEnv
from aidc.control.shield import ASHRAE_A1_ALLOWABLE_MAX_C
from aidc.control.spaces import AIR_ACTIONS, LIQUID_ACTIONS, ActionSpec, CoolingObservation, defaults
from aidc.facility.cooling import apply_setpoints
from aidc.scenario import Scenario, validate_scenario
from aidc.sim.build import build_simulation
from aidc.sim.engine import Simulation
from aidc.sim.hall import HallState

# A GPU counts as violating within this margin of its slowdown temperature: the hardware's own
# threshold is where clocks are cut, and the margin absorbs the spread a 60 s step cannot resolve.
VIOLATION_MARGIN_K = 2.0


@dataclass
class TwinStep:
    """What one control step did [SI units, energies in J]."""

    obs: CoolingObservation
    cooling_j: float
    it_j: float
    facility_j: float
    gpu_violation_gpu_s: float  # GPU-seconds at or above slowdown − margin, or throttled
    inlet_excess_k_s: float  # Σ max(0, hottest inlet − allowable) · dt
    throttled_gpu_s: float
    shutdown_gpus: int
    gpu_temp_peak_c: float  # the hottest junction at any physics step of the control step
    work_pflop: float  # delivered by all GPUs
    shutdown_t_s: float | None = None  # twin time at the end of the physics step a GPU first shut down
    gpu_violation_before_shutdown_gpu_s: float = 0.0  # gpu_violation_gpu_s until then (all of it if none)


@dataclass
class _StepTotals:
    """What the physics steps of one control step add up to (:meth:`HallTwin.advance`)."""

    hot_c: float  # a GPU at or above this is violating
    inlet_allowable_c: float
    cooling: float = 0.0
    it: float = 0.0
    facility: float = 0.0
    viol: float = 0.0
    inlet_excess: float = 0.0
    throttled: float = 0.0
    peak: float = -math.inf
    work: float = 0.0
    shutdown_t_s: float | None = None
    viol_before: float = 0.0

    def add(self, rec, dt: float, t_end_s: float) -> None:
        (h,) = rec.halls
        st = h.state
        self.cooling += h.plant.total_w * dt
        self.it += h.step.it_w * dt
        self.facility += rec.chain.facility_w * dt
        self.viol += float(((st.temp_c >= self.hot_c) | st.thermal).sum()) * dt
        self.inlet_excess += max(0.0, st.inlet_max_c - self.inlet_allowable_c) * dt
        self.throttled += h.step.thermal_gpus * dt
        self.peak = max(self.peak, float(np.maximum.reduce(st.temp_c)))
        self.work += h.step.tflops_sum * dt / 1e3
        if self.shutdown_t_s is None:
            self.viol_before = self.viol
            if h.step.shutdown_gpus > 0:
                self.shutdown_t_s = t_end_s

    def step(self, obs: CoolingObservation, shutdown_gpus: int) -> TwinStep:
        return TwinStep(
            obs,
            self.cooling,
            self.it,
            self.facility,
            self.viol,
            self.inlet_excess,
            self.throttled,
            shutdown_gpus,
            self.peak,
            self.work,
            self.shutdown_t_s,
            self.viol_before,
        )


def control_scenario(kind: str, *, racks: int = 32, seed: int = 0) -> dict:
    """The default environment hall: 1,024 H100 SXM (32 racks × 4 nodes × 8) training, in Greensboro.

    Physics steps of 60 s: the GPU thermal RC is integrated exactly, so the step only sets how
    often the governor and the plant are re-evaluated inside a 5-minute control step.
    """
    if kind not in ("air", "liquid"):
        raise ValueError(f"cooling kind must be 'air' or 'liquid', got {kind!r}")
    return {
        "name": f"control-{kind}",
        "seed": seed,
        "duration_s": 86400.0,
        "dt_s": 60.0,
        "weather": {"climate": "greensboro-nc", "start": "07-15 00:00"},
        "halls": [
            {
                "name": "hall",
                "rows": max(1, racks // 8),
                "racks_per_row": racks // max(1, racks // 8),
                "nodes_per_rack": 4,
                "gpu": "H100-SXM",
                "cooling": {"type": kind},
                "jobs": [{"type": "training", "name": "pretrain"}],
            }
        ],
    }


def _quantile_sorted(values: np.ndarray, q: float) -> float:
    """``np.quantile(values, q)`` (linear interpolation) of an already sorted array."""
    pos = q * (len(values) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return float(values[lo] + (pos - lo) * (values[hi] - values[lo]))


class HallTwin:
    """A one-hall scenario under external setpoint control (air or direct-to-chip liquid)."""

    def __init__(
        self,
        scenario: Scenario | dict,
        *,
        specs: tuple[ActionSpec, ...] | None = None,
        violation_margin_k: float = VIOLATION_MARGIN_K,
        inlet_allowable_c: float = ASHRAE_A1_ALLOWABLE_MAX_C,
    ) -> None:
        data = scenario.model_dump() if isinstance(scenario, Scenario) else dict(scenario)
        self.base = validate_scenario(data, "scenario")
        if len(self.base.halls) != 1:
            raise ValueError(f"a control twin runs exactly one hall, the scenario has {len(self.base.halls)}")
        kind = self.base.halls[0].cooling.type
        if kind not in ("air", "liquid"):
            raise ValueError(f"cooling control covers air and liquid halls, not {kind!r}")
        self.kind = kind
        default_specs = AIR_ACTIONS if kind == "air" else LIQUID_ACTIONS
        names = [s.name for s in default_specs]
        if specs is not None and [s.name for s in specs] != names:
            raise ValueError(f"a {kind} hall's setpoints are {names}, got {[s.name for s in specs]}")
        self.specs: tuple[ActionSpec, ...] = specs or default_specs
        self.violation_margin_k = violation_margin_k
        self.inlet_allowable_c = inlet_allowable_c
        self.sim: Simulation | None = None
        self.t_s = 0.0
        self._lookahead: tuple | None = None  # the first step of the last preview (see preview())

    @property
    def dt_s(self) -> float:
        return self.base.dt_s

    def reset(self, *, seed: int, climate: str | None = None, start: str | None = None) -> CoolingObservation:
        data = self.base.model_dump()
        data["seed"] = seed
        if start is not None:
            data["weather"]["start"] = start
        if climate is not None:
            data["weather"] = {"climate": climate, "start": data["weather"]["start"]}
        self.sim = build_simulation(validate_scenario(data, "reset options"))
        self._lookahead = None
        self._inlet_offset_median_c = float(np.median(self.sim.halls[0].node.inlet_offset_c))
        self.t_s = 0.0
        self.apply(defaults(self.specs))
        # one physics step, so the first observation is measured rather than assumed
        return self.advance(self.dt_s).obs

    def setpoints(self) -> np.ndarray:
        plant = self._plant()
        return np.array([float(getattr(plant, s.name)) for s in self.specs])

    def apply(self, setpoints: np.ndarray) -> None:
        apply_setpoints(self._plant(), {s.name: v for s, v in zip(self.specs, setpoints, strict=True)})

    def advance(self, seconds: float) -> TwinStep:
        """Run the physics for ``seconds`` at the scenario's ``dt_s``."""
        if self.sim is None:
            raise RuntimeError("call reset() first")
        adopted = self._adopt_lookahead(seconds)
        if adopted is not None:
            return adopted
        sim, dt = self.sim, self.dt_s
        totals = _StepTotals(
            sim.halls[0].spec.slowdown_temp_c - self.violation_margin_k, self.inlet_allowable_c
        )
        for _ in range(max(1, round(seconds / dt))):
            rec = sim.step(self.t_s)
            self.t_s += dt
            totals.add(rec, dt, self.t_s)
        (h,) = rec.halls
        return totals.step(self._observe(rec.dry_bulb_c, rec.wet_bulb_c, h.state), h.step.shutdown_gpus)

    def preview(self, plan, seconds: float) -> list[CoolingObservation]:
        """Observations at the end of each step of ``plan``, run on a copy: the twin is unchanged.

        ``plan`` is a list whose items are setpoint arrays, or callables mapping the previous
        step's observation and setpoints to setpoints (a controller in the loop). The preview uses
        the twin's own physics, weather and workload, so it is a perfect model; a real site would
        use a learned or simplified one.

        The state after the plan's first step is kept: if the next :meth:`advance` starts from the
        same state with the same setpoints and duration, it adopts that state instead of computing
        the step again (the physics is deterministic, so the result is identical).
        """
        saved_sim, saved_t = self.sim, self.t_s
        out: list[CoolingObservation] = []
        try:
            for i, item in enumerate(plan):
                self.sim = self._copy_sim(self.sim)
                setpoints = item(out[-1], self.setpoints()) if callable(item) else item
                self.apply(setpoints)
                step = self.advance(seconds)
                out.append(step.obs)
                if i == 0:
                    first = (saved_sim, saved_t, self.setpoints(), seconds, self.sim, self.t_s, step)
            return out
        finally:
            self.sim, self.t_s = saved_sim, saved_t
            self._lookahead = first if out else None

    def _copy_sim(self, sim: Simulation) -> Simulation:
        # share what never changes during a run: scenario, weather, GPU specs and node constants
        shared = [sim.scenario, sim.weather]
        for hall in sim.halls:
            shared += [hall.spec, hall.node, hall.path]
        return copy.deepcopy(sim, {id(o): o for o in shared})

    def _adopt_lookahead(self, seconds: float) -> TwinStep | None:
        """The previewed first step, if it started from this exact state with these setpoints."""
        look, self._lookahead = self._lookahead, None
        if look is None:
            return None
        sim0, t0, setpoints, secs, sim1, t1, step = look
        if sim0 is not self.sim or t0 != self.t_s or secs != seconds:
            return None
        if not np.array_equal(setpoints, self.setpoints()):
            return None
        self.sim, self.t_s = sim1, t1
        return step

    def _plant(self):
        if self.sim is None:
            raise RuntimeError("call reset() first")
        return self.sim.plants[0]

    def _observe(self, tdb: float, twb: float, st: HallState) -> CoolingObservation:
        hours = self.sim.start_hour + self.t_s / 3600.0
        temps = np.sort(st.temp_c)
        return CoolingObservation(
            outdoor_dry_bulb_c=float(tdb),
            outdoor_wet_bulb_c=float(twb),
            it_power_kw=float(st.node_wall_w.sum()) / 1e3,
            gpu_temp_median_c=_quantile_sorted(temps, 0.5),
            gpu_temp_p99_c=_quantile_sorted(temps, 0.99),
            gpu_temp_max_c=float(temps[-1]),
            # the inlet is the supply plus a fixed per-rack offset: its median is the offsets' median
            inlet_temp_median_c=st.supply_air_c + self._inlet_offset_median_c,
            inlet_temp_max_c=st.inlet_max_c,
            hour_of_day=float(hours % 24.0),
            day_of_year=float((hours / 24.0) % 365.0),
            gpu_slowdown_temp_c=float(self.sim.halls[0].spec.slowdown_temp_c),
        )


def make_env(kind: str, **kwargs) -> CoolingEnv:
    """Entry point of ``aidc/AirCooling-v0`` (``kind="air"``) and ``aidc/LiquidCooling-v0``
    (``"liquid"``); ``scenario=`` and ``specs=`` change the hall and its setpoints."""
    scenario = kwargs.pop("scenario", None) or control_scenario(kind)
    return CoolingEnv(HallTwin(scenario, specs=kwargs.pop("specs", None)), **kwargs)
