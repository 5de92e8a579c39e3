"""Cooling equipment other than chillers: heat rejection (towers, dry coolers), pumps, the waterside
economizer and tower water, as pure functions plus the two small classes the plants size once.
"""

from __future__ import annotations

from dataclasses import dataclass

from aidc.facility.chillers import ChillerCurves, chiller_plant_power
from aidc.units import H_FG_WATER_J_KG

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
    removed_w: float | None = None,
) -> tuple[float, float, float, float]:
    """Warm-water heat rejection with a trim chiller in series.

    The dry cooler or tower holds ``setpoint_c`` when the climate allows; otherwise its leaving
    water is warmer, and a chiller cools it the rest of the way. The chiller's share of the load
    is that temperature gap over the loop's range ``range_k``; the cooler then rejects the
    compressor heat too. Returns chiller power [W], heat-rejection fan power [W], water [kg] and
    the free-cooling share [0-1]. The chiller curves are evaluated at the edge of their validity
    box for warm-water setpoints (clamped, as EnergyPlus does), which understates the COP a
    chiller gains at high leaving temperatures: a conservative bias.

    ``removed_w``: the heat actually removed when the plant cannot keep up (a fault,
    :mod:`aidc.facility.thermal_mass`; ``heat_w`` if omitted): the cooler takes its free share of
    ``heat_w`` first and the chiller the rest.
    """
    rej_w, leaving_c, water = rejection.step(heat_w, dry_bulb_c, wet_bulb_c, setpoint_c, dt_s)
    trim = min(max(leaving_c - setpoint_c, 0.0) / range_k, 1.0)
    removed = heat_w if removed_w is None else removed_w
    mech_w = heat_w * trim if removed_w is None else max(removed - heat_w * (1.0 - trim), 0.0)
    chiller_w = chiller_plant_power(
        mech_w,
        unit_capacity_w,
        chiller_units,
        setpoint_c,
        rejection.ambient_c(dry_bulb_c, wet_bulb_c) + rejection.design_approach_k,
        chiller,
    )
    if chiller_w > 0.0 or removed != heat_w:
        rej_w, _, water = rejection.step(removed + chiller_w, dry_bulb_c, wet_bulb_c, setpoint_c, dt_s)
    return chiller_w, rej_w, water, 1.0 - trim


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


def pumps_running_w(pump: Pump, flow_m3_s: float, running_frac: float) -> float:
    """Power of a pump group of which ``running_frac`` of the units run, carrying ``flow_m3_s``
    between them [W]: each running unit at its share of the flow (affinity laws, as
    :meth:`Pump.power_w`); none running draws nothing."""
    if running_frac <= 0.0:
        return 0.0
    return running_frac * pump.power_w(flow_m3_s / running_frac)
