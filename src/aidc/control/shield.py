"""The safety shield: every action of every controller passes through it before it reaches the plant.

In order, for each control step:

1. **reject** an action that is missing, late (computed for longer than ``max_latency_s``), of the
   wrong shape, or not finite — the fallback controller's action replaces it;
2. **fall back** to the fallback controller (the rule-based baseline) whenever the thermal margin
   is thin: the hottest GPU within ``gpu_margin_k`` of its slowdown temperature, or the hottest
   inlet within ``inlet_margin_k`` of the ASHRAE allowable limit;
3. **clamp** each setpoint to its physical range;
4. **rate-limit** each setpoint to ``max_step`` from the previous step (equipment cannot jump).

Every intervention is counted by kind and kept in :attr:`SafetyShield.log` for telemetry. The idea
is the shield of Alshiekh et al. (AAAI 2018, "Safe Reinforcement Learning via Shielding"), reduced
to box and rate constraints plus a trusted fallback controller.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from aidc.control.spaces import ActionSpec, CoolingObservation

# ASHRAE TC 9.9 (2021) allowable inlet temperature of class A1 equipment.
ASHRAE_A1_ALLOWABLE_MAX_C = 32.0

INTERVENTIONS = ("missing", "late", "bad_shape", "non_finite", "fallback_margin", "clamped", "rate_limited")


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
    counts: Counter = field(default_factory=Counter)
    log: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)  # (step, interventions)
    _step: int = 0

    def margin_is_thin(self, obs: CoolingObservation) -> bool:
        gpu_thin = obs.gpu_temp_max_c >= obs.gpu_slowdown_temp_c - self.gpu_margin_k
        inlet_thin = obs.inlet_temp_max_c >= self.inlet_allowable_c - self.inlet_margin_k
        return bool(gpu_thin or inlet_thin)

    def filter(
        self,
        proposed,
        previous: np.ndarray,
        obs: CoolingObservation,
        fallback: np.ndarray,
        latency_s: float = 0.0,
    ) -> ShieldDecision:
        """The setpoints to apply, given the controller's ``proposed`` ones and the fallback's."""
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
        if not used_fallback and self.margin_is_thin(obs):
            hits.append("fallback_margin")
            used_fallback = True
        if used_fallback:
            action = np.asarray(fallback, dtype=np.float64)
        low = np.array([s.low for s in self.specs])
        high = np.array([s.high for s in self.specs])
        clamped = np.clip(action, low, high)
        if not np.array_equal(clamped, action):
            hits.append("clamped")
        step = np.array([s.max_step for s in self.specs])
        limited = np.clip(clamped, previous - step, previous + step)
        if not np.array_equal(limited, clamped):
            hits.append("rate_limited")
        self.counts.update(hits)
        if hits:
            self.log.append((self._step, tuple(hits)))
        self._step += 1
        return ShieldDecision(limited, tuple(hits), used_fallback)
