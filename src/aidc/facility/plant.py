"""What every cooling plant shares: its outputs for one step, the equipment that is running in
that step, and setting its setpoints by name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class PlantOutputs:
    """One step of a cooling plant: electric power by subsystem [W], water [kg], and the
    temperatures it delivers to the IT for the next step [°C]."""

    crah_fans_w: float = 0.0
    pumps_w: float = 0.0
    chiller_w: float = 0.0
    heat_rejection_w: float = 0.0
    water_kg: float = 0.0
    supply_air_c: float = 0.0
    liquid_supply_c: float = 0.0
    free_cooling_frac: float = 0.0
    coolant_flow_frac: float = 1.0  # liquid loop flow as a share of design (cold plates see it)
    loop_c: float = 0.0  # the water (or immersion fluid) the plant holds at its setpoint
    stored_heat_w: float = 0.0  # heat the plant's thermal masses took up (> 0: they warmed)

    @property
    def total_w(self) -> float:
        return self.crah_fans_w + self.pumps_w + self.chiller_w + self.heat_rejection_w


@dataclass(frozen=True)
class Availability:
    """The share of each kind of a plant's equipment that runs during a step, time-weighted over
    the step [0–1]: 1 everywhere in normal operation. A fault lowers it (:mod:`aidc.facility.faults`).

    * ``chillers``: compressor capacity (tripped, unpowered or restarting chillers are out);
    * ``heat_rejection``: towers or dry coolers (without them neither the chillers nor the
      economizer can reject heat);
    * ``air_handlers``: CRAH/CRAC units, fans and coils;
    * ``pumps``: coolant pumps: chilled water to the coils, the CDUs' loop to the cold plates,
      the immersion fluid through its heat exchanger.
    """

    chillers: float = 1.0
    heat_rejection: float = 1.0
    air_handlers: float = 1.0
    pumps: float = 1.0

    def __post_init__(self) -> None:
        for name in ("chillers", "heat_rejection", "air_handlers", "pumps"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Availability.{name} = {value!r}: must be in [0, 1]")

    @property
    def rejecting(self) -> float:
        """The share of the heat rejection that can reject: the towers or dry coolers running,
        and only while the pumps carry the water to them [0–1]."""
        return self.heat_rejection if self.pumps else 0.0


ALL_RUNNING = Availability()
"""Every piece of equipment running: normal operation."""


def apply_setpoints(plant: object, setpoints: dict[str, float]) -> None:
    """Set a plant's controllable setpoints by name; names outside ``plant.SETPOINTS`` are an error."""
    allowed = getattr(plant, "SETPOINTS", ())
    for name, value in setpoints.items():
        if name not in allowed:
            raise KeyError(f"{type(plant).__name__} has no setpoint {name!r}; it has {', '.join(allowed)}")
        setattr(plant, name, float(value))
