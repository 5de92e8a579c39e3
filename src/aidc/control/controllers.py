"""Baseline cooling controllers behind one interface, and their registry.

A controller maps a :class:`CoolingObservation` to physical setpoints (the order of the plant's
:class:`ActionSpec` tuple). It may keep state (a PID integrator); :meth:`reset` clears it.

* :class:`FixedSetpoints` — hold ASHRAE-recommended values (the specs' defaults).
* :class:`RuleBasedReset` — air: chilled-water reset on outdoor wet-bulb and supply-air reset on
  the hottest inlet; liquid: facility-water reset on outdoor conditions and flow on the hottest GPU.
* :class:`PIDHottestGPU` — a PI loop (with anti-windup by clamping) that moves the supply
  temperature to hold the hottest GPU at a target below its slowdown threshold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from aidc.control.spaces import AIR_ACTIONS, LIQUID_ACTIONS, ActionSpec, CoolingObservation, defaults


class Controller(Protocol):
    specs: tuple[ActionSpec, ...]

    def reset(self) -> None: ...

    def act(self, obs: CoolingObservation) -> np.ndarray: ...


def _kind(specs: tuple[ActionSpec, ...]) -> str:
    names = [s.name for s in specs]
    if names == [s.name for s in AIR_ACTIONS]:
        return "air"
    if names == [s.name for s in LIQUID_ACTIONS]:
        return "liquid"
    raise ValueError(f"baseline controllers know the air and liquid setpoint sets, not {names}")


def _clip(specs: tuple[ActionSpec, ...], values: np.ndarray) -> np.ndarray:
    return np.clip(values, [s.low for s in specs], [s.high for s in specs])


@dataclass
class FixedSetpoints:
    specs: tuple[ActionSpec, ...]

    def reset(self) -> None:
        pass

    def act(self, obs: CoolingObservation) -> np.ndarray:
        return defaults(self.specs)


@dataclass
class RuleBasedReset:
    """Outdoor-air and hottest-inlet resets: the supply-air and chilled-water resets of ASHRAE
    Guideline 36's sequences (trim-and-respond there) reduced to proportional rules.

    Air: chilled water = wet-bulb + tower approach + HX approach (so the economizer carries what it
    can), bounded by the coil's need to deliver the supply air; supply air rises until the hottest
    inlet sits ``inlet_target_c`` (below the recommended 27 °C). Liquid: facility water follows the
    outdoor dry-bulb + dry-cooler approach (no trim chiller when the climate allows), pulled down
    when the hottest GPU is within ``gpu_headroom_k`` of slowdown; flow rises with the same signal.
    """

    specs: tuple[ActionSpec, ...]
    inlet_target_c: float = 25.0
    gpu_headroom_k: float = 15.0
    tower_approach_k: float = 4.0
    hx_approach_k: float = 1.5
    coil_approach_k: float = 3.0
    dry_cooler_approach_k: float = 8.0
    gain: float = 0.5

    def reset(self) -> None:
        pass

    def act(self, obs: CoolingObservation) -> np.ndarray:
        gpu_excess = max(obs.gpu_temp_max_c - (obs.gpu_slowdown_temp_c - self.gpu_headroom_k), 0.0)
        if _kind(self.specs) == "air":
            sat = defaults(self.specs)[0] + self.gain * (self.inlet_target_c - obs.inlet_temp_max_c)
            sat -= 2.0 * gpu_excess  # hot GPUs: colder air, 2 K per K over the headroom
            chw = min(
                obs.outdoor_wet_bulb_c + self.tower_approach_k + self.hx_approach_k,
                sat - self.coil_approach_k,
            )
            lockout = obs.outdoor_wet_bulb_c + 2.0  # economizer on whenever it can help at all
            return _clip(self.specs, np.array([sat, chw, lockout]))
        if _kind(self.specs) == "liquid":
            fws = min(obs.outdoor_dry_bulb_c + self.dry_cooler_approach_k, defaults(self.specs)[0])
            fws -= 2.0 * gpu_excess
            flow = 1.0 if gpu_excess > 0 else 0.7
            return _clip(self.specs, np.array([fws, flow]))
        raise AssertionError("unreachable: _kind raised")


@dataclass
class PIDHottestGPU:
    """PI control of the hottest GPU's junction temperature through the supply temperature.

    Error = target − hottest GPU [K]; the first setpoint (supply air or facility water) moves by
    ``kp·e + ki·Σe·dt``; the others stay at their defaults (air) or at full flow when the GPU runs
    hot (liquid). Gains are per control step of ``dt_s``.
    """

    specs: tuple[ActionSpec, ...]
    target_below_slowdown_k: float = 12.0
    kp: float = 0.4
    ki: float = 0.0005  # [1/s]
    dt_s: float = 300.0
    _integral: float = field(default=0.0, repr=False)

    def reset(self) -> None:
        self._integral = 0.0

    def act(self, obs: CoolingObservation) -> np.ndarray:
        error = (obs.gpu_slowdown_temp_c - self.target_below_slowdown_k) - obs.gpu_temp_max_c
        base = defaults(self.specs)
        lo, hi = self.specs[0].low, self.specs[0].high
        proposed = base[0] + self.kp * error + self.ki * (self._integral + error * self.dt_s)
        if lo < proposed < hi:  # integrate only while unsaturated (anti-windup)
            self._integral += error * self.dt_s
        out = base.copy()
        out[0] = proposed
        if _kind(self.specs) == "liquid":
            out[1] = 1.0 if error < 0 else base[1]
        return _clip(self.specs, out)


CONTROLLERS: dict[str, type] = {
    "fixed": FixedSetpoints,
    "rule-based": RuleBasedReset,
    "pid": PIDHottestGPU,
}


def make_controller(name: str, specs: tuple[ActionSpec, ...], **params) -> Controller:
    """A registered baseline controller by name (``fixed``, ``rule-based``, ``pid``)."""
    if name not in CONTROLLERS:
        raise KeyError(f"unknown controller {name!r}; known: {', '.join(CONTROLLERS)}")
    return CONTROLLERS[name](specs, **params)
