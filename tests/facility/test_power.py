"""The power chain: the UPS loss curve through its fit points, 800 V DC against AC, and the
energy balance of every output."""

import pytest

from aidc.facility.power import (
    TRANSFORMER_MV_LV,
    UPS_DOUBLE_CONVERSION,
    PowerChain,
    conversion_loss_quadratic,
)


@pytest.mark.parametrize(("load", "eff"), [(0.25, 0.940), (0.5, 0.960), (1.0, 0.965)])
def test_ups_curve_reproduces_its_fit_points(load, eff):
    loss = conversion_loss_quadratic(load, 1.0, *UPS_DOUBLE_CONVERSION)
    assert load / (load + loss) == pytest.approx(eff, abs=5e-4)


def test_dc_800v_chain_loses_less_than_ac():
    ac = PowerChain(1e6, "ac", 0.985, 0.0).step(0.8e6, 0.0)
    dc = PowerChain(1e6, "dc_800v", 0.985, 0.0).step(0.8e6, 0.0)
    assert dc.distribution_loss_w < ac.distribution_loss_w
    assert ac.facility_w == pytest.approx(ac.it_w + ac.distribution_loss_w)


def test_loss_curve_hand_values():
    # rated 1 MW at half load: 1 MW · (0.013 + 0.008·0.5 + 0.0153·0.25)
    assert conversion_loss_quadratic(0.5e6, 1e6, *UPS_DOUBLE_CONVERSION) == pytest.approx(20_825.0)
    assert conversion_loss_quadratic(-1.0, 1e6, *TRANSFORMER_MV_LV) == pytest.approx(2_000.0)  # no load
    assert conversion_loss_quadratic(1e6, 0.0, *UPS_DOUBLE_CONVERSION) == 0.0


@pytest.mark.parametrize("distribution", ["ac", "dc_800v"])
def test_facility_power_is_the_sum_of_its_parts_and_cooling_skips_the_ups(distribution):
    chain = PowerChain(2e6, distribution, 0.985, 50e3)
    a = chain.step(1.5e6, 0.0)
    b = chain.step(1.5e6, 300e3)
    assert a.facility_w == pytest.approx(a.it_w + a.distribution_loss_w + a.cooling_w + a.other_w)
    assert a.ups_loss_w == b.ups_loss_w and a.pdu_loss_w == b.pdu_loss_w  # cooling is not on the UPS
    assert b.transformer_loss_w > a.transformer_loss_w  # but it is on the transformer
    assert b.other_w == 50e3 and chain.config()["rated_it_w"] == pytest.approx(2.5e6)
