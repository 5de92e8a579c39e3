"""Outdoor weather: typical-meteorological-year files read with pvlib, psychrometrics with CoolProp.

pvlib ships three typical-year files, which aidc uses as its bundled climates (no download;
:data:`aidc.facility.climates.BUNDLED_CLIMATES` names them).

Hourly values are linearly interpolated to any time step. The year wraps (hour 8760 is followed
by hour 0), so runs longer than a year repeat the typical year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pvlib
from CoolProp.CoolProp import HAPropsSI
from numpy.typing import NDArray

from aidc.facility.climates import BUNDLED_CLIMATES
from aidc.units import KELVIN_OFFSET, STANDARD_PRESSURE_PA

HOURS_PER_YEAR = 8760


def wet_bulb_coolprop(
    dry_bulb_c: NDArray[np.float64],
    relative_humidity_frac: NDArray[np.float64],
    pressure_pa: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Thermodynamic wet-bulb temperature of moist air [°C].

    Parameters
    ----------
    dry_bulb_c : dry-bulb temperature [°C]
    relative_humidity_frac : relative humidity [0-1]
    pressure_pa : barometric pressure [Pa]

    Notes
    -----
    CoolProp's ``HAPropsSI`` real-gas humid-air model (Herrmann, Kretzschmar & Gatley, "Thermodynamic
    properties of real moist air, dry air, steam, water, and ice", ASHRAE RP-1485, 2009). Valid
    for −143 to 350 °C and 10 Pa to 10 MPa; relative humidity is clipped to [0.01, 1].
    """
    rh = np.clip(np.asarray(relative_humidity_frac, dtype=np.float64), 0.01, 1.0)
    t_k = np.asarray(dry_bulb_c, dtype=np.float64) + KELVIN_OFFSET
    p = np.asarray(pressure_pa, dtype=np.float64)
    return np.asarray(HAPropsSI("Twb", "T", t_k, "P", p, "R", rh)) - KELVIN_OFFSET


@dataclass(frozen=True)
class Weather:
    """Hourly outdoor conditions over one typical year, or one constant condition."""

    name: str
    source: str
    dry_bulb_c: NDArray[np.float64]
    wet_bulb_c: NDArray[np.float64]
    relative_humidity_frac: NDArray[np.float64]

    def config(self) -> dict[str, object]:
        return {
            "name": self.name,
            "source": self.source,
            "hours": int(self.dry_bulb_c.size),
            "dry_bulb_mean_c": round(float(self.dry_bulb_c.mean()), 2),
            "dry_bulb_max_c": round(float(self.dry_bulb_c.max()), 2),
            "wet_bulb_max_c": round(float(self.wet_bulb_c.max()), 2),
        }

    def at(self, hour_of_year: float) -> tuple[float, float]:
        """Dry-bulb and wet-bulb temperature [°C] at a fractional hour of the typical year."""
        n = self.dry_bulb_c.size
        if n == 1:
            return float(self.dry_bulb_c[0]), float(self.wet_bulb_c[0])
        h = hour_of_year % n
        i = math.floor(h)
        frac = h - i
        j = (i + 1) % n
        tdb = self.dry_bulb_c[i] + frac * (self.dry_bulb_c[j] - self.dry_bulb_c[i])
        twb = self.wet_bulb_c[i] + frac * (self.wet_bulb_c[j] - self.wet_bulb_c[i])
        return float(tdb), float(twb)


def constant_weather(dry_bulb_c: float, relative_humidity_frac: float) -> Weather:
    """A climate that never changes (a test chamber or a laboratory)."""
    tdb = np.array([dry_bulb_c], dtype=np.float64)
    rh = np.array([relative_humidity_frac], dtype=np.float64)
    twb = wet_bulb_coolprop(tdb, rh, np.array([STANDARD_PRESSURE_PA]))
    return Weather("constant", "constant conditions from the scenario", tdb, twb, rh)


def pvlib_data_dir() -> Path:
    return Path(pvlib.__file__).parent / "data"


@lru_cache(maxsize=16)
def load_tmy(path: str, fmt: str) -> Weather:
    """Read a TMY3 (``fmt="tmy3"``) or TMY2 (``fmt="tmy2"``) file with pvlib's readers.

    ``FileNotFoundError`` names the path when it does not exist.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"weather file not found: {p}")
    if fmt == "tmy3":
        data, meta = pvlib.iotools.read_tmy3(str(p), map_variables=True)
        tdb = data["temp_air"].to_numpy(dtype=np.float64)
        rh = data["relative_humidity"].to_numpy(dtype=np.float64) / 100.0
        pressure = data["pressure"].to_numpy(dtype=np.float64) * 100.0  # mbar → Pa
        name = str(meta.get("Name", p.stem)).strip('"')
    elif fmt == "tmy2":
        data, meta = pvlib.iotools.read_tmy2(str(p))
        tdb = data["DryBulb"].to_numpy(dtype=np.float64) / 10.0  # TMY2 stores tenths of °C
        rh = data["RHum"].to_numpy(dtype=np.float64) / 100.0
        pressure = data["Pressure"].to_numpy(dtype=np.float64) * 100.0
        name = str(meta.get("City", p.stem))
    else:
        raise ValueError(f"weather format must be 'tmy3' or 'tmy2', got {fmt!r}")
    if tdb.size != HOURS_PER_YEAR:
        raise ValueError(f"{p}: expected {HOURS_PER_YEAR} hourly rows, found {tdb.size}")
    twb = wet_bulb_coolprop(tdb, rh, pressure)
    return Weather(name, f"{fmt.upper()} file {p.name} read with pvlib {pvlib.__version__}", tdb, twb, rh)


def load_climate(name: str) -> Weather:
    """One of :data:`BUNDLED_CLIMATES` by name."""
    try:
        filename, fmt = BUNDLED_CLIMATES[name]
    except KeyError:
        raise KeyError(f"unknown climate {name!r}; bundled: {', '.join(BUNDLED_CLIMATES)}") from None
    return load_tmy(str(pvlib_data_dir() / filename), fmt)
