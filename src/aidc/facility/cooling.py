"""Cooling plants by the scenario's ``cooling.type``: air (CRAH + chiller + tower + waterside
economizer, :mod:`aidc.facility.cooling_air`), direct-to-chip liquid and single-phase immersion
(:mod:`aidc.facility.cooling_liquid`).

The equipment physics lives in :mod:`aidc.facility.chillers` and :mod:`aidc.facility.equipment`,
the thermal masses in :mod:`aidc.facility.thermal_mass`; a plant sizes its equipment from the
hall's design heat load, holds setpoints and routes one time step through those functions. Plant
fields carry the scenario's names and units (the composition root, :mod:`aidc.sim.build`, passes
a cooling config's fields straight through).
"""

from __future__ import annotations

from aidc.facility.cooling_air import AirPlant
from aidc.facility.cooling_liquid import ImmersionPlant, LiquidPlant
from aidc.facility.plant import ALL_RUNNING, Availability, PlantOutputs, apply_setpoints

__all__ = [
    "ALL_RUNNING",
    "PLANTS",
    "AirPlant",
    "Availability",
    "CoolingPlant",
    "ImmersionPlant",
    "LiquidPlant",
    "PlantOutputs",
    "apply_setpoints",
]

CoolingPlant = AirPlant | LiquidPlant | ImmersionPlant

PLANTS: dict[str, type[CoolingPlant]] = {"air": AirPlant, "liquid": LiquidPlant, "immersion": ImmersionPlant}
"""Cooling plants by the scenario's ``cooling.type``."""
