"""Cooling plants with equipment out: the loop and the room take up the heat, at the rate their
thermal masses give, and the plant draws power only for what runs."""

from __future__ import annotations

import pytest

from aidc.facility.cooling import ALL_RUNNING, Availability
from aidc.facility.thermal_mass import IMMERSION_FLUID_L_PER_KW, loop_volume_l, water_loop_capacitance_j_k
from aidc.scenario import AirCoolingConfig, ImmersionCoolingConfig, LiquidCoolingConfig
from aidc.sim.build import build_plant

HEAT_W = 1e6


def run(plant, running: Availability, seconds: int, heat_air_w: float = HEAT_W, heat_liquid_w: float = 0.0):
    out = None
    for _ in range(seconds):
        out = plant.step(1.0, heat_air_w, heat_liquid_w, 0.0, 20.0, 12.0, running)
    return out


def test_with_every_piece_running_nothing_changes_and_nothing_is_stored():
    plant = build_plant(AirCoolingConfig(), 0.0, HEAT_W, racks=100)
    out = run(plant, ALL_RUNNING, 60)
    assert out.loop_c == plant.chw_supply_temp_c
    assert out.supply_air_c == plant.delivered_supply_air_c()
    assert out.stored_heat_w == pytest.approx(0.0, abs=1e-6)


def test_a_chiller_trip_warms_the_chilled_water_at_the_heat_over_the_loops_capacity():
    plant = build_plant(AirCoolingConfig(economizer=False), 0.0, HEAT_W, racks=100)
    run(plant, ALL_RUNNING, 5)
    out = run(plant, Availability(chillers=0.0), 60)
    crah_w = out.crah_fans_w
    rise = 60.0 * (HEAT_W + crah_w) / plant.loop_j_k
    assert out.loop_c == pytest.approx(plant.chw_supply_temp_c + rise, rel=1e-6)
    assert out.chiller_w == 0.0
    # the air follows the water once the water is warmer than the coil allows
    coil_c = out.loop_c + plant.crah_coil_approach_k
    assert out.supply_air_c == pytest.approx(max(plant.supply_air_temp_c, coil_c))
    back = run(plant, ALL_RUNNING, 1)
    assert back.loop_c < out.loop_c and back.chiller_w > 0.0  # pulling down at full capacity


def test_chilled_water_storage_slows_the_rise_in_proportion_to_its_water():
    plain = build_plant(AirCoolingConfig(economizer=False), 0.0, HEAT_W, racks=100)
    tank = build_plant(AirCoolingConfig(economizer=False, chw_storage_m3=50.0), 0.0, HEAT_W, racks=100)
    rise_plain = run(plain, Availability(chillers=0.0), 120).loop_c - plain.chw_supply_temp_c
    rise_tank = run(tank, Availability(chillers=0.0), 120).loop_c - tank.chw_supply_temp_c
    assert rise_plain / rise_tank == pytest.approx(tank.loop_j_k / plain.loop_j_k, rel=1e-6)


def test_without_crah_fans_the_room_takes_the_heat_and_nothing_reaches_the_water():
    plant = build_plant(AirCoolingConfig(), 0.0, HEAT_W, racks=100)
    out = run(plant, Availability(air_handlers=0.0), 10)  # no server airflow here: the air alone
    assert out.crah_fans_w == 0.0
    assert out.supply_air_c == pytest.approx(plant.delivered_supply_air_c() + 10 * HEAT_W / plant.air_j_k)
    assert out.loop_c == plant.chw_supply_temp_c


def test_cdu_pumps_stopped_leave_the_cold_plates_without_flow():
    plant = build_plant(LiquidCoolingConfig(), HEAT_W, 1e5, racks=20)
    assert plant.coolant_flow_frac(Availability(pumps=0.0)) == 0.0
    out = run(plant, Availability(pumps=0.0), 5, heat_air_w=1e5, heat_liquid_w=HEAT_W)
    assert out.coolant_flow_frac == 0.0
    assert out.pumps_w == pytest.approx(plant.residual_air.state().pumps_w)  # the CDUs' draw nothing
    assert plant.residual_air.state().supply_air_c == plant.residual_air.delivered_supply_air_c()
    assert out.loop_c == plant.facility_supply_temp_c  # no heat reached the loop


def test_dry_coolers_lost_warm_a_liquid_loop_and_its_supply():
    plant = build_plant(LiquidCoolingConfig(), HEAT_W, 1e5, racks=20)
    out = run(plant, Availability(heat_rejection=0.0), 30, heat_air_w=1e5, heat_liquid_w=HEAT_W)
    assert out.loop_c == pytest.approx(plant.facility_supply_temp_c + 30 * HEAT_W / plant.loop_j_k)
    assert out.liquid_supply_c == pytest.approx(out.loop_c + plant.cdu_approach_k)


def test_immersion_tanks_add_their_fluid_to_the_facility_waters_heat_capacity():
    cfg = ImmersionCoolingConfig()
    plant = build_plant(cfg, HEAT_W, 0.0)
    out = run(plant, Availability(heat_rejection=0.0), 60, heat_air_w=0.0, heat_liquid_w=HEAT_W)
    assert out.loop_c - plant.facility_supply_temp_c == pytest.approx(60 * HEAT_W / plant.loop_j_k)
    fluid_j_k = cfg.fluid_density_kg_m3 * IMMERSION_FLUID_L_PER_KW * HEAT_W / 1e6 * cfg.fluid_cp_j_kgk
    water_j_k = water_loop_capacitance_j_k(loop_volume_l(HEAT_W, cfg.fws_delta_t_k))
    assert plant.loop_j_k == pytest.approx(fluid_j_k + water_j_k)


def test_availability_is_a_share():
    with pytest.raises(ValueError, match=r"Availability\.pumps"):
        Availability(pumps=1.5)
