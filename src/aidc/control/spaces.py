"""What controllers see and set: cooling setpoints with their physical ranges, and the observation.

Setpoints are physical (°C, fractions); Gymnasium agents act in [−1, 1] and
:func:`to_physical` / :func:`to_normalized` map between the two with the ranges of an
:class:`ActionSpec` tuple. Ranges and rate limits here are defaults with their sources; a scenario
may narrow them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

RATE_REFERENCE_S = 300.0
"""The time ``ActionSpec.max_step`` is given over [s]: a ramp rate, so that a controller acting every
second moves a setpoint no faster than one acting every 15 minutes (equipment ramps in time, not
in control steps)."""


@dataclass(frozen=True)
class ActionSpec:
    """One continuous setpoint: its physical range, the most it may move per 5 minutes, a safe default."""

    name: str
    unit: str
    low: float
    high: float
    max_step: float  # largest change per RATE_REFERENCE_S of time [unit per 5 min]
    default: float
    source: str
    # +1: a higher value never heats the IT (more flow); −1: a lower value never does (colder
    # supply); 0: no thermal effect on the IT (economizer lockout only moves energy)
    safe_direction: int = -1

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"{self.name}: low ({self.low}) must be below high ({self.high})")
        if not self.low <= self.default <= self.high:
            raise ValueError(f"{self.name}: default {self.default} is outside [{self.low}, {self.high}]")
        if self.max_step <= 0:
            raise ValueError(f"{self.name}: max_step must be positive, got {self.max_step}")
        if self.safe_direction not in (-1, 0, 1):
            raise ValueError(f"{self.name}: safe_direction must be -1, 0 or +1, got {self.safe_direction}")


AIR_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "supply_air_temp_c",
        "°C",
        18.0,
        27.0,
        1.0,
        22.0,
        "ASHRAE TC 9.9 (2021) recommended inlet envelope 18–27 °C; 1 K per 5 min, a gentle CRAH reset",
    ),
    ActionSpec(
        "chw_supply_temp_c",
        "°C",
        7.0,
        20.0,
        1.0,
        12.0,
        "typical chiller leaving-water range (EnergyPlus Chillers.idf curves span 4.4–20 °C)",
    ),
    ActionSpec(
        "economizer_lockout_wetbulb_c",
        "°C",
        -5.0,
        20.0,
        2.0,
        12.0,
        "waterside-economizer enable below this outdoor wet-bulb (ASHRAE 90.1-2019 §6.5.1.2 economizer "
        "controls); above it the economizer is off",
        safe_direction=0,
    ),
)

LIQUID_ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec(
        "facility_supply_temp_c",
        "°C",
        17.0,
        40.0,
        1.0,
        32.0,
        "ASHRAE TC 9.9 liquid-cooling classes W17–W40 (2021 guidelines); 1 K per 5 min",
    ),
    ActionSpec(
        "flow_frac",
        "-",
        0.4,
        1.0,
        0.1,
        1.0,
        "facility-water and CDU flow as a share of design; 40 % is a common VFD turndown floor",
        safe_direction=+1,
    ),
)


def to_physical(action: np.ndarray, specs: tuple[ActionSpec, ...]) -> np.ndarray:
    """[−1, 1] → physical units (values outside [−1, 1] are clipped first)."""
    a = np.clip(np.asarray(action, dtype=np.float64), -1.0, 1.0)
    low = np.array([s.low for s in specs])
    high = np.array([s.high for s in specs])
    return low + (a + 1.0) * 0.5 * (high - low)


def to_normalized(setpoints: np.ndarray, specs: tuple[ActionSpec, ...]) -> np.ndarray:
    low = np.array([s.low for s in specs])
    high = np.array([s.high for s in specs])
    return 2.0 * (np.asarray(setpoints, dtype=np.float64) - low) / (high - low) - 1.0


def defaults(specs: tuple[ActionSpec, ...]) -> np.ndarray:
    return np.array([s.default for s in specs])


@dataclass(frozen=True)
class CoolingObservation:
    """One control step's view of a hall and its plant (physical units).

    GPU statistics are over the hall's GPUs at the end of the step; inlet statistics over the
    GPUs' inlet air (air halls) or the residual air supply (liquid halls).
    """

    outdoor_dry_bulb_c: float
    outdoor_wet_bulb_c: float
    it_power_kw: float
    gpu_temp_median_c: float
    gpu_temp_p99_c: float
    gpu_temp_max_c: float
    inlet_temp_median_c: float
    inlet_temp_max_c: float
    hour_of_day: float  # [0, 24)
    day_of_year: float  # [0, 365)
    gpu_slowdown_temp_c: float  # the hall's GPU threshold (a constant, kept for the shield)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]


def at_least_as_safe(a: np.ndarray, b: np.ndarray, specs: tuple[ActionSpec, ...]) -> bool:
    """``a`` is no hotter than ``b`` in every setpoint that affects the IT's temperature."""
    d = np.array([s.safe_direction for s in specs], dtype=np.float64)
    return bool(np.all(d * (np.asarray(a) - np.asarray(b)) >= 0.0))
