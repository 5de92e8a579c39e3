"""Cooling plants: air (CRAH + chiller + tower + waterside economizer), direct-to-chip liquid
(CDU + heat rejection + chiller trim + residual air) and single-phase immersion.

The equipment physics lives in :mod:`aidc.facility.chillers` and :mod:`aidc.facility.equipment`;
a plant sizes its equipment from the hall's design heat load, holds setpoints and routes one time
step through those functions. Plant fields carry the scenario's names and units (the composition
root, :mod:`aidc.sim.build`, passes a cooling config's fields straight through). Plants are
quasi-steady: at the twin's time steps (≥ 1 s) loop transport delays and coil dynamics (tens of
seconds) are neglected, and the supply temperatures they return apply to the next IT step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from aidc.facility.chillers import ChillerCurves, chiller_plant_power
from aidc.facility.equipment import (
    HeatRejection,
    Pump,
    reject_with_trim_chiller,
    waterside_economizer_fraction,
)
from aidc.units import CP_AIR_J_KGK, CP_WATER_J_KGK, RHO_AIR_KG_M3, RHO_WATER_KG_M3


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

    @property
    def total_w(self) -> float:
        return self.crah_fans_w + self.pumps_w + self.chiller_w + self.heat_rejection_w


def apply_setpoints(plant: object, setpoints: dict[str, float]) -> None:
    """Set a plant's controllable setpoints by name; names outside ``plant.SETPOINTS`` are an error."""
    allowed = getattr(plant, "SETPOINTS", ())
    for name, value in setpoints.items():
        if name not in allowed:
            raise KeyError(f"{type(plant).__name__} has no setpoint {name!r}; it has {', '.join(allowed)}")
        setattr(plant, name, float(value))


@dataclass
class AirPlant:
    """Air-cooled hall: CRAHs on a chilled-water loop, water-cooled chillers, an open cooling tower
    and an integrated waterside economizer.

    Sizing (autosized from the hall's design heat, as EnergyPlus autosizes): CRAH airflow for
    ``crah_delta_t_k`` at design heat; chillers ``chiller_units`` of equal capacity summing to
    design heat × ``capacity_margin``; pumps for constant-ΔT loops at design heat.
    """

    kind: ClassVar[str] = "air"
    SETPOINTS: ClassVar[tuple[str, ...]] = (
        "supply_air_temp_c",
        "chw_supply_temp_c",
        "economizer_lockout_wetbulb_c",
    )
    design_heat_w: float
    supply_air_temp_c: float
    chw_supply_temp_c: float
    chw_delta_t_k: float
    crah_coil_approach_k: float
    crah_delta_t_k: float
    crah_fan_pressure_pa: float
    crah_fan_efficiency_frac: float
    crah_min_airflow_frac: float
    economizer: bool
    economizer_hx_approach_k: float
    chiller: ChillerCurves
    chiller_units: int
    heat_rejection: HeatRejection
    pump_head_kpa: float
    pump_efficiency_frac: float
    capacity_margin: float = 1.2
    economizer_lockout_wetbulb_c: float = math.inf  # economizer off at or above this outdoor wet-bulb
    last: PlantOutputs = field(default_factory=PlantOutputs, repr=False)

    def __post_init__(self) -> None:
        design = self.design_heat_w * self.capacity_margin
        self.design_airflow_m3_s = design / (RHO_AIR_KG_M3 * CP_AIR_J_KGK * self.crah_delta_t_k)
        self.rated_crah_fan_w = (
            self.design_airflow_m3_s * self.crah_fan_pressure_pa / self.crah_fan_efficiency_frac
        )
        self.unit_capacity_w = design / self.chiller_units
        chw_flow = design / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.chw_delta_t_k)
        self.chw_pump = Pump(chw_flow, self.pump_head_kpa * 1e3, self.pump_efficiency_frac)
        # The condenser loop carries the compressor heat too (~ 1 + 1/COP of the load).
        cw_flow = chw_flow * (1.0 + 1.0 / self.chiller.cop_ref)
        self.cw_pump = Pump(cw_flow, self.pump_head_kpa * 1e3, self.pump_efficiency_frac)
        self.last = PlantOutputs(supply_air_c=self.delivered_supply_air_c())

    def delivered_supply_air_c(self) -> float:
        """The coil cannot cool air below chilled water + approach."""
        return max(self.supply_air_temp_c, self.chw_supply_temp_c + self.crah_coil_approach_k)

    def config(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "design_heat_w": self.design_heat_w,
            "rated_crah_fan_w": round(self.rated_crah_fan_w, 1),
            "chiller": self.chiller.name,
            "chiller_units": self.chiller_units,
            "chiller_unit_capacity_w": round(self.unit_capacity_w, 1),
            "heat_rejection": self.heat_rejection.kind,
        }

    def step(
        self,
        dt_s: float,
        heat_to_air_w: float,
        heat_to_liquid_w: float,
        server_airflow_m3_s: float,
        dry_bulb_c: float,
        wet_bulb_c: float,
    ) -> PlantOutputs:
        airflow = max(server_airflow_m3_s, self.crah_min_airflow_frac * self.design_airflow_m3_s)
        crah_w = float(self.rated_crah_fan_w * (airflow / self.design_airflow_m3_s) ** 3)
        load = heat_to_air_w + heat_to_liquid_w + crah_w  # fan heat ends up in the air stream
        chw_flow = load / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.chw_delta_t_k)
        free = 0.0
        if self.economizer and wet_bulb_c < self.economizer_lockout_wetbulb_c:
            free_water = wet_bulb_c + self.heat_rejection.design_approach_k + self.economizer_hx_approach_k
            free = waterside_economizer_fraction(
                self.chw_supply_temp_c + self.chw_delta_t_k, self.chw_supply_temp_c, free_water
            )
        chiller_load = load * (1.0 - free)
        # Condenser water leaves the tower at wet-bulb + approach (first pass, at this load).
        cond_in = wet_bulb_c + self.heat_rejection.design_approach_k * min(load / self.design_heat_w, 1.0)
        chiller_w = chiller_plant_power(
            chiller_load,
            self.unit_capacity_w,
            self.chiller_units,
            self.chw_supply_temp_c,
            cond_in,
            self.chiller,
        )
        rejected = load + chiller_w
        tower_w, _, water = self.heat_rejection.step(
            rejected, dry_bulb_c, wet_bulb_c, wet_bulb_c + self.heat_rejection.design_approach_k, dt_s
        )
        cw_flow = rejected / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.chw_delta_t_k)
        pumps = self.chw_pump.power_w(chw_flow) + self.cw_pump.power_w(cw_flow)
        self.last = PlantOutputs(
            crah_fans_w=crah_w,
            pumps_w=pumps,
            chiller_w=chiller_w,
            heat_rejection_w=tower_w,
            water_kg=water,
            supply_air_c=self.delivered_supply_air_c(),
            free_cooling_frac=free,
        )
        return self.last

    def state(self) -> PlantOutputs:
        """The last step's outputs (what the IT sees next step)."""
        return self.last


@dataclass
class LiquidPlant:
    """Direct-to-chip liquid: cold plates on a technology cooling system (TCS) loop, a CDU
    (pumps + plate heat exchanger) to the facility water system (FWS), heat rejection to ambient
    (chiller-free when the climate allows), a trim chiller in series for the hours it does not,
    and a residual :class:`AirPlant` for the heat that still goes to room air.
    """

    kind: ClassVar[str] = "liquid"
    SETPOINTS: ClassVar[tuple[str, ...]] = ("facility_supply_temp_c", "flow_frac")
    design_heat_w: float
    facility_supply_temp_c: float
    cdu_approach_k: float
    fws_delta_t_k: float
    tcs_delta_t_k: float
    cdu_pump_head_kpa: float
    fws_pump_head_kpa: float
    pump_efficiency_frac: float
    heat_rejection: HeatRejection
    chiller: ChillerCurves
    chiller_units: int
    residual_air: AirPlant
    capacity_margin: float = 1.2
    # None: pumps hold the loop ΔT (flow follows heat); a number: both loops run at that share of
    # design flow, and the cold plates see it (:class:`PlantOutputs.coolant_flow_frac`).
    flow_frac: float | None = None
    last: PlantOutputs = field(default_factory=PlantOutputs, repr=False)

    def __post_init__(self) -> None:
        design = self.design_heat_w * self.capacity_margin
        self.tcs_pump = Pump(
            design / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.tcs_delta_t_k),
            self.cdu_pump_head_kpa * 1e3,
            self.pump_efficiency_frac,
        )
        self.fws_pump = Pump(
            design / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.fws_delta_t_k),
            self.fws_pump_head_kpa * 1e3,
            self.pump_efficiency_frac,
        )
        self.unit_capacity_w = design / self.chiller_units
        self.last = PlantOutputs(
            supply_air_c=self.residual_air.delivered_supply_air_c(), liquid_supply_c=self.tcs_supply_c()
        )

    def tcs_supply_c(self, facility_supply_c: float | None = None) -> float:
        fws = self.facility_supply_temp_c if facility_supply_c is None else facility_supply_c
        return fws + self.cdu_approach_k

    def config(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "design_heat_w": self.design_heat_w,
            "facility_supply_temp_c": self.facility_supply_temp_c,
            "heat_rejection": self.heat_rejection.kind,
            "chiller": self.chiller.name,
            "residual_air": self.residual_air.config(),
        }

    def _liquid_side(
        self, dt_s: float, heat_w: float, dry_bulb_c: float, wet_bulb_c: float
    ) -> tuple[float, float, float, float, float]:
        """Pumps, chiller, heat-rejection fans [W], water [kg] and the free-cooling share."""
        chiller_w, rej_w, water, free = reject_with_trim_chiller(
            heat_w,
            self.heat_rejection,
            self.chiller,
            self.chiller_units,
            self.unit_capacity_w,
            self.facility_supply_temp_c,
            self.fws_delta_t_k,
            dry_bulb_c,
            wet_bulb_c,
            dt_s,
        )
        if self.flow_frac is None:
            tcs_flow = heat_w / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.tcs_delta_t_k)
            fws_flow = heat_w / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.fws_delta_t_k)
        else:
            tcs_flow = self.flow_frac * self.tcs_pump.design_flow_m3_s
            fws_flow = self.flow_frac * self.fws_pump.design_flow_m3_s
        pumps = self.tcs_pump.power_w(tcs_flow) + self.fws_pump.power_w(fws_flow)
        return pumps, chiller_w, rej_w, water, free

    def step(
        self,
        dt_s: float,
        heat_to_air_w: float,
        heat_to_liquid_w: float,
        server_airflow_m3_s: float,
        dry_bulb_c: float,
        wet_bulb_c: float,
    ) -> PlantOutputs:
        pumps, chiller_w, rej_w, water, free = self._liquid_side(
            dt_s, heat_to_liquid_w, dry_bulb_c, wet_bulb_c
        )
        air = self.residual_air.step(dt_s, heat_to_air_w, 0.0, server_airflow_m3_s, dry_bulb_c, wet_bulb_c)
        self.last = PlantOutputs(
            crah_fans_w=air.crah_fans_w,
            pumps_w=pumps + air.pumps_w,
            chiller_w=chiller_w + air.chiller_w,
            heat_rejection_w=rej_w + air.heat_rejection_w,
            water_kg=water + air.water_kg,
            supply_air_c=air.supply_air_c,
            liquid_supply_c=self.tcs_supply_c(),
            free_cooling_frac=free,
            coolant_flow_frac=1.0 if self.flow_frac is None else self.flow_frac,
        )
        return self.last

    def state(self) -> PlantOutputs:
        """The last step's outputs (what the IT sees next step)."""
        return self.last


@dataclass
class ImmersionPlant:
    """Single-phase immersion: servers submerged in a dielectric fluid pumped through a plate heat
    exchanger to facility water, which a dry cooler (or tower) rejects to ambient, with a chiller
    trim for the hours the climate is too warm. No server fans, no CRAHs: all node heat goes to
    the fluid (room heat gains from tank walls are neglected).
    """

    kind: ClassVar[str] = "immersion"
    design_heat_w: float
    facility_supply_temp_c: float
    hx_approach_k: float
    fluid_delta_t_k: float
    fluid_density_kg_m3: float
    fluid_cp_j_kgk: float
    fluid_pump_head_kpa: float
    fws_delta_t_k: float
    fws_pump_head_kpa: float
    pump_efficiency_frac: float
    heat_rejection: HeatRejection
    chiller: ChillerCurves
    chiller_units: int
    capacity_margin: float = 1.2
    last: PlantOutputs = field(default_factory=PlantOutputs, repr=False)

    def __post_init__(self) -> None:
        design = self.design_heat_w * self.capacity_margin
        self.fluid_pump = Pump(
            design / (self.fluid_density_kg_m3 * self.fluid_cp_j_kgk * self.fluid_delta_t_k),
            self.fluid_pump_head_kpa * 1e3,
            self.pump_efficiency_frac,
        )
        self.fws_pump = Pump(
            design / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.fws_delta_t_k),
            self.fws_pump_head_kpa * 1e3,
            self.pump_efficiency_frac,
        )
        self.unit_capacity_w = design / self.chiller_units
        self.last = PlantOutputs(liquid_supply_c=self.facility_supply_temp_c + self.hx_approach_k)

    def config(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "design_heat_w": self.design_heat_w,
            "facility_supply_temp_c": self.facility_supply_temp_c,
            "heat_rejection": self.heat_rejection.kind,
        }

    def step(
        self,
        dt_s: float,
        heat_to_air_w: float,
        heat_to_liquid_w: float,
        server_airflow_m3_s: float,
        dry_bulb_c: float,
        wet_bulb_c: float,
    ) -> PlantOutputs:
        heat = heat_to_liquid_w + heat_to_air_w
        chiller_w, rej_w, water, free = reject_with_trim_chiller(
            heat,
            self.heat_rejection,
            self.chiller,
            self.chiller_units,
            self.unit_capacity_w,
            self.facility_supply_temp_c,
            self.fws_delta_t_k,
            dry_bulb_c,
            wet_bulb_c,
            dt_s,
        )
        fluid_flow = heat / (self.fluid_density_kg_m3 * self.fluid_cp_j_kgk * self.fluid_delta_t_k)
        fws_flow = heat / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.fws_delta_t_k)
        self.last = PlantOutputs(
            pumps_w=self.fluid_pump.power_w(fluid_flow) + self.fws_pump.power_w(fws_flow),
            chiller_w=chiller_w,
            heat_rejection_w=rej_w,
            water_kg=water,
            liquid_supply_c=self.facility_supply_temp_c + self.hx_approach_k,
            free_cooling_frac=free,
        )
        return self.last

    def state(self) -> PlantOutputs:
        """The last step's outputs (what the IT sees next step)."""
        return self.last


CoolingPlant = AirPlant | LiquidPlant | ImmersionPlant

PLANTS: dict[str, type[CoolingPlant]] = {"air": AirPlant, "liquid": LiquidPlant, "immersion": ImmersionPlant}
"""Cooling plants by the scenario's ``cooling.type``."""
