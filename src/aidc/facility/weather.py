"""Outdoor weather: typical-meteorological-year files read with pvlib, wet bulb by the ASHRAE
psychrometrics of :mod:`aidc.facility.psychrometrics`.

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
from typing import Any

import numpy as np
import pvlib
from numpy.typing import NDArray

from aidc.facility import psychrometrics
from aidc.facility.climates import BUNDLED_CLIMATES
from aidc.units import HOURS_PER_YEAR, STANDARD_PRESSURE_PA

FloatArray = NDArray[np.float64]


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
    twb = psychrometrics.wet_bulb_c(tdb, rh, np.array([STANDARD_PRESSURE_PA]))
    return Weather("constant", "constant conditions from the scenario", tdb, twb, rh)


def pvlib_data_dir() -> Path:
    return Path(pvlib.__file__).parent / "data"


# The range a weather file's hourly values must fall in: the extremes recorded on Earth (dry bulb
# −89.2 °C at Vostok, 56.7 °C at Death Valley; WMO archive), and barometric pressure from the
# highest inhabited sites (about 50 kPa) to the highest sea-level record (108.4 kPa), with margin.
WEATHER_RANGES = {
    "dry_bulb_c": (-90.0, 60.0),
    "relative_humidity_pct": (0.0, 100.0),
    "pressure_pa": (40_000.0, 110_000.0),
}


@lru_cache(maxsize=16)
def load_tmy(path: str, fmt: str) -> Weather:
    """Read a TMY3 (``fmt="tmy3"``) or TMY2 (``fmt="tmy2"``) file with pvlib's readers.

    ``FileNotFoundError`` names the path when it does not exist; ``ValueError`` names the file when
    it does not parse, has not 8760 hourly rows, or holds a value outside :data:`WEATHER_RANGES`.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"weather file not found: {p}")
    if fmt not in ("tmy3", "tmy2"):
        raise ValueError(f"weather format must be 'tmy3' or 'tmy2', got {fmt!r}")
    try:
        name, tdb, rh_pct, pressure = _read_tmy(p, fmt)
    except Exception as e:  # pvlib's readers fail on a malformed file with whatever the line triggers
        raise ValueError(f"{p}: not a readable {fmt.upper()} file ({type(e).__name__}: {e})") from None
    if tdb.size != HOURS_PER_YEAR:
        raise ValueError(f"{p}: expected {HOURS_PER_YEAR} hourly rows, found {tdb.size}")
    for column, values in (("dry_bulb_c", tdb), ("relative_humidity_pct", rh_pct), ("pressure_pa", pressure)):
        low, high = WEATHER_RANGES[column]
        bad = np.flatnonzero(~((values >= low) & (values <= high)))  # NaN fails both
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"{p}: hour {i}: {column} = {values[i]:g} is outside {low:g} … {high:g}; "
                f"{bad.size} of its {values.size} hours are"
            )
    twb = psychrometrics.wet_bulb_c(tdb, rh_pct / 100.0, pressure)
    source = f"{fmt.upper()} file {p.name} read with pvlib {pvlib.__version__}"
    return Weather(name, source, tdb, twb, rh_pct / 100.0)


@lru_cache(maxsize=16)
def read_tmy_file(path: str, fmt: str) -> tuple[Any, dict[str, Any]]:
    """pvlib's reading of a TMY3 (its variables mapped to pvlib's names) or TMY2 file: (the hourly
    data frame, the station's metadata), parsed once for the weather and the PV that share the file.
    Callers read the frame and do not modify it."""
    if fmt == "tmy3":
        return pvlib.iotools.read_tmy3(path, map_variables=True)
    if fmt == "tmy2":
        return pvlib.iotools.read_tmy2(path)
    raise ValueError(f"weather format must be 'tmy3' or 'tmy2', got {fmt!r}")


def _read_tmy(p: Path, fmt: str) -> tuple[str, FloatArray, FloatArray, FloatArray]:
    """Station name, dry bulb [°C], relative humidity [%] and pressure [Pa] of a TMY file."""
    data, meta = read_tmy_file(str(p), fmt)
    if fmt == "tmy3":
        tdb = data["temp_air"].to_numpy(dtype=np.float64)
        rh = data["relative_humidity"].to_numpy(dtype=np.float64)
        pressure = data["pressure"].to_numpy(dtype=np.float64) * 100.0  # mbar → Pa
        return str(meta.get("Name", p.stem)).strip('"'), tdb, rh, pressure
    tdb = data["DryBulb"].to_numpy(dtype=np.float64) / 10.0  # TMY2 stores tenths of °C
    rh = data["RHum"].to_numpy(dtype=np.float64)
    pressure = data["Pressure"].to_numpy(dtype=np.float64) * 100.0  # mbar → Pa
    return str(meta.get("City", p.stem)), tdb, rh, pressure


def load_climate(name: str) -> Weather:
    """One of :data:`BUNDLED_CLIMATES` by name."""
    try:
        filename, fmt = BUNDLED_CLIMATES[name]
    except KeyError:
        raise KeyError(f"unknown climate {name!r}; bundled: {', '.join(BUNDLED_CLIMATES)}") from None
    return load_tmy(str(pvlib_data_dir() / filename), fmt)
