"""Liquid-cooled plants: direct-to-chip cold plates on a CDU loop, and single-phase immersion,
each rejecting to ambient with a trim chiller, with their coolant as a thermal mass
(:mod:`aidc.facility.thermal_mass`). Quasi-steady while the plant keeps up, as
:mod:`aidc.facility.cooling_air`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import ClassVar, Protocol

from aidc.facility.chillers import ChillerCurves
from aidc.facility.cooling_air import AirPlant
from aidc.facility.equipment import HeatRejection, Pump, pumps_running_w, reject_with_trim_chiller
from aidc.facility.plant import ALL_RUNNING, Availability, PlantOutputs
from aidc.facility.thermal_mass import (
    IMMERSION_FLUID_L_PER_KW,
    HeldMassStep,
    held_mass_step,
    loop_volume_l,
    water_flow_m3_s,
    water_loop_capacitance_j_k,
)


class WarmWaterLoop(Protocol):
    """What :func:`warm_water_loop_step` reads of a plant: its setpoint and range, its heat
    rejection and trim chillers, and its loop's heat capacity and last state."""

    facility_supply_temp_c: float
    fws_delta_t_k: float
    heat_rejection: HeatRejection
    chiller: ChillerCurves
    chiller_units: int
    unit_capacity_w: float
    loop_j_k: float
    last: PlantOutputs


def warm_water_loop_step(
    plant: WarmWaterLoop,
    heat_in_w: float,
    running: Availability,
    dry_bulb_c: float,
    wet_bulb_c: float,
    dt_s: float,
) -> tuple[HeldMassStep, float, float, float, float]:
    """A warm-water loop held at its setpoint by heat rejection with a trim chiller in series
    (:func:`~aidc.facility.equipment.reject_with_trim_chiller`), over the equipment running.

    Its capacity is the cooler's free share of the heat coming in plus the running chillers'
    rated capacity, all of it only while the coolers and pumps run. Returns the loop's step,
    chiller and heat-rejection fan power [W], water [kg] and the free-cooling share [0–1].
    """
    setpoint_c, rejection = plant.facility_supply_temp_c, plant.heat_rejection
    _, leaving_c, _ = rejection.step(heat_in_w, dry_bulb_c, wet_bulb_c, setpoint_c, dt_s)
    free = 1.0 - min(max(leaving_c - setpoint_c, 0.0) / plant.fws_delta_t_k, 1.0)
    chillers_w = running.chillers * plant.unit_capacity_w * plant.chiller_units
    capacity = running.rejecting * (free * heat_in_w + chillers_w)
    loop = held_mass_step(plant.last.loop_c, setpoint_c, heat_in_w, capacity, plant.loop_j_k, dt_s)
    removed = None if loop.removed_w == heat_in_w else loop.removed_w
    chiller_w, rej_w, water, free = reject_with_trim_chiller(
        heat_in_w,
        rejection,
        plant.chiller,
        plant.chiller_units,
        plant.unit_capacity_w,
        setpoint_c,
        plant.fws_delta_t_k,
        dry_bulb_c,
        wet_bulb_c,
        dt_s,
        removed,
    )
    return loop, chiller_w, rej_w, water, free


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
    loop_volume_l: float | None = None  # facility water; None: LOOP_TURNOVER_S of design flow
    last: PlantOutputs = field(default_factory=PlantOutputs, repr=False)

    def __post_init__(self) -> None:
        design = self.design_heat_w * self.capacity_margin
        self.tcs_pump = Pump(
            water_flow_m3_s(design, self.tcs_delta_t_k),
            self.cdu_pump_head_kpa * 1e3,
            self.pump_efficiency_frac,
        )
        self.fws_pump = Pump(
            water_flow_m3_s(design, self.fws_delta_t_k),
            self.fws_pump_head_kpa * 1e3,
            self.pump_efficiency_frac,
        )
        self.unit_capacity_w = design / self.chiller_units
        volume = self.loop_volume_l
        volume = loop_volume_l(self.design_heat_w, self.fws_delta_t_k) if volume is None else volume
        self.loop_j_k = water_loop_capacitance_j_k(volume)
        self.last = PlantOutputs(
            supply_air_c=self.residual_air.delivered_supply_air_c(),
            liquid_supply_c=self.tcs_supply_c(),
            loop_c=self.facility_supply_temp_c,
        )

    def coolant_flow_frac(self, running: Availability = ALL_RUNNING) -> float:
        """The cold plates' flow as a share of design with ``running`` pumps: what the IT sees in
        the step in which the pumps run (flow follows a pump within a second)."""
        return (1.0 if self.flow_frac is None else self.flow_frac) * running.pumps

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
            "loop_capacitance_j_k": round(self.loop_j_k, 1),
            "residual_air": self.residual_air.config(),
        }

    def step(
        self,
        dt_s: float,
        heat_to_air_w: float,
        heat_to_liquid_w: float,
        server_airflow_m3_s: float,
        dry_bulb_c: float,
        wet_bulb_c: float,
        running: Availability = ALL_RUNNING,
    ) -> PlantOutputs:
        """With the CDU pumps stopped the cold plates get no flow (``coolant_flow_frac`` 0: the
        GPUs keep their heat, :func:`aidc.hardware.node.cold_plate_sink`) and the loop gets none.
        The loop's mass is the facility water's; the technology loop's own coolant (cold plates,
        hoses, manifolds, no published volume found) is left out, a conservative bias."""
        flow = self.coolant_flow_frac(running)
        heat_in = heat_to_liquid_w if running.pumps else 0.0
        loop, chiller_w, rej_w, water, free = warm_water_loop_step(
            self, heat_in, running, dry_bulb_c, wet_bulb_c, dt_s
        )
        if self.flow_frac is None:
            tcs_flow = water_flow_m3_s(heat_in, self.tcs_delta_t_k)
            fws_flow = water_flow_m3_s(loop.removed_w, self.fws_delta_t_k)
        else:
            tcs_flow = flow * self.tcs_pump.design_flow_m3_s
            fws_flow = flow * self.fws_pump.design_flow_m3_s
        pumps = pumps_running_w(self.tcs_pump, tcs_flow, running.pumps)
        pumps += pumps_running_w(self.fws_pump, fws_flow, running.pumps)
        # the residual air's chilled-water pumps serve its CRAHs, not the CDUs: they stop with them
        residual = replace(running, pumps=running.air_handlers)
        air = self.residual_air.step(
            dt_s, heat_to_air_w, 0.0, server_airflow_m3_s, dry_bulb_c, wet_bulb_c, residual
        )
        self.last = PlantOutputs(
            crah_fans_w=air.crah_fans_w,
            pumps_w=pumps + air.pumps_w,
            chiller_w=chiller_w + air.chiller_w,
            heat_rejection_w=rej_w + air.heat_rejection_w,
            water_kg=water + air.water_kg,
            supply_air_c=air.supply_air_c,
            liquid_supply_c=self.tcs_supply_c(loop.end_c),
            free_cooling_frac=free,
            coolant_flow_frac=flow,
            loop_c=loop.end_c,
            stored_heat_w=heat_in - loop.removed_w + air.stored_heat_w,
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
    fluid_volume_l: float | None = None  # in the tanks; None: IMMERSION_FLUID_L_PER_KW of design heat
    loop_volume_l: float | None = None  # facility water; None: LOOP_TURNOVER_S of design flow
    last: PlantOutputs = field(default_factory=PlantOutputs, repr=False)

    def __post_init__(self) -> None:
        design = self.design_heat_w * self.capacity_margin
        self.fluid_pump = Pump(
            design / (self.fluid_density_kg_m3 * self.fluid_cp_j_kgk * self.fluid_delta_t_k),
            self.fluid_pump_head_kpa * 1e3,
            self.pump_efficiency_frac,
        )
        self.fws_pump = Pump(
            water_flow_m3_s(design, self.fws_delta_t_k),
            self.fws_pump_head_kpa * 1e3,
            self.pump_efficiency_frac,
        )
        self.unit_capacity_w = design / self.chiller_units
        design_kw = self.design_heat_w / 1e3
        fluid_l = IMMERSION_FLUID_L_PER_KW * design_kw if self.fluid_volume_l is None else self.fluid_volume_l
        water_l = self.loop_volume_l
        water_l = loop_volume_l(self.design_heat_w, self.fws_delta_t_k) if water_l is None else water_l
        fluid_j_k = self.fluid_density_kg_m3 * fluid_l * 1e-3 * self.fluid_cp_j_kgk
        self.loop_j_k = fluid_j_k + water_loop_capacitance_j_k(water_l)
        supply = self.facility_supply_temp_c
        self.last = PlantOutputs(liquid_supply_c=supply + self.hx_approach_k, loop_c=supply)

    def config(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "design_heat_w": self.design_heat_w,
            "facility_supply_temp_c": self.facility_supply_temp_c,
            "heat_rejection": self.heat_rejection.kind,
            "loop_capacitance_j_k": round(self.loop_j_k, 1),
        }

    def coolant_flow_frac(self, running: Availability = ALL_RUNNING) -> float:
        """The flow past the GPUs is taken at design whatever the pumps do (see :meth:`step`)."""
        return 1.0

    def step(
        self,
        dt_s: float,
        heat_to_air_w: float,
        heat_to_liquid_w: float,
        server_airflow_m3_s: float,
        dry_bulb_c: float,
        wet_bulb_c: float,
        running: Availability = ALL_RUNNING,
    ) -> PlantOutputs:
        """The tank fluid and the facility water are one lumped mass. With the fluid pumps stopped
        the tanks still take the servers' heat (they sit in the fluid) but nothing leaves them;
        the fluid's local warming past each GPU keeps its design-flow value (natural convection
        in a stopped tank is not resolved: an optimistic simplification for pump faults)."""
        heat = heat_to_liquid_w + heat_to_air_w
        loop, chiller_w, rej_w, water, free = warm_water_loop_step(
            self, heat, running, dry_bulb_c, wet_bulb_c, dt_s
        )
        fluid_flow = loop.removed_w / (self.fluid_density_kg_m3 * self.fluid_cp_j_kgk * self.fluid_delta_t_k)
        fws_flow = water_flow_m3_s(loop.removed_w, self.fws_delta_t_k)
        self.last = PlantOutputs(
            pumps_w=pumps_running_w(self.fluid_pump, fluid_flow, running.pumps)
            + pumps_running_w(self.fws_pump, fws_flow, running.pumps),
            chiller_w=chiller_w,
            heat_rejection_w=rej_w,
            water_kg=water,
            liquid_supply_c=loop.end_c + self.hx_approach_k,
            free_cooling_frac=free,
            loop_c=loop.end_c,
            stored_heat_w=heat - loop.removed_w,
        )
        return self.last

    def state(self) -> PlantOutputs:
        """The last step's outputs (what the IT sees next step)."""
        return self.last
