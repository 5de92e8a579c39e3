"""Physical constants, unit conversions and the unit implied by a field-name suffix.

No physics lives here: only numbers every layer shares, each with its source.
"""

from __future__ import annotations

KELVIN_OFFSET = 273.15
"""0 °C in kelvin [K] (SI definition)."""

STANDARD_PRESSURE_PA = 101_325.0
"""Standard atmosphere [Pa] (ISO 2533)."""

CP_WATER_J_KGK = 4_180.0
"""Isobaric specific heat of liquid water near 30 °C [J/(kg·K)] (IAPWS-95: 4178 at 30 °C)."""

RHO_WATER_KG_M3 = 995.6
"""Density of liquid water at 30 °C [kg/m^3] (IAPWS-95)."""

CP_AIR_J_KGK = 1_006.0
"""Isobaric specific heat of dry air near 25 °C [J/(kg·K)] (ASHRAE Handbook Fundamentals 2017, ch. 1)."""

RHO_AIR_KG_M3 = 1.184
"""Density of dry air at 25 °C and 101.325 kPa [kg/m^3] (ideal gas, R = 287.05 J/(kg·K))."""

H_FG_WATER_J_KG = 2.43e6
"""Latent heat of vaporization of water at 30 °C [J/kg] (IAPWS-95: 2430.5 kJ/kg)."""

J_PER_KWH = 3.6e6
"""Joules in a kilowatt-hour."""

HOURS_PER_YEAR = 8760
"""Hours in a non-leap year: the length of a typical-year weather file and of a year of hourly
grid signals (leap days are dropped)."""

# The unit a scenario field carries, read from its name's suffix (DESIGN.md: field names carry units).
# The longest matching suffix wins: "_w_per_kw" before "_kw", "_per_s" before "_s".
_SUFFIX_UNITS: dict[str, str] = {
    "_c": "°C",
    "_k": "K",
    "_w": "W",
    "_kw": "kW",
    "_kwh": "kWh",
    "_deg": "°",
    "_s": "s",
    "_per_s": "1/s",
    "_mhz": "MHz",
    "_pa": "Pa",
    "_kpa": "kPa",
    "_kg_s": "kg/s",
    "_kg_m3": "kg/m³",
    "_j_kgk": "J/(kg·K)",
    "_m3_s": "m³/s",
    "_l_min": "L/min",
    "_l": "L",
    "_m3": "m³",
    "_k_w": "K/W",
    "_j_k": "J/K",
    "_w_per_kw": "W/kW",
    "_gb": "GB",
    "_pflop": "PFLOP",
    "_tokens": "tokens",
    "_frac": "fraction (0-1)",
    "_ratio": "ratio",
    "_pct": "%",
    "_bits": "bits",
}
_QUALIFIER = "_at_"  # "compute_s_at_max_clock": the unit ends the part before the qualifier


def unit_of(field_name: str) -> str:
    """The unit a field's name declares by its suffix, or ``""`` when it declares none.

    A qualifier after ``_at_`` does not hide the unit before it.

    >>> unit_of("supply_temp_c"), unit_of("rate_per_s"), unit_of("compute_s_at_max_clock")
    ('°C', '1/s', 's')
    """
    name = "_" + field_name.split(_QUALIFIER)[0]
    best = ""
    for suffix in _SUFFIX_UNITS:
        if name.endswith(suffix) and len(suffix) > len(best):
            best = suffix
    return _SUFFIX_UNITS.get(best, "")
