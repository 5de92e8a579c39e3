"""Cooling equipment: economizer share, tower water, pump and fan affinity laws, the trim chiller."""

import pytest

from aidc.facility import equipment as e
from aidc.facility.chillers import CHILLER_CURVES


def test_economizer_fraction_edges():
    assert e.waterside_economizer_fraction(20.0, 14.0, 10.0) == 1.0
    assert e.waterside_economizer_fraction(20.0, 14.0, 22.0) == 0.0
    assert e.waterside_economizer_fraction(20.0, 14.0, 17.0) == pytest.approx(0.5)


def test_tower_water_hand_value():
    # 1 MW for one hour: 3.6 GJ / 2.43 MJ/kg = 1481.5 kg evaporated, plus 1/3 of it as blowdown.
    assert e.cooling_tower_water_kg(1e6, 3600.0) == pytest.approx(3.6e9 / 2.43e6 * 4 / 3)


def test_pump_affinity_cube_and_minimum_flow():
    p = e.Pump(design_flow_m3_s=0.1, head_pa=200e3, efficiency=0.7)
    assert p.power_w(0.1) == pytest.approx(0.1 * 200e3 / 0.7)
    assert p.power_w(0.05) == pytest.approx(0.1 * 200e3 / 0.7 / 8)
    assert p.power_w(0.0) == pytest.approx(0.1 * 200e3 / 0.7 * 0.3**3)


def test_heat_rejection_fan_holds_setpoint_or_saturates():
    s, approach = e.heat_rejection_fan_speed(1.0, 4.0, 4.0, 0.2)
    assert (s, approach) == (pytest.approx(1.0), 4.0)
    s, approach = e.heat_rejection_fan_speed(0.5, 4.0, 4.0, 0.2)
    assert s == pytest.approx(0.5 ** (1 / 0.6)) and approach == 4.0
    s, approach = e.heat_rejection_fan_speed(1.0, 4.0, 2.0, 0.2)
    assert s == 1.0 and approach == 4.0


def test_trim_chiller_only_when_the_climate_is_too_warm():
    tower = e.HeatRejection("dry_cooler", 1e6, 8.0, 25.0)
    curves = CHILLER_CURVES["mcquay-pfh-2124kw-6.03cop"]
    args = (tower, curves, 2, 0.6e6, 30.0, 6.0)
    chiller_w, fan_w, water, free = e.reject_with_trim_chiller(1e6, *args, 15.0, 12.0, 60.0)
    assert chiller_w == 0.0 and free == 1.0 and water == 0.0 and fan_w > 0.0  # 15 °C + 8 K < 30 °C
    chiller_w, _, _, free = e.reject_with_trim_chiller(1e6, *args, 27.0, 20.0, 60.0)
    # 27 °C + 8 K leaves water 5 K above the setpoint: the chiller takes 5/6 of the load
    assert free == pytest.approx(1.0 - 5.0 / 6.0) and chiller_w > 0.0
