"""Cooling plants: air (CRAH + chiller + tower + waterside economizer), direct-to-chip liquid
(CDU + heat rejection + chiller trim + residual air) and single-phase immersion.

Physics lives in the pure functions at the top; the plant classes size equipment from the hall's
design heat load, hold setpoints and route one time step through the functions. Plants are
quasi-steady: at the twin's time steps (≥ 1 s) loop transport delays and coil dynamics (tens of
seconds) are neglected, and the supply temperatures they return apply to the next IT step.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from aidc.scenario import (
    AirCoolingConfig,
    CoolingConfig,
    HeatRejectionConfig,
    ImmersionCoolingConfig,
    LiquidCoolingConfig,
)
from aidc.units import (
    CP_AIR_J_KGK,
    CP_WATER_J_KGK,
    H_FG_WATER_J_KG,
    RHO_AIR_KG_M3,
    RHO_WATER_KG_M3,
)

# ---------------------------------------------------------------------------------------------
# Chiller: the DOE-2 / EnergyPlus Chiller:Electric:EIR model
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChillerCurves:
    """Performance curves of an electric chiller in the DOE-2 form EnergyPlus uses.

    ``cap_ft`` and ``eir_ft`` are biquadratics in the leaving chilled-water temperature x and
    the entering condenser-water temperature y: c0 + c1·x + c2·x² + c3·y + c4·y² + c5·x·y;
    ``eir_fplr`` is a quadratic in part-load ratio. Inputs are clamped to the curve's validity
    box, as EnergyPlus does (Engineering Reference, "Electric Chiller Model Based on Condenser
    Entering Temperature").
    """

    name: str
    cop_ref: float
    cap_ft: tuple[float, float, float, float, float, float]
    eir_ft: tuple[float, float, float, float, float, float]
    eir_fplr: tuple[float, float, float]
    chws_range_c: tuple[float, float]
    cond_range_c: tuple[float, float]
    plr_min: float
    source: str


CHILLER_CURVES: dict[str, ChillerCurves] = {
    "doe2-centrifugal-5.50cop": ChillerCurves(
        name="DOE-2 Centrifugal/5.50COP",
        cop_ref=5.5,
        cap_ft=(0.257896, 0.0389016, -0.00021708, 0.0468684, -0.00094284, -0.00034344),
        eir_ft=(0.933884, -0.058212, 0.00450036, 0.00243, 0.000486, -0.001215),
        eir_fplr=(0.222903, 0.313387, 0.46371),
        chws_range_c=(5.0, 10.0),
        cond_range_c=(24.0, 35.0),
        plr_min=0.1,
        source="EnergyPlus DataSets/Chillers.idf, 'DOE-2 Centrifugal/5.50COP'",
    ),
    "mcquay-pfh-2124kw-6.03cop": ChillerCurves(
        name="ElectricEIRChiller McQuay PFH 2124kW/6.03COP/Vanes",
        cop_ref=6.03,
        cap_ft=(1.040134, -0.0174565, 0.001084856, 0.006629328, -0.0008008991, 0.001567769),
        eir_ft=(1.157799, -0.03621524, -0.003684818, -0.01202959, -7.378548e-05, 0.003787365),
        eir_fplr=(0.1051419, 0.2033679, 0.6902026),
        chws_range_c=(5.56, 8.89),
        cond_range_c=(12.78, 29.44),
        plr_min=0.09,
        source="EnergyPlus DataSets/Chillers.idf, 'ElectricEIRChiller McQuay PFH 2124kW/6.03COP/Vanes'",
    ),
}


def _biquadratic(c: tuple[float, ...], x: float, y: float) -> float:
    return c[0] + c[1] * x + c[2] * x * x + c[3] * y + c[4] * y * y + c[5] * x * y


def chiller_power_doe2(
    load_w: float,
    capacity_ref_w: float,
    chws_temp_c: float,
    cond_entering_temp_c: float,
    curves: ChillerCurves,
) -> tuple[float, float]:
    """Electric power of one chiller meeting ``load_w`` [W], and its part-load ratio.

    P = (Q_avail / COP_ref) · EIR(T) · EIR(PLR) · cycling, with Q_avail = Q_ref · CAP(T) and
    PLR = Q / Q_avail (DOE-2.1E; EnergyPlus Engineering Reference, Chiller:Electric:EIR). Below
    ``plr_min`` the chiller cycles: EIR(PLR) is taken at ``plr_min`` and power scaled by
    PLR/plr_min. Loads above the available capacity are met at PLR = 1 and the shortfall is the
    caller's to handle (the plant stages another unit first).
    """
    if load_w <= 0.0:
        return 0.0, 0.0
    x = min(max(chws_temp_c, curves.chws_range_c[0]), curves.chws_range_c[1])
    y = min(max(cond_entering_temp_c, curves.cond_range_c[0]), curves.cond_range_c[1])
    q_avail = capacity_ref_w * max(_biquadratic(curves.cap_ft, x, y), 1e-6)
    plr = min(load_w / q_avail, 1.0)
    p_eval = max(plr, curves.plr_min)
    a, b, c = curves.eir_fplr
    eir_plr = a + b * p_eval + c * p_eval * p_eval
    cycling = min(plr / curves.plr_min, 1.0)
    power = q_avail / curves.cop_ref * _biquadratic(curves.eir_ft, x, y) * eir_plr * cycling
    return power, plr


def chiller_plant_power(
    load_w: float,
    unit_capacity_w: float,
    units: int,
    chws_temp_c: float,
    cond_entering_temp_c: float,
    curves: ChillerCurves,
) -> float:
    """Power of a plant of identical chillers sharing the load equally [W].

    Staging: the fewest units whose combined available capacity covers the load run, each at
    the same part-load ratio (the usual lead/lag sequencing).
    """
    if load_w <= 0.0:
        return 0.0
    x = min(max(chws_temp_c, curves.chws_range_c[0]), curves.chws_range_c[1])
    y = min(max(cond_entering_temp_c, curves.cond_range_c[0]), curves.cond_range_c[1])
    q_avail_unit = unit_capacity_w * max(_biquadratic(curves.cap_ft, x, y), 1e-6)
    running = min(max(math.ceil(load_w / q_avail_unit), 1), units)
    power, _ = chiller_power_doe2(
        load_w / running, unit_capacity_w, chws_temp_c, cond_entering_temp_c, curves
    )
    return power * running


# ---------------------------------------------------------------------------------------------
# Heat rejection, pumps, economizer, water
# ---------------------------------------------------------------------------------------------

COIL_UA_AIRFLOW_EXPONENT = 0.6
"""Finned-coil and fill UA grows as airflow^0.6 (air-side heat-transfer coefficient of finned
tube banks, h ∝ Re^0.6: Kays & London, Compact Heat Exchangers, 3rd ed.)."""


def heat_rejection_fan_speed(
    load_ratio: float, design_approach_k: float, available_approach_k: float, min_speed: float
) -> tuple[float, float]:
    """Fan speed of a dry cooler or cooling tower holding its leaving-water setpoint.

    Q = UA(s)·ΔT with UA ∝ s^0.6 (:data:`COIL_UA_AIRFLOW_EXPONENT`): holding a leaving
    temperature ``available_approach_k`` above the ambient (dry-bulb or wet-bulb) at
    ``load_ratio`` of design heat needs s = (load_ratio · approach_design / approach)^(1/0.6).
    Returns ``(speed, achieved_approach_k)``; at full speed the approach is what the coil can
    do, load_ratio · design approach, which the caller compares with the setpoint.
    """
    if load_ratio <= 0.0:
        return 0.0, 0.0
    if available_approach_k <= 0.0:
        return 1.0, load_ratio * design_approach_k
    s = (load_ratio * design_approach_k / available_approach_k) ** (1.0 / COIL_UA_AIRFLOW_EXPONENT)
    if s <= 1.0:
        return max(s, min_speed), available_approach_k
    return 1.0, load_ratio * design_approach_k


def pump_power_affinity(
    flow_ratio: float,
    design_flow_m3_s: float,
    design_head_pa: float,
    efficiency: float,
    min_flow_ratio: float,
) -> float:
    """Variable-speed pump power [W]: P = ρgHQ/η at design, scaled by (Q/Q_design)³.

    Hydraulic power Q·Δp over wire-to-water efficiency, with the affinity laws for a system curve
    through the origin (ASHRAE Handbook HVAC Systems and Equipment 2020, ch. 44). Flow never
    drops below ``min_flow_ratio`` of design (minimum pump speed / chiller minimum flow).
    """
    r = max(flow_ratio, min_flow_ratio)
    return design_flow_m3_s * design_head_pa / efficiency * r * r * r


def waterside_economizer_fraction(
    return_temp_c: float, supply_setpoint_c: float, free_water_temp_c: float
) -> float:
    """Share of the load an integrated waterside economizer carries [0-1].

    The heat exchanger, fed by tower water at ``free_water_temp_c``, precools the return water
    in series ahead of the chiller: it carries (T_return − T_free)/(T_return − T_supply) of the
    load, all of it once the free water is below the supply setpoint (ASHRAE 90.1-2019 §6.5.1.2,
    integrated economizer; the linear split assumes a constant-ΔT loop).
    """
    span = return_temp_c - supply_setpoint_c
    if span <= 0.0:
        return 0.0
    return float(min(max((return_temp_c - free_water_temp_c) / span, 0.0), 1.0))


COOLING_TOWER_CYCLES_OF_CONCENTRATION = 4.0
"""Cycles of concentration of an open cooling tower; 3–6 is typical practice (US DOE FEMP,
"Cooling Towers: Understanding Key Components", 2011), 4 a common design value."""


def cooling_tower_water_kg(heat_rejected_w: float, dt_s: float) -> float:
    """Make-up water of an open cooling tower over ``dt_s`` [kg]: evaporation + blowdown.

    Evaporation = Q / h_fg (all rejected heat leaves as latent heat, the usual upper estimate);
    blowdown = evaporation / (cycles − 1) (mass balance of dissolved solids); drift neglected
    (< 0.002 % of circulation with modern eliminators). Source: US DOE FEMP, "Cooling Towers".
    """
    evaporation = max(heat_rejected_w, 0.0) * dt_s / H_FG_WATER_J_KG
    return evaporation * (1.0 + 1.0 / (COOLING_TOWER_CYCLES_OF_CONCENTRATION - 1.0))


# ---------------------------------------------------------------------------------------------
# Plants
# ---------------------------------------------------------------------------------------------


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


@dataclass
class HeatRejection:
    """A cooling tower (ambient = wet-bulb, uses water) or a dry cooler (ambient = dry-bulb)."""

    kind: str
    design_heat_w: float
    design_approach_k: float
    specific_fan_power_w_per_kw: float
    min_fan_speed: float = 0.2

    @property
    def rated_fan_w(self) -> float:
        return self.specific_fan_power_w_per_kw * self.design_heat_w / 1e3

    def ambient_c(self, dry_bulb_c: float, wet_bulb_c: float) -> float:
        return wet_bulb_c if self.kind == "cooling_tower" else dry_bulb_c

    def step(
        self, heat_w: float, dry_bulb_c: float, wet_bulb_c: float, setpoint_c: float, dt_s: float
    ) -> tuple[float, float, float]:
        """Fan power [W], leaving water temperature [°C] and water use [kg] for one step."""
        ambient = self.ambient_c(dry_bulb_c, wet_bulb_c)
        speed, approach = heat_rejection_fan_speed(
            heat_w / self.design_heat_w, self.design_approach_k, setpoint_c - ambient, self.min_fan_speed
        )
        fan_w = float(self.rated_fan_w * speed**3)
        water = cooling_tower_water_kg(heat_w, dt_s) if self.kind == "cooling_tower" else 0.0
        return fan_w, ambient + approach, water


def reject_with_trim_chiller(
    heat_w: float,
    rejection: HeatRejection,
    chiller: ChillerCurves,
    chiller_units: int,
    unit_capacity_w: float,
    setpoint_c: float,
    range_k: float,
    dry_bulb_c: float,
    wet_bulb_c: float,
    dt_s: float,
) -> tuple[float, float, float, float]:
    """Warm-water heat rejection with a trim chiller in series.

    The dry cooler or tower holds ``setpoint_c`` when the climate allows; otherwise its leaving
    water is warmer, and a chiller cools it the rest of the way. The chiller's share of the load
    is that temperature gap over the loop's range ``range_k``; the cooler then rejects the
    compressor heat too. Returns chiller power [W], heat-rejection fan power [W], water [kg] and
    the free-cooling share [0-1]. The chiller curves are evaluated at the edge of their validity
    box for warm-water setpoints (clamped, as EnergyPlus does), which understates the COP a
    chiller gains at high leaving temperatures: a conservative bias.
    """
    rej_w, leaving_c, water = rejection.step(heat_w, dry_bulb_c, wet_bulb_c, setpoint_c, dt_s)
    trim = min(max(leaving_c - setpoint_c, 0.0) / range_k, 1.0)
    chiller_w = chiller_plant_power(
        heat_w * trim,
        unit_capacity_w,
        chiller_units,
        setpoint_c,
        rejection.ambient_c(dry_bulb_c, wet_bulb_c) + rejection.design_approach_k,
        chiller,
    )
    if chiller_w > 0.0:
        rej_w, _, water = rejection.step(heat_w + chiller_w, dry_bulb_c, wet_bulb_c, setpoint_c, dt_s)
    return chiller_w, rej_w, water, 1.0 - trim


def apply_setpoints(plant: object, setpoints: dict[str, float]) -> None:
    """Set a plant's controllable setpoints by name; names outside ``plant.SETPOINTS`` are an error."""
    allowed = getattr(plant, "SETPOINTS", ())
    for name, value in setpoints.items():
        if name not in allowed:
            raise KeyError(f"{type(plant).__name__} has no setpoint {name!r}; it has {', '.join(allowed)}")
        setattr(plant, name, float(value))


@dataclass
class Pump:
    design_flow_m3_s: float
    head_pa: float
    efficiency: float
    min_flow_ratio: float = 0.3

    def power_w(self, flow_m3_s: float) -> float:
        if self.design_flow_m3_s <= 0.0:
            return 0.0
        return pump_power_affinity(
            flow_m3_s / self.design_flow_m3_s,
            self.design_flow_m3_s,
            self.head_pa,
            self.efficiency,
            self.min_flow_ratio,
        )


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
    crah_fan_efficiency: float
    crah_min_airflow_frac: float
    economizer: bool
    economizer_hx_approach_k: float
    chiller: ChillerCurves
    chiller_units: int
    heat_rejection: HeatRejection
    pump_head_pa: float
    pump_efficiency: float
    capacity_margin: float = 1.2
    economizer_lockout_wetbulb_c: float = math.inf  # economizer off at or above this outdoor wet-bulb
    last: PlantOutputs = field(default_factory=PlantOutputs, repr=False)

    def __post_init__(self) -> None:
        design = self.design_heat_w * self.capacity_margin
        self.design_airflow_m3_s = design / (RHO_AIR_KG_M3 * CP_AIR_J_KGK * self.crah_delta_t_k)
        self.rated_crah_fan_w = (
            self.design_airflow_m3_s * self.crah_fan_pressure_pa / self.crah_fan_efficiency
        )
        self.unit_capacity_w = design / self.chiller_units
        chw_flow = design / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.chw_delta_t_k)
        self.chw_pump = Pump(chw_flow, self.pump_head_pa, self.pump_efficiency)
        # The condenser loop carries the compressor heat too (~ 1 + 1/COP of the load).
        cw_flow = chw_flow * (1.0 + 1.0 / self.chiller.cop_ref)
        self.cw_pump = Pump(cw_flow, self.pump_head_pa, self.pump_efficiency)
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

    def state(self) -> dict[str, float]:
        return {"supply_air_c": self.last.supply_air_c, "free_cooling_frac": self.last.free_cooling_frac}


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
    cdu_pump_head_pa: float
    fws_pump_head_pa: float
    pump_efficiency: float
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
            self.cdu_pump_head_pa,
            self.pump_efficiency,
        )
        self.fws_pump = Pump(
            design / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.fws_delta_t_k),
            self.fws_pump_head_pa,
            self.pump_efficiency,
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

    def state(self) -> dict[str, float]:
        return {
            "liquid_supply_c": self.last.liquid_supply_c,
            "free_cooling_frac": self.last.free_cooling_frac,
        }


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
    fluid_pump_head_pa: float
    fws_delta_t_k: float
    fws_pump_head_pa: float
    pump_efficiency: float
    heat_rejection: HeatRejection
    chiller: ChillerCurves
    chiller_units: int
    capacity_margin: float = 1.2
    last: PlantOutputs = field(default_factory=PlantOutputs, repr=False)

    def __post_init__(self) -> None:
        design = self.design_heat_w * self.capacity_margin
        self.fluid_pump = Pump(
            design / (self.fluid_density_kg_m3 * self.fluid_cp_j_kgk * self.fluid_delta_t_k),
            self.fluid_pump_head_pa,
            self.pump_efficiency,
        )
        self.fws_pump = Pump(
            design / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * self.fws_delta_t_k),
            self.fws_pump_head_pa,
            self.pump_efficiency,
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

    def state(self) -> dict[str, float]:
        return {
            "liquid_supply_c": self.last.liquid_supply_c,
            "free_cooling_frac": self.last.free_cooling_frac,
        }


# ---------------------------------------------------------------------------------------------
# Registry: scenario cooling config → plant
# ---------------------------------------------------------------------------------------------


def _heat_rejection(cfg: HeatRejectionConfig, design_heat_w: float) -> HeatRejection:
    return HeatRejection(cfg.type, design_heat_w, cfg.design_approach_k, cfg.specific_fan_power_w_per_kw)


def _build_air(cfg: AirCoolingConfig, design_heat_w: float) -> AirPlant:
    return AirPlant(
        design_heat_w=design_heat_w,
        supply_air_temp_c=cfg.supply_air_temp_c,
        chw_supply_temp_c=cfg.chw_supply_temp_c,
        chw_delta_t_k=cfg.chw_delta_t_k,
        crah_coil_approach_k=cfg.crah_coil_approach_k,
        crah_delta_t_k=cfg.crah_delta_t_k,
        crah_fan_pressure_pa=cfg.crah_fan_pressure_pa,
        crah_fan_efficiency=cfg.crah_fan_efficiency_frac,
        crah_min_airflow_frac=cfg.crah_min_airflow_frac,
        economizer=cfg.economizer,
        economizer_hx_approach_k=cfg.economizer_hx_approach_k,
        chiller=CHILLER_CURVES[cfg.chiller],
        chiller_units=cfg.chiller_units,
        heat_rejection=_heat_rejection(cfg.heat_rejection, design_heat_w),
        pump_head_pa=cfg.pump_head_kpa * 1e3,
        pump_efficiency=cfg.pump_efficiency_frac,
    )


def _build_liquid(cfg: LiquidCoolingConfig, design_heat_w: float, design_air_heat_w: float) -> LiquidPlant:
    return LiquidPlant(
        design_heat_w=design_heat_w,
        facility_supply_temp_c=cfg.facility_supply_temp_c,
        cdu_approach_k=cfg.cdu_approach_k,
        fws_delta_t_k=cfg.fws_delta_t_k,
        tcs_delta_t_k=cfg.tcs_delta_t_k,
        cdu_pump_head_pa=cfg.cdu_pump_head_kpa * 1e3,
        fws_pump_head_pa=cfg.fws_pump_head_kpa * 1e3,
        pump_efficiency=cfg.pump_efficiency_frac,
        heat_rejection=_heat_rejection(cfg.heat_rejection, design_heat_w),
        chiller=CHILLER_CURVES[cfg.chiller],
        chiller_units=cfg.chiller_units,
        residual_air=_build_air(cfg.residual_air, max(design_air_heat_w, 1.0)),
    )


def _build_immersion(cfg: ImmersionCoolingConfig, design_heat_w: float) -> ImmersionPlant:
    return ImmersionPlant(
        design_heat_w=design_heat_w,
        facility_supply_temp_c=cfg.facility_supply_temp_c,
        hx_approach_k=cfg.hx_approach_k,
        fluid_delta_t_k=cfg.fluid_delta_t_k,
        fluid_density_kg_m3=cfg.fluid_density_kg_m3,
        fluid_cp_j_kgk=cfg.fluid_cp_j_kgk,
        fluid_pump_head_pa=cfg.fluid_pump_head_kpa * 1e3,
        fws_delta_t_k=cfg.fws_delta_t_k,
        fws_pump_head_pa=cfg.fws_pump_head_kpa * 1e3,
        pump_efficiency=cfg.pump_efficiency_frac,
        heat_rejection=_heat_rejection(cfg.heat_rejection, design_heat_w),
        chiller=CHILLER_CURVES[cfg.chiller],
        chiller_units=cfg.chiller_units,
    )


CoolingPlant = AirPlant | LiquidPlant | ImmersionPlant

PLANT_BUILDERS: dict[str, Callable[[Any, float, float], CoolingPlant]] = {
    "air": lambda cfg, liquid_w, air_w: _build_air(cfg, liquid_w + air_w),
    "liquid": _build_liquid,
    "immersion": lambda cfg, liquid_w, air_w: _build_immersion(cfg, liquid_w + air_w),
}
"""Cooling plants by the scenario's ``cooling.type``: (config, design heat to liquid [W], design
heat to air [W]) → plant."""


def build_plant(cfg: CoolingConfig, design_liquid_heat_w: float, design_air_heat_w: float) -> CoolingPlant:
    """The plant a hall's cooling config names, sized for its design heat loads [W]."""
    return PLANT_BUILDERS[cfg.type](cfg, design_liquid_heat_w, design_air_heat_w)
