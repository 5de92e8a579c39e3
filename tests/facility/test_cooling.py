import pytest

from aidc.facility import cooling as c
from aidc.facility.power import UPS_DOUBLE_CONVERSION, PowerChain, conversion_loss_quadratic


@pytest.mark.parametrize("key", list(c.CHILLER_CURVES))
def test_chiller_meets_reference_cop_at_reference_point(key):
    curves = c.CHILLER_CURVES[key]
    # EnergyPlus normalizes CAP(T) and EIR(T) to ~1 at the reference temperatures.
    ref = {"doe2-centrifugal-5.50cop": (6.67, 29.4), "mcquay-pfh-2124kw-6.03cop": (8.89, 23.89)}[key]
    power, plr = c.chiller_power_doe2(1e6, 1e6, *ref, curves)
    assert plr == pytest.approx(1.0, abs=0.02)
    assert 1e6 / power == pytest.approx(curves.cop_ref, rel=0.03)


def test_chiller_cycles_below_minimum_part_load():
    curves = c.CHILLER_CURVES["doe2-centrifugal-5.50cop"]
    p_min, _ = c.chiller_power_doe2(0.1e6, 1e6, 6.67, 29.4, curves)
    p_half, _ = c.chiller_power_doe2(0.05e6, 1e6, 6.67, 29.4, curves)
    assert p_half == pytest.approx(p_min / 2.0, rel=1e-6)


def test_economizer_fraction_edges():
    assert c.waterside_economizer_fraction(20.0, 14.0, 10.0) == 1.0
    assert c.waterside_economizer_fraction(20.0, 14.0, 22.0) == 0.0
    assert c.waterside_economizer_fraction(20.0, 14.0, 17.0) == pytest.approx(0.5)


def test_tower_water_hand_value():
    # 1 MW for one hour: 3.6 GJ / 2.43 MJ/kg = 1481.5 kg evaporated, plus 1/3 of it as blowdown.
    assert c.cooling_tower_water_kg(1e6, 3600.0) == pytest.approx(3.6e9 / 2.43e6 * 4 / 3)


def test_pump_affinity_cube_and_minimum_flow():
    p = c.Pump(design_flow_m3_s=0.1, head_pa=200e3, efficiency=0.7)
    assert p.power_w(0.1) == pytest.approx(0.1 * 200e3 / 0.7)
    assert p.power_w(0.05) == pytest.approx(0.1 * 200e3 / 0.7 / 8)
    assert p.power_w(0.0) == pytest.approx(0.1 * 200e3 / 0.7 * 0.3**3)


def test_heat_rejection_fan_holds_setpoint_or_saturates():
    s, approach = c.heat_rejection_fan_speed(1.0, 4.0, 4.0, 0.2)
    assert (s, approach) == (pytest.approx(1.0), 4.0)
    s, approach = c.heat_rejection_fan_speed(0.5, 4.0, 4.0, 0.2)
    assert s == pytest.approx(0.5 ** (1 / 0.6)) and approach == 4.0
    s, approach = c.heat_rejection_fan_speed(1.0, 4.0, 2.0, 0.2)
    assert s == 1.0 and approach == 4.0


@pytest.mark.parametrize(("load", "eff"), [(0.25, 0.940), (0.5, 0.960), (1.0, 0.965)])
def test_ups_curve_reproduces_its_fit_points(load, eff):
    loss = conversion_loss_quadratic(load, 1.0, *UPS_DOUBLE_CONVERSION)
    assert load / (load + loss) == pytest.approx(eff, abs=5e-4)


def test_dc_800v_chain_loses_less_than_ac():
    ac = PowerChain(1e6, "ac", 0.985, 0.0).step(0.8e6, 0.0)
    dc = PowerChain(1e6, "dc_800v", 0.985, 0.0).step(0.8e6, 0.0)
    assert dc.distribution_loss_w < ac.distribution_loss_w
    assert ac.facility_w == pytest.approx(ac.it_w + ac.distribution_loss_w)
