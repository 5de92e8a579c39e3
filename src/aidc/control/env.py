"""Gymnasium environments for data-center cooling control.

The environment sees the twin only through a :class:`Twin` (:class:`aidc.control.twin.HallTwin` is
one): it resets it, applies setpoints and advances it by one control step, during which the twin's
physics runs at its own ``dt_s``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Protocol

import gymnasium as gym
import numpy as np

from aidc.control.controllers import RuleBasedReset
from aidc.control.shield import SafetyShield
from aidc.control.spaces import ActionSpec, CoolingObservation, to_physical

# Physical bounds of each observation feature, for the Box; generous on purpose.
_OBS_BOUNDS: dict[str, tuple[float, float]] = {
    "outdoor_dry_bulb_c": (-60.0, 60.0),
    "outdoor_wet_bulb_c": (-60.0, 45.0),
    "it_power_kw": (0.0, 1e6),
    "gpu_temp_median_c": (-20.0, 150.0),
    "gpu_temp_p99_c": (-20.0, 150.0),
    "gpu_temp_max_c": (-20.0, 150.0),
    "inlet_temp_median_c": (-20.0, 80.0),
    "inlet_temp_max_c": (-20.0, 80.0),
    "hour_of_day": (0.0, 24.0),
    "day_of_year": (0.0, 366.0),
    "gpu_slowdown_temp_c": (0.0, 150.0),
}


# Reward weights, a design choice rather than a measured cost: a GPU-hour near slowdown costs as
# much as 10 kWh of cooling, and a kelvin-hour of inlet air above the allowable 50 kWh, so that
# on a 1,024-GPU hall (about 8 kWh of cooling per 5-minute step) any violation outweighs the
# energy a step could save.
GPU_PENALTY_KWH = 10.0
INLET_PENALTY_KWH = 50.0


class Twin(Protocol):
    specs: tuple[ActionSpec, ...]
    dt_s: float

    def reset(
        self, *, seed: int, climate: str | None = None, start: str | None = None
    ) -> CoolingObservation: ...

    def setpoints(self) -> np.ndarray: ...

    def apply(self, setpoints: np.ndarray) -> None: ...

    def advance(self, seconds: float): ...


def observation_vector(obs: CoolingObservation, setpoints: np.ndarray) -> np.ndarray:
    """The observation fields in order, the current setpoints, then sin/cos of hour and day."""
    base = [getattr(obs, name) for name in CoolingObservation.field_names()]
    hour = 2 * math.pi * obs.hour_of_day / 24.0
    day = 2 * math.pi * obs.day_of_year / 365.0
    return np.array(
        [*base, *setpoints, math.sin(hour), math.cos(hour), math.sin(day), math.cos(day)], dtype=np.float32
    )


class CoolingEnv(gym.Env[np.ndarray, np.ndarray]):
    """Cooling setpoint control of one hall of the aidc twin.

    ## Action Space

    ``Box(-1, 1, (n,))``, mapped linearly to each setpoint's physical range (the plant's
    :class:`ActionSpec` tuple). ``aidc/AirCooling-v0``: supply-air temperature [°C] (18–27),
    chilled-water supply temperature [°C] (7–20), economizer wet-bulb lockout [°C] (−5–20).
    ``aidc/LiquidCooling-v0``: CDU facility-water supply temperature [°C] (17–40) and loop flow
    [share of design] (0.4–1.0). Actions pass the :class:`SafetyShield` (on by default): clamped,
    rate-limited, and replaced by the rule-based controller when the thermal margin is thin or,
    with ``predictive_shield`` (default), when a preview of the step on a copy of the twin says it
    would become thin.

    ## Observation Space

    ``Box`` of float32, in physical units:

    | index | feature | unit |
    | --- | --- | --- |
    | 0, 1 | outdoor dry-bulb, wet-bulb | °C |
    | 2 | IT power | kW |
    | 3–5 | GPU junction temperature median, 99th percentile, max | °C |
    | 6, 7 | inlet air temperature median, max | °C |
    | 8, 9 | hour of day, day of year | h, d |
    | 10 | GPU slowdown threshold | °C |
    | 11 … 10+n | current setpoints | as the actions |
    | last 4 | sin/cos of the hour, sin/cos of the day of year | – |

    ## Rewards

    ``−(cooling energy of the step [kWh]) − gpu_penalty_kwh · (GPU-hours at or above slowdown −
    margin, or throttled) − inlet_penalty_kwh · (K·h of hottest inlet above the ASHRAE A1
    allowable 32 °C)``.

    ## Episode End

    Truncated after ``episode_hours``; terminated if any GPU reaches its shutdown temperature.

    ## Exogenous drivers

    The scenario (hall, workload, physics ``dt_s``) comes through the constructor; ``reset(options=)``
    takes ``climate`` (a bundled climate name) and ``start`` (``"MM-DD HH:MM"``).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": []}

    def __init__(
        self,
        twin: Twin,
        *,
        control_step_s: float = 300.0,
        episode_hours: float = 24.0,
        gpu_penalty_kwh: float = GPU_PENALTY_KWH,
        inlet_penalty_kwh: float = INLET_PENALTY_KWH,
        shielded: bool = True,
        predictive_shield: bool = True,
        default_options: dict[str, Any] | None = None,
    ) -> None:
        if control_step_s < twin.dt_s:
            raise ValueError(f"control_step_s ({control_step_s}) must be >= the physics dt_s ({twin.dt_s})")
        self.twin = twin
        self.specs = twin.specs
        self.control_step_s = control_step_s
        self.max_steps = max(1, round(episode_hours * 3600.0 / control_step_s))
        self.gpu_penalty_kwh = gpu_penalty_kwh
        self.inlet_penalty_kwh = inlet_penalty_kwh
        self.default_options = dict(default_options or {})
        self.shield = SafetyShield(self.specs, step_s=control_step_s) if shielded else None
        self.predictive_shield = predictive_shield
        self.fallback = RuleBasedReset(self.specs)
        n = len(self.specs)
        self.action_space = gym.spaces.Box(-1.0, 1.0, (n,), dtype=np.float32)
        low = [b[0] for b in _OBS_BOUNDS.values()] + [s.low for s in self.specs] + [-1.0] * 4
        high = [b[1] for b in _OBS_BOUNDS.values()] + [s.high for s in self.specs] + [1.0] * 4
        self.observation_space = gym.spaces.Box(
            np.array(low, np.float32), np.array(high, np.float32), dtype=np.float32
        )
        self._obs: CoolingObservation | None = None
        self._steps = 0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        opts = {**self.default_options, **(options or {})}
        unknown = set(opts) - {"climate", "start"}
        if unknown:
            raise ValueError(f"unknown reset options {sorted(unknown)}; allowed: climate, start")
        twin_seed = int(self.np_random.integers(0, 2**31 - 1))
        self._obs = self.twin.reset(seed=twin_seed, climate=opts.get("climate"), start=opts.get("start"))
        self._steps = 0
        if self.shield is not None:
            self.shield = SafetyShield(self.specs, step_s=self.control_step_s)
        return self._vector(), {"setpoints": self.twin.setpoints()}

    @property
    def cooling_observation(self) -> CoolingObservation:
        """The last observation as a :class:`CoolingObservation` (what baseline controllers read)."""
        if self._obs is None:
            raise RuntimeError("call reset() first")
        return self._obs

    def physical_action(self, action: np.ndarray) -> np.ndarray:
        return to_physical(action, self.specs)

    def step(self, action: np.ndarray):
        if self._obs is None:
            raise RuntimeError("call reset() before step()")
        proposed = None if action is None else self.physical_action(action)  # NaN stays NaN for the shield
        applied, interventions = self._filter(proposed)
        self.twin.apply(applied)
        out = self.twin.advance(self.control_step_s)
        self._obs = out.obs
        self._steps += 1
        cooling_kwh = out.cooling_j / 3.6e6
        gpu_viol_h = out.gpu_violation_gpu_s / 3600.0
        inlet_kh = out.inlet_excess_k_s / 3600.0
        reward = -cooling_kwh - self.gpu_penalty_kwh * gpu_viol_h - self.inlet_penalty_kwh * inlet_kh
        terminated = out.shutdown_gpus > 0
        truncated = self._steps >= self.max_steps
        info = {
            "cooling_kwh": cooling_kwh,
            "it_kwh": out.it_j / 3.6e6,
            "facility_kwh": out.facility_j / 3.6e6,
            "gpu_violation_gpu_h": gpu_viol_h,
            "inlet_excess_k_h": inlet_kh,
            "throttled_gpu_h": out.throttled_gpu_s / 3600.0,
            "gpu_temp_peak_c": out.gpu_temp_peak_c,
            "work_pflop": out.work_pflop,
            "shutdown_t_s": out.shutdown_t_s,
            "gpu_violation_before_shutdown_gpu_h": out.gpu_violation_before_shutdown_gpu_s / 3600.0,
            "setpoints": applied,
            "shield": interventions,
        }
        return self._vector(), float(reward), bool(terminated), bool(truncated), info

    def _filter(self, proposed: np.ndarray | None) -> tuple[np.ndarray, tuple[str, ...]]:
        if self.shield is None:
            if proposed is None or not np.isfinite(proposed).all():
                raise ValueError(f"unshielded environment got a non-finite action {proposed}")
            return np.clip(proposed, [s.low for s in self.specs], [s.high for s in self.specs]), ()
        predict = None
        if self.predictive_shield and hasattr(self.twin, "preview"):
            shield = self.shield

            def fallback_next(obs: CoolingObservation, previous: np.ndarray) -> np.ndarray:
                return shield.bound(self.fallback.act(obs), previous)[0]

            def predict(setpoints: np.ndarray) -> list[CoolingObservation]:
                return self.twin.preview([setpoints, fallback_next], self.control_step_s)

        d = self.shield.filter(
            proposed, self.twin.setpoints(), self._obs, self.fallback.act(self._obs), predict=predict
        )
        return d.setpoints, d.interventions

    def _vector(self) -> np.ndarray:
        vec = observation_vector(self._obs, self.twin.setpoints())
        return np.clip(vec, self.observation_space.low, self.observation_space.high)
