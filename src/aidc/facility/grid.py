"""Grid signals at the meter: hourly carbon intensity (and price) over a year, and time-of-use tariffs.

**Time base.** Hour ``h`` of the year is the hour that starts ``h`` hours after 1 January 00:00
*local standard time* (no daylight saving), the convention of the TMY files aidc's weather and PV
read, so the grid, the weather and the sun share one clock. A year has 8760 hours; runs longer than
a year wrap to hour 0, as :mod:`aidc.facility.weather` does. Balancing-authority data such as
EIA-930 are stamped in UTC at the *end* of the hour: move them to local standard time (e.g. EST =
UTC − 5 h for Duke Energy Carolinas) before they become a :class:`GridSignals`;
:func:`read_grid_csv` does this for a ``timestamp`` column with an offset, given ``utc_offset_h``.

**Hourly means, held.** Each hourly value is that hour's mean (EIA-930 reports hourly integrated
MWh), so the signal is a step function: :meth:`GridSignals.at` reads the step, and
:meth:`GridSignals.mean` returns the exact mean over ``[t, t + dt)`` from the running integral, so a
year of steps of any length adds up to the series' own total (as ``PVPlant.step`` does for PV). The
mean is over time; weighting by the site's own load is the caller's (Σ power × intensity × dt).

**Carbon intensity from generation.** :func:`production_intensity_g_per_kwh` is the generation-
weighted mean of per-fuel emission factors (the "production-based" intensity of de Chalendar et
al., PNAS 116 25497, 2019: imports are not traced). Factor sets are data in :data:`EMISSION_FACTORS`.

**Tariffs.** :class:`TouTariff` holds a time-of-use schedule the way OpenEI's U.S. Utility Rate
Database stores one (a 12 × 24 period table for weekdays and one for weekends, an energy price per
period, a demand charge on the month's peak 15-minute demand). aidc bundles no tariff: the numbers
must come from the tariff sheet in force for the site, cited by the caller.
"""

from __future__ import annotations

import calendar
import csv
import gzip
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aidc.units import HOURS_PER_YEAR

FloatArray = NDArray[np.float64]

DATA_DIR = Path(__file__).parent / "data" / "grid"

LIFECYCLE_G_PER_KWH_IPCC_AR5: dict[str, float] = {
    "coal": 820.0,  # pulverised coal
    "nat_gas": 490.0,  # combined cycle
    "biomass": 230.0,  # dedicated
    "geothermal": 38.0,
    "hydro": 24.0,
    "nuclear": 12.0,
    "solar": 48.0,  # utility-scale PV
    "wind": 11.0,  # onshore
}
"""Life-cycle emissions, median [gCO2e/kWh]: IPCC AR5 WG3 Annex III, Table A.III.2 (Schlömer et al.,
2014, "Technology-specific cost and performance parameters", in Climate Change 2014: Mitigation).
The table has no value for oil or for EIA-930's "other", so neither is here: a series with those fuels
needs a factor from the caller."""

EMISSION_FACTORS: dict[str, dict[str, float]] = {"ipcc_ar5_lifecycle": LIFECYCLE_G_PER_KWH_IPCC_AR5}
"""Emission-factor sets by name → fuel → [gCO2e/kWh]."""

BUNDLED_GRID_SIGNALS: dict[str, str] = {"ercot-2022": "ercot-2022.csv.gz"}
"""Grid-signal name → CSV file (``read_grid_csv`` format) in ``facility/data/grid``, with its source
and processing in that folder's README: ``ercot-2022``, ERCOT's hourly production-based carbon
intensity of 2022 from EIA-930 generation by fuel (public domain) and IPCC AR5 life-cycle factors,
local standard time (CST)."""


def production_intensity_g_per_kwh(
    generation_mw: Mapping[str, ArrayLike], factors_g_per_kwh: Mapping[str, float]
) -> FloatArray:
    """Production-based carbon intensity of each hour [gCO2/kWh]: Σ gen_f · EF_f / Σ gen_f.

    Parameters
    ----------
    generation_mw : fuel → hourly net generation [MW] (= MWh in an hour), equal lengths
    factors_g_per_kwh : fuel → emission factor [gCO2/kWh], e.g. ``EMISSION_FACTORS["ipcc_ar5_lifecycle"]``

    Notes
    -----
    Negative net generation (pumped storage pumping, a plant's own use while idle) is load, not
    production, and counts as zero. ``ValueError`` names a fuel without a factor, and the first hour
    in which nothing is produced.
    """
    missing = sorted(set(generation_mw) - set(factors_g_per_kwh))
    if missing:
        raise ValueError(f"no emission factor for fuel(s) {', '.join(missing)}")
    gen = {f: np.clip(np.asarray(v, dtype=np.float64), 0.0, None) for f, v in generation_mw.items()}
    total_mw = sum(gen.values(), start=np.float64(0.0))
    weighted = sum((g * factors_g_per_kwh[f] for f, g in gen.items()), start=np.float64(0.0))
    empty = np.flatnonzero(~(np.asarray(total_mw) > 0.0))
    if empty.size:
        raise ValueError(f"hour {int(empty[0])}: no generation to weight ({empty.size} such hours)")
    return np.asarray(weighted / total_mw, dtype=np.float64)


def _step_integral(values: FloatArray, cum: FloatArray, hour: float) -> float:
    """∫₀^hour of the hourly step function, wrapping each year [value·h]."""
    years, rem = divmod(hour, values.size)
    i = min(math.floor(rem), values.size - 1)
    return years * float(cum[-1]) + float(cum[i]) + (rem - i) * float(values[i])


@dataclass(frozen=True, eq=False)
class GridSignals:
    """Hourly grid signals over one year in local standard time (see the module's time base)."""

    name: str
    source: str
    carbon_g_per_kwh: FloatArray  # (8760,) each hour's mean [gCO2/kWh]
    price_usd_per_mwh: FloatArray | None = None  # (8760,) each hour's mean [$/MWh], if known

    def __post_init__(self) -> None:
        for name in ("carbon_g_per_kwh", "price_usd_per_mwh"):
            values = getattr(self, name)
            if values is None:
                continue
            values = np.asarray(values, dtype=np.float64)
            object.__setattr__(self, name, values)
            if values.shape != (HOURS_PER_YEAR,):
                raise ValueError(f"GridSignals.{name}: shape {values.shape}, expected ({HOURS_PER_YEAR},)")
            bad = np.flatnonzero(~np.isfinite(values))
            if bad.size:
                raise ValueError(f"GridSignals.{name}: hour {int(bad[0])} is {values[bad[0]]}")
        if (self.carbon_g_per_kwh < 0.0).any():
            hour = int(np.flatnonzero(self.carbon_g_per_kwh < 0.0)[0])
            raise ValueError(f"GridSignals.carbon_g_per_kwh: hour {hour} is negative")

    @cached_property
    def _cumulative(self) -> dict[str, FloatArray]:
        out = {"carbon": np.concatenate(([0.0], np.cumsum(self.carbon_g_per_kwh)))}
        if self.price_usd_per_mwh is not None:
            out["price"] = np.concatenate(([0.0], np.cumsum(self.price_usd_per_mwh)))
        return out

    def at(self, hour_of_year: float) -> tuple[float, float | None]:
        """The hour's carbon intensity [gCO2/kWh] and price [$/MWh] (None without one), held."""
        i = math.floor(hour_of_year % HOURS_PER_YEAR)
        price = None if self.price_usd_per_mwh is None else float(self.price_usd_per_mwh[i])
        return float(self.carbon_g_per_kwh[i]), price

    def mean(self, hour_of_year: float, duration_h: float) -> tuple[float, float | None]:
        """Exact means over ``[hour_of_year, hour_of_year + duration_h)``: carbon [g/kWh], price [$/MWh]."""
        if not duration_h > 0.0:
            raise ValueError(f"GridSignals.mean: duration_h = {duration_h!r} must be positive")
        end = hour_of_year + duration_h
        cum = self._cumulative
        carbon = _step_integral(self.carbon_g_per_kwh, cum["carbon"], end) - _step_integral(
            self.carbon_g_per_kwh, cum["carbon"], hour_of_year
        )
        price = None
        if self.price_usd_per_mwh is not None:
            p, c = self.price_usd_per_mwh, cum["price"]
            price = (_step_integral(p, c, end) - _step_integral(p, c, hour_of_year)) / duration_h
        return carbon / duration_h, price

    def config(self) -> dict[str, object]:
        out: dict[str, object] = {
            "name": self.name,
            "source": self.source,
            "carbon_mean_g_per_kwh": round(float(self.carbon_g_per_kwh.mean()), 1),
            "carbon_min_g_per_kwh": round(float(self.carbon_g_per_kwh.min()), 1),
            "carbon_max_g_per_kwh": round(float(self.carbon_g_per_kwh.max()), 1),
        }
        if self.price_usd_per_mwh is not None:
            out["price_mean_usd_per_mwh"] = round(float(self.price_usd_per_mwh.mean()), 2)
        return out


def load_grid_signals(name: str) -> GridSignals:
    """One of :data:`BUNDLED_GRID_SIGNALS` by name."""
    try:
        filename = BUNDLED_GRID_SIGNALS[name]
    except KeyError:
        bundled = ", ".join(BUNDLED_GRID_SIGNALS) or "none"
        raise KeyError(f"unknown grid signals {name!r}; bundled: {bundled}") from None
    signals = read_grid_csv(DATA_DIR / filename)
    return GridSignals(name, signals.source, signals.carbon_g_per_kwh, signals.price_usd_per_mwh)


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number in the file, row) of a CSV file, gzip-compressed if its name ends in ``.gz``."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames is None:
            raise ValueError(f"{path}: empty file, expected a header row")
        for row in reader:
            yield reader.line_num, row


def _number(path: Path, line: int, column: str, raw: str | None, allow_negative: bool) -> float:
    try:
        value = float(raw if raw is not None else "")
    except ValueError:
        raise ValueError(f"{path}: row {line}: {column} = {raw!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{path}: row {line}: {column} = {raw!r} must be finite")
    if value < 0.0 and not allow_negative:
        raise ValueError(f"{path}: row {line}: {column} = {raw!r} must be ≥ 0")
    return value


def _hour_of_year(
    path: Path, line: int, row: dict[str, str], utc_offset_h: float | None, years: set[int]
) -> float:
    """The row's hour of the year in local standard time, from ``hour_of_year`` or ``timestamp``
    (-1 for a leap day's hour); a timestamp's local year goes into ``years``."""
    if "hour_of_year" in row:
        return _number(path, line, "hour_of_year", row["hour_of_year"], allow_negative=False)
    raw = row.get("timestamp") or ""
    try:
        stamp = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{path}: row {line}: timestamp = {raw!r} is not ISO 8601") from None
    if stamp.tzinfo is not None:
        if utc_offset_h is None:
            raise ValueError(
                f"{path}: row {line}: timestamp = {raw!r} carries a UTC offset; "
                "give utc_offset_h (the site's standard time, e.g. -5 for EST)"
            )
        stamp = (stamp - stamp.utcoffset()).replace(tzinfo=None) + timedelta(hours=utc_offset_h)
    hours = (stamp - datetime(stamp.year, 1, 1)).total_seconds() / 3600.0
    if calendar.isleap(stamp.year) and stamp >= datetime(stamp.year, 2, 29):  # 29 February is dropped
        hours = -1.0 if stamp < datetime(stamp.year, 3, 1) else hours - 24.0
    years.add(stamp.year)
    return hours


def read_grid_csv(path: str | Path, *, utc_offset_h: float | None = None) -> GridSignals:
    """A year of hourly grid signals from a CSV file (``.csv`` or ``.csv.gz``).

    Columns: ``hour_of_year`` (0 … 8759, local standard time) or ``timestamp`` (ISO 8601, the hour's
    start; naive = local standard time, with an offset = converted with ``utc_offset_h``);
    ``carbon_g_per_kwh`` (≥ 0); optionally ``price_usd_per_mwh`` (finite; wholesale prices may be
    negative). Each row is its hour's mean. The rows must cover the year's 8760 hours once each (a
    leap year's 29 February is dropped). ``ValueError`` names the file, row, column, value and the
    rule it breaks.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"grid signals file not found: {p}")
    carbon = np.full(HOURS_PER_YEAR, np.nan)
    price = np.full(HOURS_PER_YEAR, np.nan)
    has_price = False
    years: set[int] = set()
    for line, row in _rows(p):
        if "carbon_g_per_kwh" not in row:
            raise ValueError(f"{p}: no carbon_g_per_kwh column (columns: {', '.join(row)})")
        if "hour_of_year" not in row and "timestamp" not in row:
            raise ValueError(f"{p}: needs an hour_of_year or a timestamp column")
        hour = _hour_of_year(p, line, row, utc_offset_h, years)
        if len(years) > 1:
            raise ValueError(
                f"{p}: row {line}: local standard time reaches into year {max(years)} after {min(years)}; "
                "the rows must be one calendar year in local standard time"
            )
        if hour == -1.0:
            continue
        if hour != int(hour) or not 0 <= hour < HOURS_PER_YEAR:
            raise ValueError(f"{p}: row {line}: hour {hour:g} is not a whole hour in 0 … 8759")
        i = int(hour)
        if not np.isnan(carbon[i]):
            raise ValueError(f"{p}: row {line}: hour {i} appears twice")
        carbon[i] = _number(p, line, "carbon_g_per_kwh", row["carbon_g_per_kwh"], allow_negative=False)
        if row.get("price_usd_per_mwh") not in (None, ""):
            has_price = True
            price[i] = _number(p, line, "price_usd_per_mwh", row["price_usd_per_mwh"], allow_negative=True)
    missing = np.flatnonzero(np.isnan(carbon))
    if missing.size:
        share = f"{missing.size} of {HOURS_PER_YEAR} hours are"
        raise ValueError(f"{p}: hour {int(missing[0])} is missing ({share})")
    if has_price and np.isnan(price).any():
        raise ValueError(f"{p}: price_usd_per_mwh is empty in hour {int(np.flatnonzero(np.isnan(price))[0])}")
    return GridSignals(p.stem, f"CSV file {p.name}", carbon, price if has_price else None)


_DAYS_BEFORE_MONTH = np.cumsum([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30])  # a 365-day year
_MONTH_OF_DAY = np.searchsorted(_DAYS_BEFORE_MONTH, np.arange(365), side="right") - 1  # 0 = January


@dataclass(frozen=True, eq=False)
class TouTariff:
    """A time-of-use tariff: energy priced by period, a demand charge on the month's 15-min peak.

    ``weekday_periods`` and ``weekend_periods`` are 12 × 24 tables (month January…December × hour of
    day 0…23, local standard time) of period indices into ``energy_usd_per_kwh``, as OpenEI's U.S.
    Utility Rate Database stores ``energyweekdayschedule``. The billing demand is the highest
    15-minute mean power of the month in ``demand_periods`` (all hours if empty), charged at
    ``demand_usd_per_kw_month``. Holidays are not modelled (they bill as weekdays).
    """

    name: str
    source: str  # the tariff sheet and its effective date
    weekday_periods: NDArray[np.int64]  # (12, 24)
    weekend_periods: NDArray[np.int64]  # (12, 24)
    energy_usd_per_kwh: tuple[float, ...]  # by period
    demand_usd_per_kw_month: float
    demand_periods: tuple[int, ...] = ()
    first_weekday: int = 0  # weekday of 1 January (0 = Monday … 6 = Sunday)

    def __post_init__(self) -> None:
        for name in ("weekday_periods", "weekend_periods"):
            table = np.asarray(getattr(self, name), dtype=np.int64)
            object.__setattr__(self, name, table)
            if table.shape != (12, 24):
                raise ValueError(f"TouTariff.{name}: shape {table.shape}, expected (12, 24)")
            if table.min() < 0 or table.max() >= len(self.energy_usd_per_kwh):
                raise ValueError(
                    f"TouTariff.{name}: periods must index energy_usd_per_kwh (0 … "
                    f"{len(self.energy_usd_per_kwh) - 1})"
                )
        if any(not (math.isfinite(c) and c >= 0.0) for c in self.energy_usd_per_kwh):
            raise ValueError(f"TouTariff.energy_usd_per_kwh: {self.energy_usd_per_kwh} must be finite, ≥ 0")
        demand = self.demand_usd_per_kw_month
        if not (math.isfinite(demand) and demand >= 0.0):
            raise ValueError(f"TouTariff.demand_usd_per_kw_month: {demand!r} must be finite and ≥ 0")
        if not 0 <= self.first_weekday <= 6:
            raise ValueError(f"TouTariff.first_weekday: {self.first_weekday!r} must be 0 (Monday) … 6")

    def periods(self, hours_of_year: ArrayLike) -> NDArray[np.int64]:
        """The period index in force at each hour of the year (local standard time, wrapping)."""
        h = np.asarray(hours_of_year, dtype=np.float64) % HOURS_PER_YEAR
        day = np.minimum((h // 24).astype(np.int64), 364)
        month, hour = _MONTH_OF_DAY[day], (h % 24).astype(np.int64)
        weekend = (self.first_weekday + day) % 7 >= 5
        return np.where(weekend, self.weekend_periods[month, hour], self.weekday_periods[month, hour])

    def period(self, hour_of_year: float) -> int:
        """The period index in force at ``hour_of_year``."""
        return int(self.periods([hour_of_year])[0])

    def energy_price_usd_per_kwh(self, hour_of_year: float) -> float:
        """Energy price at ``hour_of_year`` [$/kWh]."""
        return float(self.energy_usd_per_kwh[self.period(hour_of_year)])

    def cost_usd(self, power_kw: ArrayLike, dt_h: float, start_hour_of_year: float = 0.0) -> TariffBill:
        """Energy and demand charges of a load profile: ``power_kw[i]`` is the mean over step i [kW].

        Steps of ``dt_h`` must tile the hour and the 15-minute demand interval: 0.25 h, 0.5 h and 1 h
        steps, or steps that divide 15 minutes. A step longer than 15 minutes counts as its own
        15-minute means (the power is held). Each calendar month is billed once, whatever part of it
        the profile covers; a profile longer than a year bills each month of each year.
        """
        p = np.asarray(power_kw, dtype=np.float64)
        per_interval = 0.25 / dt_h
        divides = per_interval > 1 and abs(per_interval - round(per_interval)) < 1e-9
        if not (dt_h in (0.25, 0.5, 1.0) or divides):
            raise ValueError(f"TouTariff.cost_usd: dt_h = {dt_h!r} h must be 0.25, 0.5, 1 or divide 0.25 h")
        hours = start_hour_of_year + dt_h * np.arange(p.size)
        price = np.asarray(self.energy_usd_per_kwh, dtype=np.float64)[self.periods(hours)]
        energy_usd = float(np.sum(p * dt_h * price))
        n = max(round(per_interval), 1)  # steps per 15-minute interval
        if p.size % n:
            raise ValueError(f"TouTariff.cost_usd: {p.size} steps do not fill whole 15-minute intervals")
        interval_kw = p.reshape(-1, n).mean(axis=1)
        interval_h = hours[::n]
        counted = (
            np.isin(self.periods(interval_h), self.demand_periods)
            if self.demand_periods
            else (np.ones(interval_h.size, dtype=bool))
        )
        day = (interval_h // 24).astype(np.int64)
        bill_month = (day // 365) * 12 + _MONTH_OF_DAY[day % 365]
        peaks: dict[int, float] = {}
        for month, kw, ok in zip(bill_month.tolist(), interval_kw.tolist(), counted.tolist(), strict=True):
            if ok:
                peaks[month] = max(peaks.get(month, 0.0), kw)
        demand_usd = self.demand_usd_per_kw_month * sum(peaks.values())
        return TariffBill(energy_usd, demand_usd, {m: peaks[m] for m in sorted(peaks)})


@dataclass(frozen=True)
class TariffBill:
    energy_usd: float
    demand_usd: float
    billing_demand_kw: dict[int, float]  # billing month (0 = first January) → its peak 15-min demand

    @property
    def total_usd(self) -> float:
        return self.energy_usd + self.demand_usd
