"""The climates aidc bundles: pvlib's own typical-year files, by name (data only, so the schema can
check a name without importing pvlib).

======================  ==============================  ======  ==============================
name                    station                         format  climate
======================  ==============================  ======  ==============================
``greensboro-nc``       Greensboro Piedmont Triad Intl  TMY3    humid subtropical (Köppen Cfa)
``sand-point-ak``       Sand Point, Alaska              TMY3    subpolar oceanic (Cfc)
``miami-fl``            Miami Intl                      TMY2    tropical monsoon (Am)
======================  ==============================  ======  ==============================
"""

from __future__ import annotations

BUNDLED_CLIMATES: dict[str, tuple[str, str]] = {
    "greensboro-nc": ("723170TYA.CSV", "tmy3"),
    "sand-point-ak": ("703165TY.csv", "tmy3"),
    "miami-fl": ("12839.tm2", "tmy2"),
}
"""Climate name → (file in pvlib's data folder, format)."""
