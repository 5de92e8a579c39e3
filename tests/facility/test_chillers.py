"""Chillers: the DOE-2 / EnergyPlus EIR model at its reference point and below its minimum part load."""

import pytest

from aidc.facility.chillers import CHILLER_CURVES, chiller_plant_power, chiller_power_doe2


@pytest.mark.parametrize("key", list(CHILLER_CURVES))
def test_chiller_meets_reference_cop_at_reference_point(key):
    curves = CHILLER_CURVES[key]
    # EnergyPlus normalizes CAP(T) and EIR(T) to ~1 at the reference temperatures.
    ref = {"doe2-centrifugal-5.50cop": (6.67, 29.4), "mcquay-pfh-2124kw-6.03cop": (8.89, 23.89)}[key]
    power, plr = chiller_power_doe2(1e6, 1e6, *ref, curves)
    assert plr == pytest.approx(1.0, abs=0.02)
    assert 1e6 / power == pytest.approx(curves.cop_ref, rel=0.03)


def test_chiller_cycles_below_minimum_part_load():
    curves = CHILLER_CURVES["doe2-centrifugal-5.50cop"]
    p_min, _ = chiller_power_doe2(0.1e6, 1e6, 6.67, 29.4, curves)
    p_half, _ = chiller_power_doe2(0.05e6, 1e6, 6.67, 29.4, curves)
    assert p_half == pytest.approx(p_min / 2.0, rel=1e-6)


def test_plant_stages_the_fewest_units_and_shares_the_load():
    curves = CHILLER_CURVES["doe2-centrifugal-5.50cop"]
    one, _ = chiller_power_doe2(0.8e6, 1e6, 6.67, 29.4, curves)
    # 1.6 MW on four 1 MW units: two run at 0.8 MW each
    assert chiller_plant_power(1.6e6, 1e6, 4, 6.67, 29.4, curves) == pytest.approx(2 * one)
    assert chiller_plant_power(0.0, 1e6, 4, 6.67, 29.4, curves) == 0.0
