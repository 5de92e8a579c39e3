"""The safety shield: every action of every controller passes through it before it reaches the plant.

In order, for each control step:

1. **reject** an action that is missing, late (computed for longer than ``max_latency_s``), of the
   wrong shape, or not finite — the fallback controller's action replaces it;
2. **fall back** to the fallback controller (the rule-based baseline) whenever the thermal margin
   is thin: the hottest GPU within ``gpu_margin_k`` of its slowdown temperature, or the hottest
   inlet within ``inlet_margin_k`` of the ASHRAE allowable limit — and stay with it until the
   margin has recovered by ``release_k`` more (hysteresis: releasing as soon as the margin is back
   lets a policy bounce straight back into the hot state), or when a ``predict`` function is given
   and the action, after steps 3–4, is predicted to leave the margin thin at the end of this step
   or of the next one with the fallback in control — a state the fallback can still recover
   from, within its rate limits (a predictive safety filter in the sense of Wabersich &
   Zeilinger, Automatica 2021, with a two-step horizon). Actions at least as cold as the
   fallback's in every thermal setpoint skip the preview: the plant is monotone in them;
3. **clamp** each setpoint to its physical range;
4. **rate-limit** each setpoint to ``max_step`` per 5 minutes from the previous step, scaled to the
   control interval ``step_s`` (equipment cannot jump, and ramps in time, not in steps).

Every intervention is counted by kind and kept in :attr:`SafetyShield.log` for telemetry. The idea
is the shield of Alshiekh et al. (AAAI 2018, "Safe Reinforcement Learning via Shielding"), reduced
to box and rate constraints plus a trusted fallback controller.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from aidc.control.spaces import RATE_REFERENCE_S, ActionSpec, CoolingObservation, at_least_as_safe

# ASHRAE TC 9.9 (2021) allowable inlet temperature of class A1 equipment.
ASHRAE_A1_ALLOWABLE_MAX_C = 32.0

INTERVENTIONS = (
    "missing",
    "late",
    "bad_shape",
    "non_finite",
    "fallback_margin",
    "fallback_predicted",
    "clamped",
    "rate_limited",
)
# The interventions that replace the controller's action (the rest only bound it).
OVERRIDES = ("missing", "late", "bad_shape", "non_finite", "fallback_margin", "fallback_predicted")


@dataclass
class ShieldDecision:
    setpoints: np.ndarray
    interventions: tuple[str, ...]
    used_fallback: bool


@dataclass
class SafetyShield:
    specs: tuple[ActionSpec, ...]
    gpu_margin_k: float = 5.0
    inlet_margin_k: float = 2.0
    inlet_allowable_c: float = ASHRAE_A1_ALLOWABLE_MAX_C
    max_latency_s: float = 30.0
    step_s: float = RATE_REFERENCE_S  # the control interval the rate limits are scaled to [s]
    gpu_release_k: float = 8.0
    inlet_release_k: float = 1.0
    counts: Counter = field(default_factory=Counter)
    log: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)  # (step, interventions)
    _step: int = 0
    engaged: bool = False  # the fallback is in control

    def margin_is_thin(self, obs: CoolingObservation, releasing: bool = False) -> bool:
        gpu_extra = self.gpu_release_k if releasing else 0.0
        inlet_extra = self.inlet_release_k if releasing else 0.0
        gpu_thin = obs.gpu_temp_max_c >= obs.gpu_slowdown_temp_c - self.gpu_margin_k - gpu_extra
        inlet_thin = obs.inlet_temp_max_c >= self.inlet_allowable_c - self.inlet_margin_k - inlet_extra
        return bool(gpu_thin or inlet_thin)

    def bound(self, action: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Clamp to the ranges, then rate-limit from ``previous``; returns the hits of each."""
        hits = []
        low = np.array([s.low for s in self.specs])
        high = np.array([s.high for s in self.specs])
        clamped = np.clip(action, low, high)
        if not np.array_equal(clamped, action):
            hits.append("clamped")
        step = np.array([s.max_step for s in self.specs]) * (self.step_s / RATE_REFERENCE_S)
        limited = np.clip(clamped, previous - step, previous + step)
        # an agent's float32 action resolves a setpoint to about eps32 of its range: a move at the
        # limit that rounding put a hair past it is the limit, not an intervention
        if np.any(np.abs(limited - clamped) > np.finfo(np.float32).eps * (high - low)):
            hits.append("rate_limited")
        return limited, hits

    def filter(
        self,
        proposed,
        previous: np.ndarray,
        obs: CoolingObservation,
        fallback: np.ndarray,
        latency_s: float = 0.0,
        predict: Callable[[np.ndarray], list[CoolingObservation]] | None = None,
    ) -> ShieldDecision:
        """The setpoints to apply, given the controller's ``proposed`` ones and the fallback's.

        ``predict(setpoints)``, if given, previews the observations at the end of this step and the
        next (the fallback acting in the next).
        """
        n = len(self.specs)
        hits: list[str] = []
        action = None
        if proposed is None:
            hits.append("missing")
        elif latency_s > self.max_latency_s or math.isnan(latency_s):
            hits.append("late")
        else:
            arr = np.asarray(proposed, dtype=np.float64)
            if arr.shape != (n,):
                hits.append("bad_shape")
            elif not np.isfinite(arr).all():
                hits.append("non_finite")
            else:
                action = arr
        used_fallback = action is None
        self.engaged = self.margin_is_thin(obs, releasing=self.engaged)
        if not used_fallback and self.engaged:
            hits.append("fallback_margin")
            used_fallback = True
        if not used_fallback:
            candidate, bound_hits = self.bound(action, previous)
            fb, _ = self.bound(np.asarray(fallback, dtype=np.float64), previous)
            risky = predict is not None and not at_least_as_safe(candidate, fb, self.specs)
            if risky and any(self.margin_is_thin(o) for o in predict(candidate)):
                hits.append("fallback_predicted")
                used_fallback = True
            else:
                hits += bound_hits
                limited = candidate
        if used_fallback:
            limited, bound_hits = self.bound(np.asarray(fallback, dtype=np.float64), previous)
            hits += bound_hits
        self.counts.update(hits)
        if hits:
            self.log.append((self._step, tuple(hits)))
        self._step += 1
        return ShieldDecision(limited, tuple(hits), used_fallback)
