"""On-site photovoltaics from the same typical-year file the cooling plant sees.

PVWatts' DC and inverter models (Dobos 2014) behind the front end of PVWatts v8 (NREL SSC
``cmod_pvwattsv8``, in SAM and the PVWatts calculator), a pvlib function a step: SPA sun position
mid-interval; Perez sky diffuse; v8's row-to-row shading; De Soto's anti-reflective cover and
air-mass modifier; SAM's NOCT cell temperature; ``pvwatts_dc`` less PVWatts' losses; PVWatts'
inverter curve. Rows are endless, which suits plants of a few hundred kW and up.

References: Dobos, PVWatts Version 5 Manual, NREL/TP-6A20-62641, 2014; NREL SSC ``cmod_pvwattsv8.cpp``,
``lib_pvshade.cpp`` (PySAM 7.1); De Soto, Klein & Beckman, Solar Energy 80 78-88, 2006; Deline et al.,
Solar Energy 96 274-282, 2013; Duffie & Beckman, Solar Engineering of Thermal Processes, 4th ed., 2013.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pvlib
from numpy.typing import NDArray

from aidc.facility.climates import BUNDLED_CLIMATES
from aidc.facility.weather import pvlib_data_dir, read_tmy_file

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

MODULE_TYPES: dict[str, dict[str, float]] = {
    "standard": {"gamma_pdc_per_c": -0.0037, "efficiency_frac": 0.19},
    "premium": {"gamma_pdc_per_c": -0.0035, "efficiency_frac": 0.21},
    "thin_film": {"gamma_pdc_per_c": -0.0032, "efficiency_frac": 0.18},
}
"""PVWatts v8 modules: power temperature coefficient [1/°C], STC efficiency (``cmod_pvwattsv8.cpp``)."""

ARRAY_TYPES: dict[str, dict[str, float | bool]] = {
    "fixed_open_rack": {"noct_c": 45.0, "rows": True, "tracking": False},
    "fixed_roof_mount": {"noct_c": 49.0, "rows": False, "tracking": False},
    "one_axis_backtracking": {"noct_c": 45.0, "rows": True, "tracking": True},
}
"""PVWatts v8 mountings: NOCT [°C], rows shading rows, a one-axis tracker (``cmod_pvwattsv8.cpp``)."""

PVWATTS_LOSSES_PCT = float(pvlib.pvsystem.pvwatts_losses())
"""PVWatts' default losses, 14.08 % [%]: soiling 2, shading 3, mismatch 2, wiring 2, connections 0.5,
light-induced degradation 1.5, nameplate 1, availability 3, compounded (Dobos 2014; pvlib's defaults)."""
INVERTER_REFERENCE_EFFICIENCY_FRAC = 0.9637
"""Nominal efficiency of the reference inverter PVWatts' part-load curve is fitted to [0-1] (Dobos 2014)."""
GLASS_INDEX, GLASS_EXTINCTION_PER_M, GLASS_THICKNESS_M = 1.526, 4.0, 0.002
"""Cover glass: refractive index, extinction coefficient [1/m], thickness [m] (De Soto 2006)."""
AR_COATING_INDEX = 1.3
"""Refractive index of the anti-reflective coating of every v8 module type (``cmod_pvwattsv8.cpp``)."""
DESOTO_AIRMASS_COEFFS = {"A0": 0.918093, "A1": 0.086257, "A2": -0.024459, "A3": 0.002816, "A4": -0.000126}
"""Air-mass modifier for polycrystalline silicon (De Soto 2006), v8's for every module type."""
SPECTRAL_ZENITH_LIMIT_DEG = 86.0
"""Zenith past which the air-mass polynomial is held, as in SAM's CEC module model [°]."""
DEFAULT_ALBEDO_FRAC = 0.2
"""Ground albedo where the weather file has none in (0, 1) [0-1] (PVWatts v8)."""
TRACKER_MAX_ROTATION_DEG = 45.0
"""Rotation limit of a one-axis tracker [°] (PVWatts v8 ``rotlim`` default)."""
SUNRISE_ELEVATION_DEG = -0.8333
"""Apparent elevation of the sun's centre at sunrise and sunset [°] (Reda & Andreas 2004, A.2)."""
ROW_SLANT_POINTS = 50
"""Points up a row's slant over which its sky masking is averaged (midpoint rule)."""

PVSPEC_RANGES: dict[str, tuple[float, float, str]] = {
    "dc_capacity_kw": (0.05, 500_000.0, "kW"),
    "tilt_deg": (0.0, 90.0, "°"),
    "azimuth_deg": (0.0, math.nextafter(360.0, 0.0), "° clockwise from north"),
    "losses_pct": (-5.0, 99.0, "%"),
    "dc_ac_ratio": (math.nextafter(0.0, 1.0), math.inf, "ratio"),
    "inverter_efficiency_frac": (0.90, 0.995, "fraction"),
    "gcr_frac": (0.01, 0.99, "fraction"),
}
"""Input ranges of the PVWatts v8 API and ``cmod_pvwattsv8`` (azimuth below 360, DC/AC ratio positive)."""


@dataclass(frozen=True)
class PVSpec:
    """A PVWatts system. A tracker's tilt and azimuth are those of its axis."""

    dc_capacity_kw: float  # nameplate at STC (1000 W/m², 25 °C cell)
    tilt_deg: float = 20.0  # from horizontal (PVWatts default)
    azimuth_deg: float = 180.0  # clockwise from north: 180 faces south
    array_type: str = "fixed_open_rack"  # a key of ARRAY_TYPES
    module_type: str = "standard"  # a key of MODULE_TYPES
    losses_pct: float = PVWATTS_LOSSES_PCT  # DC system losses (Dobos 2014)
    dc_ac_ratio: float = 1.2  # DC nameplate over inverter AC rating (PVWatts v8 API default)
    inverter_efficiency_frac: float = 0.96  # nominal, at rated power (Dobos 2014)
    gcr_frac: float = 0.4  # ground coverage ratio: row slant over pitch (PVWatts v8 API default)

    def __post_init__(self) -> None:
        for key, table in (("array_type", ARRAY_TYPES), ("module_type", MODULE_TYPES)):
            if getattr(self, key) not in table:
                raise ValueError(f"PVSpec.{key} = {getattr(self, key)!r} is not one of {', '.join(table)}")
        for name, (low, high, unit) in PVSPEC_RANGES.items():
            value = getattr(self, name)
            if not (isinstance(value, int | float) and low <= value <= high):
                raise ValueError(f"PVSpec.{name} = {value!r} {unit} is outside PVWatts' {low:g} … {high:g}")

    @property
    def ac_rating_w(self) -> float:
        """Inverter AC rating [W]."""
        return self.dc_capacity_kw * 1000.0 / self.dc_ac_ratio

    @property
    def gamma_pdc_per_c(self) -> float:
        """Power temperature coefficient of the module type [1/°C]."""
        return MODULE_TYPES[self.module_type]["gamma_pdc_per_c"]


@dataclass(frozen=True)
class SolarResource:
    """A site and its weather, one value per averaging interval (each value the interval's mean)."""

    name: str
    source: str
    latitude_deg: float
    longitude_deg: float
    elevation_m: float
    interval_start: pd.DatetimeIndex  # local standard time
    interval_s: float
    dni_w_m2: FloatArray  # direct normal
    dhi_w_m2: FloatArray  # diffuse horizontal
    temp_air_c: FloatArray
    wind_speed_m_s: FloatArray  # at 10 m
    pressure_pa: FloatArray
    albedo_frac: FloatArray  # NaN where the file has none


@lru_cache(maxsize=16)
def read_tmy_solar(path: str, fmt: str) -> SolarResource:
    """The hourly solar resource of a TMY3 (``fmt="tmy3"``) or TMY2 (``"tmy2"``) file. Both label an
    hour by its end; pvlib keeps the TMY3 label and moves TMY2's to the start: TMY3 moves back an hour.
    """
    data, meta = read_tmy_file(path, fmt)  # the same parse the weather uses
    if fmt == "tmy3":
        start = data.index - pd.Timedelta(hours=1)
        columns = ("dni", "dhi", "temp_air", "wind_speed", "pressure", "albedo")
        dni, dhi, tdb, wind, p_mbar, alb = (data[c].to_numpy(np.float64) for c in columns)
        name = str(meta["Name"]).strip('"')
    else:
        start, name, alb = data.index, str(meta["City"]), np.full(len(data), np.nan)
        scale = {"DNI": 1.0, "DHI": 1.0, "DryBulb": 10.0, "Wspd": 10.0, "Pressure": 1.0}  # tenths of °C, m/s
        dni, dhi, tdb, wind, p_mbar = (data[c].to_numpy(np.float64) / k for c, k in scale.items())
    site = (float(meta["latitude"]), float(meta["longitude"]), float(meta["altitude"]))
    source = f"{fmt.upper()} file {Path(path).name} read with pvlib {pvlib.__version__}"
    alb = np.where((alb > 0.0) & (alb < 1.0), alb, np.nan)
    return SolarResource(name, source, *site, start, 3600.0, dni, dhi, tdb, wind, p_mbar * 100.0, alb)


def load_solar_climate(name: str) -> SolarResource:
    """The solar resource of a bundled climate: the same file ``weather.load_climate`` reads."""
    filename, fmt = BUNDLED_CLIMATES[name]
    return read_tmy_solar(str(pvlib_data_dir() / filename), fmt)


def sun_position_interval_spa(res: SolarResource) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Apparent zenith [°], azimuth [°] and a sun-up flag for each averaging interval.

    NREL SPA (Reda & Andreas 2004) with the file's pressure and temperature for refraction, at the
    interval's middle, or, if it holds sunrise (sunset), at the middle of its sunlit part, as v8
    does for hour-averaged files: the hour's light is not lost to a sun below the horizon.
    """
    start = res.interval_start.as_unit("ns")
    mid, end = (start + pd.Timedelta(seconds=k * res.interval_s / 2.0) for k in (1, 2))
    rise_set = pvlib.solarposition.sun_rise_set_transit_spa(mid, res.latitude_deg, res.longitude_deg)
    t0, t1 = start.asi8, end.asi8  # ns since the epoch
    rise = pd.DatetimeIndex(rise_set["sunrise"]).as_unit("ns").asi8  # NaT, the least int64: never inside
    sets = pd.DatetimeIndex(rise_set["sunset"]).as_unit("ns").asi8
    rises_in, sets_in = (rise >= t0) & (rise < t1), (sets > t0) & (sets <= t1)
    a, b = np.where(rises_in, rise, t0), np.where(sets_in, sets, t1)
    effective = pd.to_datetime(a + (b - a) // 2, unit="ns", utc=True).tz_convert(start.tz)
    kw = {"altitude": res.elevation_m, "pressure": res.pressure_pa, "temperature": res.temp_air_c}
    sp = pvlib.solarposition.get_solarposition(effective, res.latitude_deg, res.longitude_deg, **kw)
    sun_up = rises_in | sets_in | (sp["apparent_elevation"].to_numpy() > SUNRISE_ELEVATION_DEG)
    return sp["apparent_zenith"].to_numpy(), sp["azimuth"].to_numpy(), sun_up


def row_sky_diffuse_factor_deline(surface_tilt_deg: FloatArray, gcr_frac: float) -> FloatArray:
    """Share of the sky diffuse a row sees past the row in front of it [0-1].

    The isotropic view factor (1 + cos(β + ψ))/2 averaged up the slant, ψ the masking angle to the
    top of the row in front (Passias & Källbäck 1984; ``pvlib.shading.masking_angle``), over the
    unmasked (1 + cos β)/2: v8's sky derate (Deline et al. 2013).
    """
    tilt = np.asarray(surface_tilt_deg, dtype=np.float64)[..., None]
    x = (np.arange(ROW_SLANT_POINTS) + 0.5) / ROW_SLANT_POINTS  # fraction up the slant
    psi = pvlib.shading.masking_angle(tilt, gcr_frac, x)
    seen = (1.0 + np.cos(np.radians(tilt + psi))) / (1.0 + np.cos(np.radians(tilt)))
    return np.minimum(seen.mean(axis=-1), 1.0)


def row_ground_factor_crossed_strings(
    surface_tilt_deg: FloatArray, sun_elevation_across_deg: FloatArray, gcr_frac: float,
    beam_horizontal_w_m2: FloatArray, dhi_w_m2: FloatArray,
) -> FloatArray:  # fmt: skip
    """Ground reflection a row sees between rows over that of open, evenly lit ground [0-1].

    2-D, row slant 1, pitch 1/gcr. Hottel's crossed strings: the row sees the ground strip of
    length Y at its foot with F(Y) = (1 + Y − √(1 + Y² + 2Y cos β))/2 (→ (1 − cos β)/2 as Y → ∞).
    Beam lights the strip past the shadow of the row in front, sin(α + β)/sin α long at solar
    elevation α across the rows; diffuse lights it all. v8's ground derate (Deline et al. 2013).
    """
    beta = np.radians(surface_tilt_deg)
    alpha = np.radians(np.clip(sun_elevation_across_deg, 0.01, 90.0))
    pitch = 1.0 / gcr_frac
    y = np.stack(np.broadcast_arrays(np.maximum(pitch - np.sin(alpha + beta) / np.sin(alpha), 0.0), pitch))
    view = 0.5 * (1.0 + y - np.sqrt(1.0 + y * y + 2.0 * y * np.cos(beta)))  # lit strip, whole strip
    open_ground = 0.5 * (1.0 - np.cos(beta)) * (beam_horizontal_w_m2 + dhi_w_m2)
    rows = view[0] * beam_horizontal_w_m2 + view[1] * dhi_w_m2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(open_ground > 1e-9, rows / open_ground, 1.0)


def cover_transmittance_desoto(
    aoi_deg: FloatArray, surface_tilt_deg: FloatArray,
    beam_w_m2: FloatArray, sky_w_m2: FloatArray, ground_w_m2: FloatArray,
) -> FloatArray:  # fmt: skip
    """Irradiance through the anti-reflective glass cover, relative to normal incidence [W/m²].

    Fresnel, Snell and Bouguer through coating and glass (``pvlib.iam.physical``; De Soto 2006):
    beam at its angle of incidence, sky and ground diffuse at the effective angles of Brandemuehl &
    Beckman (1980; Duffie & Beckman 2013, §5.4), as v8 does.
    """
    beta = np.asarray(surface_tilt_deg, dtype=np.float64)
    theta_sky = 59.7 - 0.1388 * beta + 0.001497 * beta**2
    theta_ground = 90.0 - 0.5788 * beta + 0.002693 * beta**2
    glass = (GLASS_INDEX, GLASS_EXTINCTION_PER_M, GLASS_THICKNESS_M)
    angles = (aoi_deg, theta_sky, theta_ground)
    k = [pvlib.iam.physical(theta, *glass, n_ar=AR_COATING_INDEX) for theta in angles]
    return beam_w_m2 * k[0] + sky_w_m2 * k[1] + ground_w_m2 * k[2]


def spectral_factor_desoto(apparent_zenith_deg: FloatArray, elevation_m: float) -> FloatArray:
    """Air-mass spectral modifier of the effective irradiance [unitless].

    De Soto 2006: a quartic in absolute air mass (``pvlib.spectrum.spectral_factor_sapm``), the
    Kasten & Young (1989) relative air mass at the site's pressure (King et al. 2004).
    """
    zenith = np.minimum(apparent_zenith_deg, SPECTRAL_ZENITH_LIMIT_DEG)
    am = pvlib.atmosphere.get_relative_airmass(zenith, model="kastenyoung1989")
    am_abs = pvlib.atmosphere.get_absolute_airmass(am, pvlib.atmosphere.alt2pres(elevation_m))
    return np.asarray(pvlib.spectrum.spectral_factor_sapm(am_abs, DESOTO_AIRMASS_COEFFS), dtype=np.float64)


def plane_of_array_perez(
    spec: PVSpec, res: SolarResource, zenith_deg: FloatArray, azimuth_deg: FloatArray, sun_up: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Beam, sky and ground irradiance on the array after row shading [W/m²], angle of incidence
    [°] and surface tilt [°].

    Perez et al. 1990 (pvlib's default ``allsitescomposite1990``), with Spencer's (1971)
    extraterrestrial irradiance and Kasten's (1966) relative air mass, as in v8; global horizontal
    rebuilt from DNI and DHI, as v8 does. Trackers backtrack so no row shades another's beam
    (``pvlib.tracking.singleaxis``); fixed racks lose the beam on the shadow of the row in front
    (``pvlib.shading.shaded_fraction1d``; Appelbaum & Bany 1979 in v8).
    """
    z, az, array = zenith_deg, azimuth_deg, ARRAY_TYPES[spec.array_type]
    gcr, dhi = spec.gcr_frac, res.dhi_w_m2
    if array["tracking"]:
        axis = (spec.tilt_deg, spec.azimuth_deg, TRACKER_MAX_ROTATION_DEG, True, gcr)
        track = pvlib.tracking.singleaxis(z, az, *axis)
        tilt = np.nan_to_num(np.asarray(track["surface_tilt"], dtype=np.float64))
        surface_az = np.nan_to_num(np.asarray(track["surface_azimuth"], dtype=np.float64), nan=180.0)
        row_axis = (spec.tilt_deg, spec.azimuth_deg)
    else:
        tilt, surface_az = np.full_like(z, spec.tilt_deg), np.full_like(z, spec.azimuth_deg)
        row_axis = (0.0, (spec.azimuth_deg - 90.0) % 360.0)
    beam_h = res.dni_w_m2 * np.maximum(np.cos(np.radians(z)), 0.0)
    dni_extra = pvlib.irradiance.get_extra_radiation(res.interval_start.day_of_year.to_numpy())
    airmass = pvlib.atmosphere.get_relative_airmass(z, model="kasten1966")
    albedo = np.where(np.isnan(res.albedo_frac), DEFAULT_ALBEDO_FRAC, res.albedo_frac)
    irr = pvlib.irradiance.get_total_irradiance(
        tilt, surface_az, z, az, res.dni_w_m2, beam_h + dhi, dhi, dni_extra, airmass, albedo, model="perez"
    )
    beam, sky, ground = (
        np.where(sun_up, np.nan_to_num(np.asarray(irr[k], dtype=np.float64)), 0.0)
        for k in ("poa_direct", "poa_sky_diffuse", "poa_ground_diffuse")
    )
    if array["rows"]:
        across = pvlib.shading.projected_solar_zenith_angle(z, az, *row_axis)
        sky = sky * row_sky_diffuse_factor_deline(tilt, gcr)
        ground = ground * row_ground_factor_crossed_strings(tilt, 90.0 - np.abs(across), gcr, beam_h, dhi)
    if array["rows"] and not array["tracking"]:
        shade = pvlib.shading.shaded_fraction1d(z, az, row_axis[1], tilt, collector_width=1, pitch=1 / gcr)
        beam = beam * (1.0 - np.nan_to_num(shade))
    aoi = np.asarray(pvlib.irradiance.aoi(tilt, surface_az, z, az), dtype=np.float64)
    return beam, sky, ground, aoi, tilt


@dataclass(frozen=True)
class PVOutputs:
    """A PV system's interval means."""

    poa_w_m2: FloatArray  # plane of array, after row shading
    effective_irradiance_w_m2: FloatArray  # through the cover, spectrally corrected
    cell_temp_c: FloatArray
    dc_w: FloatArray  # after system losses
    ac_w: FloatArray  # inverter output, never negative


def pvwatts_dc_ac_w(
    spec: PVSpec, effective_w_m2: FloatArray, cell_c: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """DC power after system losses and AC power of a PVWatts system [W].

    DC: P_dc0 · G_eff/1000 · (1 + γ (T_cell − 25 °C)) · (1 − losses) (``pvlib.pvsystem.pvwatts_dc``).
    AC: PVWatts' part-load inverter curve, clipped at the AC rating P_dc0 / (DC/AC ratio) and never
    negative, no draw at night (``pvlib.inverter.pvwatts``; Dobos 2014).
    """
    pdc0_w, gamma = spec.dc_capacity_kw * 1000.0, spec.gamma_pdc_per_c
    dc = pvlib.pvsystem.pvwatts_dc(effective_w_m2, cell_c, pdc0_w, gamma) * (1.0 - spec.losses_pct / 100.0)
    eta = spec.inverter_efficiency_frac
    return dc, pvlib.inverter.pvwatts(dc, spec.ac_rating_w / eta, eta, INVERTER_REFERENCE_EFFICIENCY_FRAC)


def pvwatts_ac_power_w(spec: PVSpec, res: SolarResource) -> PVOutputs:
    """AC power of a PVWatts system over each averaging interval of a solar resource [W].

    Cell temperature: SAM's NOCT model (``pvlib.temperature.noct_sam``: array below one storey, no
    standoff adjustment) given, as SAM gives it, the irradiance through the cover.
    """
    zenith, azimuth, sun_up = sun_position_interval_spa(res)
    beam, sky, ground, aoi, tilt = plane_of_array_perez(spec, res, zenith, azimuth, sun_up)
    through = cover_transmittance_desoto(aoi, tilt, beam, sky, ground)
    effective = np.where(sun_up, through * spectral_factor_desoto(zenith, res.elevation_m), 0.0)
    noct_c = float(ARRAY_TYPES[spec.array_type]["noct_c"])
    efficiency = MODULE_TYPES[spec.module_type]["efficiency_frac"]
    wind = np.maximum(res.wind_speed_m_s, 0.0)
    cell = pvlib.temperature.noct_sam(effective, res.temp_air_c, wind, noct_c, efficiency)
    cell = np.where(effective > 0.0, cell, res.temp_air_c)
    return PVOutputs(beam + sky + ground, effective, cell, *pvwatts_dc_ac_w(spec, effective, cell))


@dataclass(frozen=True)
class PVState:
    t_s: float  # start of the last step
    ac_power_w: float  # mean AC output over the last step
    energy_kwh: float  # AC energy since the run began


class PVPlant:
    """An on-site PV array over a run that begins at ``start_hour_of_year`` of the typical year.

    Each interval's mean AC power sits at the interval's middle, interpolated linearly between
    middles as the year wraps: ``power_w`` reads that line and ``step`` returns its exact mean over
    the step, so a year of steps of any length adds up to the series' energy.
    """

    def __init__(self, spec: PVSpec, resource: SolarResource, start_hour_of_year: float = 0.0) -> None:
        self.spec, self.resource, self.start_hour_of_year = spec, resource, float(start_hour_of_year)
        self._ac_w = pvwatts_ac_power_w(spec, resource).ac_w
        self._dt_h = resource.interval_s / 3600.0
        between = 0.5 * (self._ac_w + np.roll(self._ac_w, -1)) * self._dt_h  # Wh from middle to middle
        self._knot_wh = np.concatenate(([0.0], np.cumsum(between)))
        self._state = PVState(0.0, 0.0, 0.0)

    def _interpolant(self, t_s: float) -> tuple[float, float]:
        """Power [W] at run time t_s, and energy [Wh] from the first interval's middle to it."""
        u = (self.start_hour_of_year + t_s / 3600.0) / self._dt_h - 0.5
        k = math.floor(u)
        (years, i), frac = divmod(k, self._ac_w.size), u - k
        a, b = float(self._ac_w[i]), float(self._ac_w[(i + 1) % self._ac_w.size])
        within = self._dt_h * (a * frac + 0.5 * (b - a) * frac * frac)
        return a + frac * (b - a), years * float(self._knot_wh[-1]) + float(self._knot_wh[i]) + within

    def power_w(self, t_s: float) -> float:
        """AC power at run time t_s [W]."""
        return self._interpolant(t_s)[0]

    def step(self, t_s: float, dt_s: float) -> PVState:
        """Advance over [t_s, t_s + dt_s): the step's mean AC power and the run's energy."""
        if not dt_s > 0.0:
            raise ValueError(f"PVPlant.step: dt_s = {dt_s!r} s must be positive")
        step_wh = self._interpolant(t_s + dt_s)[1] - self._interpolant(t_s)[1]
        self._state = PVState(t_s, step_wh * 3600.0 / dt_s, self._state.energy_kwh + step_wh / 1000.0)
        return self._state

    def state(self) -> PVState:
        return self._state

    def config(self) -> dict[str, object]:
        year_kwh = float(self._ac_w.sum()) * self._dt_h / 1000.0
        return {
            **{f.name: getattr(self.spec, f.name) for f in fields(self.spec)},
            "gamma_pdc_per_c": self.spec.gamma_pdc_per_c,
            "ac_rating_kw": round(self.spec.ac_rating_w / 1000.0, 3),
            "climate": self.resource.name,
            "source": self.resource.source,
            "start_hour_of_year": self.start_hour_of_year,
            "annual_energy_kwh": round(year_kwh, 1),
            "specific_yield_kwh_per_kw": round(year_kwh / self.spec.dc_capacity_kw, 1),
        }
