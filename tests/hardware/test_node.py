"""Node thermal paths: the coolant's rise along a cold plate, air preheat across GPU rows, the heat
split of each path and the design heat the plants are sized for, with hand-worked values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from aidc.hardware.gpu import junction_temperature_rc
from aidc.hardware.node import (
    THERMAL_PATHS,
    NodeSpec,
    Supply,
    air_preheat_inlet_c,
    cold_plate_sink,
    coolant_rise_resistance_k_w,
    design_heat_w,
)
from aidc.units import CP_AIR_J_KGK, CP_WATER_J_KGK, RHO_AIR_KG_M3, RHO_WATER_KG_M3


def node(**over) -> NodeSpec:
    values = dict(
        nodes=1,
        gpus_per_node=4,
        gpu_rows_in_airflow=2,
        airflow_full_speed_m3_s=0.2,
        heatsink_base_resistance_k_w=0.02,
        heatsink_convective_resistance_k_w=0.02,
        cold_plate_resistance_k_w=0.03,
        immersion_resistance_k_w=0.04,
        cold_plate_flow_l_min=1.5,
        capacitance_j_k=600.0,
        base_power_w=1000.0,
        psu_efficiency_frac=0.95,
        fan_rated_power_w=200.0,
        fan_min_speed_frac=0.3,
        fan_temp_low_c=45.0,
        fan_temp_high_c=85.0,
        gpu_heat_to_liquid_frac=0.9,
        other_heat_to_liquid_frac=0.5,
        r_factor=np.ones(4),
        inlet_offset_c=np.zeros(4),
    )
    return NodeSpec(**{**values, **over})


def test_cold_plate_coolant_rise_is_half_the_coolants_heating():
    # 600 W into 1.5 L/min: ΔT = 600 / (0.025 L/s · ρ · c_p), the die sees half of it
    rise = 600.0 / (1.5 / 60e3 * RHO_WATER_KG_M3 * CP_WATER_J_KGK)
    assert 600.0 * coolant_rise_resistance_k_w(1.5) == pytest.approx(rise / 2)
    assert 600.0 * coolant_rise_resistance_k_w(1.5, flow_frac=0.5) == pytest.approx(rise)
    assert coolant_rise_resistance_k_w(1.5, flow_frac=0.0) == math.inf  # pumps stopped


def test_a_junction_without_coolant_flow_warms_at_its_power_over_its_heat_capacity():
    # R = ∞: the RC's conductance form gives T = T₀ + P·dt/C, with no NaN
    n = node(nodes=1)
    sink, r = cold_plate_sink(n, np.full(4, 700.0), np.ones(1), Supply(25.0, 30.0, 0.0))
    step = junction_temperature_rc(60.0, sink, 700.0, r, 600.0, 10.0)
    np.testing.assert_allclose(step.end_c, 60.0 + 700.0 * 10.0 / 600.0)
    np.testing.assert_allclose(step.mean_c, 60.0 + 0.5 * 700.0 * 10.0 / 600.0)


def test_air_preheat_adds_the_upstream_rows_heat():
    n = node()
    power = np.array([500.0, 500.0, 400.0, 400.0])  # row 0: GPUs 0, 1; row 1: GPUs 2, 3
    inlet = air_preheat_inlet_c(np.full(4, 25.0), power, np.array([1.0]), n)
    per_column = RHO_AIR_KG_M3 * 0.2 / 2 * CP_AIR_J_KGK  # W/K of each column's air
    np.testing.assert_allclose(inlet, [25.0, 25.0, 25.0 + 500.0 / per_column, 25.0 + 500.0 / per_column])


def test_each_path_splits_heat_and_sizes_the_plant():
    n = node()
    wall = (4 * 700.0 + 200.0 + 1000.0) / 0.95
    assert design_heat_w(THERMAL_PATHS["air"], n, 700.0) == pytest.approx((0.0, wall))
    liquid = 4 * 700.0 * 0.9 + 1000.0 * 0.5
    assert design_heat_w(THERMAL_PATHS["liquid"], n, 700.0) == pytest.approx((liquid, wall - liquid))
    no_fans = (4 * 700.0 + 1000.0) / 0.95  # immersed nodes have no fans; all heat to the fluid
    assert design_heat_w(THERMAL_PATHS["immersion"], n, 700.0) == pytest.approx((no_fans, 0.0))


def test_sinks_share_one_call_shape():
    n = node(r_factor=np.array([1.0, 1.1, 0.9, 1.0]))
    supply = Supply(air_c=24.0, liquid_c=35.0)
    power, fans = np.full(4, 300.0), np.array([1.0])
    for name, path in THERMAL_PATHS.items():
        sink, r = path.sink(n, power, fans, supply)
        assert sink.shape == r.shape == (4,), name
    sink, r = THERMAL_PATHS["liquid"].sink(n, power, fans, supply)
    np.testing.assert_allclose(sink, 35.0)  # the supply: the coolant's rise is in the resistance
    np.testing.assert_allclose(r, 0.03 * n.r_factor + coolant_rise_resistance_k_w(n.cold_plate_flow_l_min))
