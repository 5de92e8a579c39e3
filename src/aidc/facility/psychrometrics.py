"""Moist-air psychrometrics over arrays: saturation pressure, humidity ratio and wet-bulb temperature.

The ideal-gas formulation of the ASHRAE Handbook—Fundamentals (2017, ch. 1 "Psychrometrics"), which
treats dry air and water vapour as ideal gases: at atmospheric pressures it agrees with the
real-gas humid-air model of ASHRAE RP-1485 (Herrmann, Kretzschmar & Gatley 2009, CoolProp's
``HAPropsSI``) to within a few hundredths of a kelvin in wet bulb (a test checks it over the bundled
climates' 26,280 hours). Valid from −100 to 200 °C at pressures near atmospheric (the weather
ranges of :mod:`aidc.facility.weather`).

Written over numpy arrays because a weather file is 8,760 hours: the whole year takes about a
millisecond here, where CoolProp's scalar real-gas solve took 0.75 s and its import 1.3 s, most of
a run's start-up.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aidc.units import KELVIN_OFFSET

FloatArray = NDArray[np.float64]

# Hyland–Wexler saturation pressure, ASHRAE Handbook—Fundamentals 2017, ch. 1, eq. (5) over ice
# (−100 to 0 °C) and eq. (6) over liquid water (0 to 200 °C): ln p_ws = C/T + Σ c_k·T^k + c_ln·ln T,
# T in K, p_ws in Pa.
_ICE = (-5.6745359e03, 6.3925247e00, -9.6778430e-03, 6.2215701e-07, 2.0747825e-09, -9.4840240e-13)
_ICE_LN = 4.1635019e00
_WATER = (-5.8002206e03, 1.3914993e00, -4.8640239e-02, 4.1764768e-05, -1.4452093e-08)
_WATER_LN = 6.5459673e00

MOLAR_MASS_RATIO = 0.621945
"""Water vapour to dry air molar mass ratio (ASHRAE Handbook—Fundamentals 2017, ch. 1, eq. 22)."""

_BISECTIONS = 40
"""Halvings of the wet-bulb bracket: a 250 K bracket narrows below 1e-9 K."""


def saturation_pressure_pa(temp_c: ArrayLike) -> FloatArray:
    """Saturation pressure of water vapour [Pa], over ice below 0 °C and over liquid water above
    (ASHRAE Handbook—Fundamentals 2017, ch. 1, eqs. 5–6)."""
    t = np.asarray(temp_c, dtype=np.float64) + KELVIN_OFFSET
    ice = _ICE[0] / t + _ICE[1] + t * (_ICE[2] + t * (_ICE[3] + t * (_ICE[4] + t * _ICE[5])))
    water = _WATER[0] / t + _WATER[1] + t * (_WATER[2] + t * (_WATER[3] + t * _WATER[4]))
    ln_t = np.log(t)
    return np.exp(np.where(t < KELVIN_OFFSET, ice + _ICE_LN * ln_t, water + _WATER_LN * ln_t))


def humidity_ratio(vapour_pressure_pa: ArrayLike, pressure_pa: ArrayLike) -> FloatArray:
    """Humidity ratio [kg water / kg dry air] at a partial vapour pressure (eq. 20 with 22)."""
    pw = np.asarray(vapour_pressure_pa, dtype=np.float64)
    return MOLAR_MASS_RATIO * pw / (np.asarray(pressure_pa, dtype=np.float64) - pw)


def _humidity_ratio_at_wet_bulb(
    dry_bulb_c: FloatArray, wet_bulb_c: ArrayLike, pressure_pa: FloatArray, *, ice: bool
) -> FloatArray:
    """The humidity ratio of air at ``dry_bulb_c`` whose thermodynamic wet bulb is ``wet_bulb_c``:
    the adiabatic saturation energy balance over liquid water (eq. 33) or over ice (eq. 35) of the
    ASHRAE Handbook—Fundamentals 2017, ch. 1 (its constants are enthalpies in kJ/kg and heat
    capacities in kJ/(kg·K))."""
    ts = np.asarray(wet_bulb_c, dtype=np.float64)
    w_sat = humidity_ratio(saturation_pressure_pa(ts), pressure_pa)
    t = dry_bulb_c
    if ice:
        return ((2830.0 - 0.24 * ts) * w_sat - 1.006 * (t - ts)) / (2830.0 + 1.86 * t - 2.1 * ts)
    return ((2501.0 - 2.326 * ts) * w_sat - 1.006 * (t - ts)) / (2501.0 + 1.86 * t - 4.186 * ts)


def wet_bulb_c(
    dry_bulb_c: ArrayLike, relative_humidity_frac: ArrayLike, pressure_pa: ArrayLike
) -> FloatArray:
    """Thermodynamic wet-bulb temperature of moist air [°C].

    Relative humidity (clipped to [0.01, 1]) gives the vapour pressure at the dry bulb and so the
    humidity ratio W; the wet bulb is the temperature at which adiabatic saturation gives the same
    W, over liquid water above 0 °C and over ice below. Each branch rises monotonically with the
    assumed wet bulb, but the ice branch ends at 0 °C above where the liquid one starts (the heat of
    fusion): air whose W falls between the two saturates at 0 °C, water and ice together. The
    solution is found by bisection between −100 °C and the dry bulb on that ordering.
    """
    t = np.asarray(dry_bulb_c, dtype=np.float64)
    rh = np.clip(np.asarray(relative_humidity_frac, dtype=np.float64), 0.01, 1.0)
    t, rh = np.broadcast_arrays(t, rh)
    p = np.broadcast_to(np.asarray(pressure_pa, dtype=np.float64), t.shape)
    target = humidity_ratio(rh * saturation_pressure_pa(t), p)
    on_liquid = target > _humidity_ratio_at_wet_bulb(t, 0.0, p, ice=True)  # the root is above 0 °C
    on_ice = target < _humidity_ratio_at_wet_bulb(t, 0.0, p, ice=False)  # the root is below 0 °C
    low, high = np.full(t.shape, -100.0), t.copy()
    for _ in range(_BISECTIONS):
        mid = 0.5 * (low + high)
        liquid = _humidity_ratio_at_wet_bulb(t, np.maximum(mid, 0.0), p, ice=False) > target
        ice = _humidity_ratio_at_wet_bulb(t, np.minimum(mid, 0.0), p, ice=True) > target
        # is the root below mid?
        below = np.where(mid > 0.0, ~on_liquid | liquid, on_ice & ice)
        high = np.where(below, mid, high)
        low = np.where(below, low, mid)
    return 0.5 * (low + high)
