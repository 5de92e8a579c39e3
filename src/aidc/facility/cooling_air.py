"""The air-cooled hall's plant: CRAHs on a chilled-water loop, water-cooled chillers, an open
cooling tower and an integrated waterside economizer, with the room air and the chilled-water loop
as thermal masses (:mod:`aidc.facility.thermal_mass`).

Quasi-steady while the plant keeps up: at the twin's time steps (≥ 1 s) coil dynamics and loop
transport delays (tens of seconds) are neglected, and the supply temperatures it returns apply to
the next IT step. When equipment stops (:class:`~aidc.facility.plant.Availability`), the room and
the loop absorb what cannot be removed and warm.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar

from aidc.facility.chillers import ChillerCurves, chiller_plant_power
from aidc.facility.equipment import HeatRejection, Pump, pumps_running_w, waterside_economizer_fraction
from aidc.facility.plant import ALL_RUNNING, Availability, PlantOutputs
from aidc.facility.thermal_mass import (
    SERVER_CONTENTS_J_K_PER_KW,
    RoomStep,
    air_capacitance_j_k,
    held_mass_step,
    loop_volume_l,
    room_step,
    water_flow_m3_s,
    water_loop_capacitance_j_k,
)
from aidc.units import CP_AIR_J_KGK, RHO_AIR_KG_M3


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
    chw_loop_volume_l: float | None = None  # None: LOOP_TURNOVER_S of design flow
    chw_storage_m3: float = 0.0  # chilled-water storage tank on the loop (mixed with it)
    room_volume_m3: float = 0.0  # air in the room (the composition root sizes it from the racks)
    servers_j_k: float | None = None  # the servers' heat capacity; None: SERVER_CONTENTS_J_K_PER_KW
    last: PlantOutputs = field(default_factory=PlantOutputs, repr=False)

    def __post_init__(self) -> None:
        design = self.design_heat_w * self.capacity_margin
        self.design_airflow_m3_s = design / (RHO_AIR_KG_M3 * CP_AIR_J_KGK * self.crah_delta_t_k)
        self.rated_crah_fan_w = (
            self.design_airflow_m3_s * self.crah_fan_pressure_pa / self.crah_fan_efficiency_frac
        )
        self.unit_capacity_w = design / self.chiller_units
        chw_flow = water_flow_m3_s(design, self.chw_delta_t_k)
        self.chw_pump = Pump(chw_flow, self.pump_head_kpa * 1e3, self.pump_efficiency_frac)
        # The condenser loop carries the compressor heat too (~ 1 + 1/COP of the load).
        cw_flow = chw_flow * (1.0 + 1.0 / self.chiller.cop_ref)
        self.cw_pump = Pump(cw_flow, self.pump_head_kpa * 1e3, self.pump_efficiency_frac)
        loop_l = self.chw_loop_volume_l
        loop_l = loop_volume_l(self.design_heat_w, self.chw_delta_t_k) if loop_l is None else loop_l
        self.loop_j_k = water_loop_capacitance_j_k(loop_l + self.chw_storage_m3 * 1e3)
        servers = self.servers_j_k
        self.servers_j_k = (
            SERVER_CONTENTS_J_K_PER_KW * self.design_heat_w / 1e3 if servers is None else servers
        )
        self.air_j_k = air_capacitance_j_k(self.room_volume_m3)
        # the servers' mass above (or below) its steady state at the room's air: 0 in steady state
        self.servers_c = self.delivered_supply_air_c()
        self.last = PlantOutputs(supply_air_c=self.delivered_supply_air_c(), loop_c=self.chw_supply_temp_c)

    def delivered_supply_air_c(self, chw_c: float | None = None) -> float:
        """The coil cannot cool air below the chilled water (``chw_c``, the setpoint if omitted)
        plus its approach."""
        chw = self.chw_supply_temp_c if chw_c is None else chw_c
        return max(self.supply_air_temp_c, chw + self.crah_coil_approach_k)

    def config(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "design_heat_w": self.design_heat_w,
            "rated_crah_fan_w": round(self.rated_crah_fan_w, 1),
            "chiller": self.chiller.name,
            "chiller_units": self.chiller_units,
            "chiller_unit_capacity_w": round(self.unit_capacity_w, 1),
            "heat_rejection": self.heat_rejection.kind,
            "chw_loop_capacitance_j_k": round(self.loop_j_k, 1),
            "room_air_capacitance_j_k": round(self.air_j_k, 1),
            "servers_capacitance_j_k": round(self.servers_j_k, 1),
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
        last = self.last
        heat_w = heat_to_air_w + heat_to_liquid_w
        room, crah_w, room_in = self._room(dt_s, heat_w, server_airflow_m3_s, running)
        load = room.removed_w
        free = self._economizer_share(wet_bulb_c)
        # the loop: chillers and economizer reject through the tower, over the running pumps
        mech_cap = running.chillers * self.unit_capacity_w * self.chiller_units
        loop_cap = running.rejecting * (mech_cap + free * load)
        loop = held_mass_step(last.loop_c, self.chw_supply_temp_c, load, loop_cap, self.loop_j_k, dt_s)
        free_w = min(running.rejecting * free * load, loop.removed_w)
        # Condenser water leaves the tower at wet-bulb + approach (first pass, at this load).
        cond_in = wet_bulb_c + self.heat_rejection.design_approach_k * min(load / self.design_heat_w, 1.0)
        chiller_w = chiller_plant_power(
            loop.removed_w - free_w,
            self.unit_capacity_w,
            self.chiller_units,
            self.chw_supply_temp_c,
            cond_in,
            self.chiller,
        )
        rejected = loop.removed_w + chiller_w
        tower_w, _, water = self.heat_rejection.step(
            rejected, dry_bulb_c, wet_bulb_c, wet_bulb_c + self.heat_rejection.design_approach_k, dt_s
        )
        chw_flow = water_flow_m3_s(load, self.chw_delta_t_k)
        cw_flow = water_flow_m3_s(rejected, self.chw_delta_t_k)
        self.last = PlantOutputs(
            crah_fans_w=crah_w,
            pumps_w=pumps_running_w(self.chw_pump, chw_flow, running.pumps)
            + pumps_running_w(self.cw_pump, cw_flow, running.pumps),
            chiller_w=chiller_w,
            heat_rejection_w=tower_w,
            water_kg=water,
            supply_air_c=room.air_c,
            free_cooling_frac=free,
            loop_c=loop.end_c,
            stored_heat_w=room_in - loop.removed_w,
        )
        return self.last

    def _room(
        self, dt_s: float, heat_w: float, server_airflow_m3_s: float, running: Availability
    ) -> tuple[RoomStep, float, float]:
        """The room over the step, the CRAH fans' power [W] and the heat into the room [W]. The
        running CRAHs share the servers' airflow (not below their minimum; fan affinity, power ∝
        flow³ per unit); their coils cool the room while chilled water flows."""
        airflow = max(server_airflow_m3_s, self.crah_min_airflow_frac * self.design_airflow_m3_s)
        fans = running.air_handlers
        crah_w = (
            fans * self.rated_crah_fan_w * (airflow / (fans * self.design_airflow_m3_s)) ** 3 if fans else 0.0
        )
        coil_cap = fans * running.pumps * self.design_heat_w * self.capacity_margin
        room_in = heat_w + crah_w  # fan heat ends up in the air stream
        room = room_step(
            self.last.supply_air_c,
            self.servers_c,
            self.delivered_supply_air_c(self.last.loop_c),
            room_in,
            coil_cap,
            self.air_j_k,
            self.servers_j_k,
            RHO_AIR_KG_M3 * CP_AIR_J_KGK * server_airflow_m3_s,  # through the servers
            dt_s,
        )
        self.servers_c = room.servers_c
        return room, crah_w, room_in

    def coolant_flow_frac(self, running: Availability = ALL_RUNNING) -> float:
        """No coolant reaches the GPUs of an air-cooled hall; its flow share is nominal."""
        return 1.0

    def _economizer_share(self, wet_bulb_c: float) -> float:
        """The share of the load the waterside economizer carries at the setpoints [0–1]."""
        if not self.economizer or wet_bulb_c >= self.economizer_lockout_wetbulb_c:
            return 0.0
        free_water = wet_bulb_c + self.heat_rejection.design_approach_k + self.economizer_hx_approach_k
        return waterside_economizer_fraction(
            self.chw_supply_temp_c + self.chw_delta_t_k, self.chw_supply_temp_c, free_water
        )

    def state(self) -> PlantOutputs:
        """The last step's outputs (what the IT sees next step)."""
        return self.last
