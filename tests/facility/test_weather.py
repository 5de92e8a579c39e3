import numpy as np
import pytest

from aidc.facility.weather import BUNDLED_CLIMATES, constant_weather, load_climate, load_tmy


@pytest.mark.parametrize("name", list(BUNDLED_CLIMATES))
def test_bundled_climates_load(name):
    w = load_climate(name)
    assert w.dry_bulb_c.size == 8760
    assert np.all(w.wet_bulb_c <= w.dry_bulb_c + 1e-6)


def test_climates_differ_as_they_should():
    miami, sand_point = load_climate("miami-fl"), load_climate("sand-point-ak")
    assert miami.dry_bulb_c.mean() > sand_point.dry_bulb_c.mean() + 15.0


def test_wet_bulb_psychrometric_chart_value():
    # ASHRAE psychrometric chart: 25 °C, 50 % RH at sea level → wet-bulb ≈ 17.9 °C.
    assert constant_weather(25.0, 0.5).wet_bulb_c[0] == pytest.approx(17.9, abs=0.15)


def test_interpolation_and_wrap():
    w = load_climate("greensboro-nc")
    mid = w.at(10.5)[0]
    assert mid == pytest.approx((w.dry_bulb_c[10] + w.dry_bulb_c[11]) / 2)
    assert w.at(8760.0 + 3.0)[0] == pytest.approx(w.dry_bulb_c[3])


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        load_tmy(str(tmp_path / "nope.csv"), "tmy3")
