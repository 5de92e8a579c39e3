"""aidc's units (the suffixes of :mod:`aidc.units`) as QUDT units, for the Brick model."""

from __future__ import annotations

QUDT_UNITS: dict[str, str] = {
    "°C": "DEG_C",
    "K": "K",
    "W": "W",
    "kW": "KiloW",
    "kWh": "KiloW-HR",
    "J": "J",
    "s": "SEC",
    "1/s": "PER-SEC",
    "MHz": "MegaHZ",
    "Pa": "PA",
    "kPa": "KiloPA",
    "kg/s": "KiloGM-PER-SEC",
    "m³/s": "M3-PER-SEC",
    "L/min": "L-PER-MIN",
    "L": "L",
    "m³": "M3",
    "K/W": "K-PER-W",
    "J/K": "J-PER-K",
    "GB": "GigaBYTE",
    "%": "PERCENT",
    "fraction (0-1)": "FRACTION",
}
"""aidc unit text (:func:`aidc.units.unit_of`) → the local name of its QUDT unit
(``http://qudt.org/vocab/unit/``). Units with no QUDT counterpart (PFLOP, tokens, g/kWh, $/MWh)
are left out: their points carry the unit as text only (``aidc:unitText``)."""
