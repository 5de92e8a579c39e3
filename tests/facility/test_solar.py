import math

import numpy as np
import pytest

from aidc.facility import solar
from aidc.facility.solar import PVPlant, PVSpec


@pytest.fixture(scope="module")
def greensboro():
    return solar.load_solar_climate("greensboro-nc")


@pytest.fixture(scope="module")
def greensboro_rack(greensboro):
    return solar.pvwatts_ac_power_w(PVSpec(1000.0), greensboro)


def test_default_losses_are_pvwattss_14_08_percent():
    # Dobos 2014: 1 − 0.98·0.97·0.98·0.98·0.995·0.985·0.99·0.97 = 14.0757 %.
    by_hand = 1.0 - 0.98 * 0.97 * 0.98 * 0.98 * 0.995 * 0.985 * 0.99 * 0.97
    losses_pct = solar.PVWATTS_LOSSES_PCT
    assert losses_pct == pytest.approx(100.0 * by_hand, abs=1e-9)
    assert round(losses_pct, 2) == 14.08


def test_golden_stc_point_1000_w_m2_25_c():
    # 1 MW at 1000 W/m², 25 °C cell: DC = 1000 kW × (1 − 0.140757) = 859.243 kW. The inverter's DC
    # rating is (1000/1.2)/0.96 = 868.056 kW, so ζ = 0.989848 and
    # η = 0.96/0.9637 × (−0.0162ζ − 0.0059/ζ + 0.9858) = 0.960104: AC = 824.963 kW (Dobos 2014).
    dc, ac = solar.pvwatts_dc_ac_w(PVSpec(1000.0), np.array([1000.0]), np.array([25.0]))
    assert dc[0] == pytest.approx(859_243.4, abs=0.1)
    assert ac[0] == pytest.approx(824_962.6, abs=0.1)


def test_clipping_at_the_inverter_ac_rating():
    spec = PVSpec(1000.0, dc_ac_ratio=1.5)
    _, ac = solar.pvwatts_dc_ac_w(spec, np.array([700.0, 1100.0, 1400.0]), np.full(3, 25.0))
    assert spec.ac_rating_w == pytest.approx(1e6 / 1.5)
    assert ac[1] == pytest.approx(spec.ac_rating_w) and ac[2] == pytest.approx(spec.ac_rating_w)
    assert ac[0] < spec.ac_rating_w


def test_temperature_derates_dc_by_gamma():
    spec = PVSpec(1000.0)
    dc, _ = solar.pvwatts_dc_ac_w(spec, np.full(3, 800.0), np.array([0.0, 25.0, 50.0]))
    assert dc[0] > dc[1] > dc[2]
    assert dc[2] / dc[1] == pytest.approx(1.0 + spec.gamma_pdc_per_c * 25.0)  # −0.37 %/°C × 25 °C
    assert spec.gamma_pdc_per_c == -0.0037


def test_zero_at_night_and_never_negative(greensboro, greensboro_rack):
    _, _, sun_up = solar.sun_position_interval_spa(greensboro)
    ac = greensboro_rack.ac_w
    assert np.all(ac >= 0.0)
    assert np.all(ac[~sun_up] == 0.0)
    assert np.all(ac[:5] == 0.0)  # 00:00-05:00 on 1 January
    assert 4000 < sun_up.sum() < 4800  # about half the year's hours at 36° N


def test_no_irradiance_is_lost_to_the_sun_position(greensboro):
    # Sunrise and sunset hours take the sun in their sunlit part, so the file's light is kept.
    _, _, sun_up = solar.sun_position_interval_spa(greensboro)
    beam_and_diffuse = greensboro.dni_w_m2 + greensboro.dhi_w_m2
    assert beam_and_diffuse[~sun_up].sum() < 1e-3 * beam_and_diffuse.sum()


def test_summer_solstice_noon_zenith(greensboro):
    # 21 June 12:00-13:00 EST at 36.1° N, 79.95° W: sun near transit, zenith ≈ 36.1 − 23.44 = 12.7°.
    zenith, azimuth, _ = solar.sun_position_interval_spa(greensboro)
    i = (31 + 28 + 31 + 30 + 31 + 20) * 24 + 12
    assert zenith[i] == pytest.approx(12.7, abs=1.5)
    assert 150.0 < azimuth[i] < 210.0


def test_cell_runs_hotter_than_the_air_in_sunshine(greensboro, greensboro_rack):
    lit = greensboro_rack.effective_irradiance_w_m2 > 500.0
    assert np.all(greensboro_rack.cell_temp_c[lit] > greensboro.temp_air_c[lit])


def test_roof_mount_runs_hotter_than_open_rack(greensboro):
    roof = solar.pvwatts_ac_power_w(PVSpec(1000.0, array_type="fixed_roof_mount"), greensboro)
    rack = solar.pvwatts_ac_power_w(PVSpec(1000.0), greensboro)
    lit = (roof.effective_irradiance_w_m2 > 500.0) & (rack.effective_irradiance_w_m2 > 500.0)
    rise_roof = (roof.cell_temp_c - greensboro.temp_air_c)[lit] / roof.effective_irradiance_w_m2[lit]
    rise_rack = (rack.cell_temp_c - greensboro.temp_air_c)[lit] / rack.effective_irradiance_w_m2[lit]
    assert np.all(rise_roof > rise_rack)  # NOCT 49 °C against 45 °C


def test_cover_passes_all_light_at_normal_incidence_and_less_when_oblique():
    one = np.array([1.0])
    at_normal = solar.cover_transmittance_desoto(
        np.array([0.0]), np.array([0.0]), 1000.0 * one, 0 * one, 0 * one
    )
    assert at_normal[0] == pytest.approx(1000.0, abs=1e-6)
    aoi = np.array([0.0, 30.0, 60.0, 80.0])
    beam = solar.cover_transmittance_desoto(aoi, np.zeros(4), np.full(4, 1.0), np.zeros(4), np.zeros(4))
    assert np.all(np.diff(beam) < 0.0)
    sky = solar.cover_transmittance_desoto(one, np.zeros(1), 0 * one, one, 0 * one)[0]
    assert 0.93 < sky < 0.98  # isotropic sky on a horizontal module, effective angle 59.7°


def test_sky_diffuse_factor_vertical_rows_closed_form():
    # β = 90°: the masking angle up the slant is atan(gcr·(1 − x)), the view ratio 1 − sin ψ, and
    # its mean over the slant 1 − (√(1 + gcr²) − 1)/gcr: 0.763932 at gcr 0.5.
    f = solar.row_sky_diffuse_factor_deline(np.array([90.0, 0.0]), 0.5)
    assert f[0] == pytest.approx(1.0 - (math.sqrt(1.25) - 1.0) / 0.5, abs=1e-4)
    assert f[1] == pytest.approx(1.0)


def test_ground_factor_closed_form_and_open_field_limit():
    # β = 90°, sun overhead: no shadow on the ground; the row sees the strip of length 1/gcr with
    # F = (1 + Y − √(1 + Y²))/2 against the open ground's 1/2: 1 + 2.5 − √7.25 = 0.807418 at gcr 0.4.
    one = np.array([1.0])
    f = solar.row_ground_factor_crossed_strings(np.array([90.0]), np.array([90.0]), 0.4, 500 * one, 100 * one)
    assert f[0] == pytest.approx(3.5 - math.sqrt(7.25), abs=1e-9)
    wide = solar.row_ground_factor_crossed_strings(
        np.array([20.0]), np.array([40.0]), 0.01, 500 * one, 100 * one
    )
    assert wide[0] == pytest.approx(1.0, abs=0.02)


def test_fixed_rack_loses_to_its_rows_and_a_tracker_gains(greensboro, greensboro_rack):
    roof = solar.pvwatts_ac_power_w(PVSpec(1000.0, array_type="fixed_roof_mount"), greensboro)
    tracker = solar.pvwatts_ac_power_w(
        PVSpec(1000.0, tilt_deg=0.0, array_type="one_axis_backtracking"), greensboro
    )
    assert greensboro_rack.poa_w_m2.sum() < roof.poa_w_m2.sum()
    assert tracker.ac_w.sum() > 1.05 * greensboro_rack.ac_w.sum()


@pytest.mark.parametrize("name", ["greensboro-nc", "sand-point-ak", "miami-fl"])
def test_tmy_files_read_as_hour_starts(name):
    res = solar.load_solar_climate(name)
    assert res.dni_w_m2.size == 8760 == len(res.interval_start)
    assert res.interval_start[0].hour == 0 and res.interval_start[0].month == 1
    assert np.nanmax(res.dni_w_m2) < 1100.0 and -60.0 < res.temp_air_c.min() < res.temp_air_c.max() < 50.0


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="tmy3"):
        solar.read_tmy_solar("whatever.epw", "epw")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("tilt_deg", 95.0, r"PVSpec\.tilt_deg = 95\.0 ° is outside PVWatts' 0 … 90"),
        ("azimuth_deg", 360.0, r"PVSpec\.azimuth_deg = 360\.0"),
        ("dc_capacity_kw", -1.0, r"PVSpec\.dc_capacity_kw = -1\.0 kW"),
        ("dc_ac_ratio", 0.0, r"PVSpec\.dc_ac_ratio = 0\.0 ratio"),
        ("inverter_efficiency_frac", 96.0, r"PVSpec\.inverter_efficiency_frac = 96\.0 fraction"),
        ("gcr_frac", float("nan"), r"PVSpec\.gcr_frac = nan"),
        ("array_type", "two_axis", r"PVSpec\.array_type = 'two_axis' is not one of fixed_open_rack"),
        ("module_type", "bifacial", r"PVSpec\.module_type = 'bifacial'"),
    ],
)
def test_spec_validation_names_field_value_and_rule(field, value, match):
    with pytest.raises(ValueError, match=match):
        PVSpec(**{"dc_capacity_kw": 1000.0, field: value})


def test_plant_interpolates_between_interval_middles_and_wraps(greensboro, greensboro_rack):
    plant = PVPlant(PVSpec(1000.0), greensboro)
    ac = greensboro_rack.ac_w
    i = 4000
    assert plant.power_w((i + 0.5) * 3600.0) == pytest.approx(ac[i])
    assert plant.power_w((i + 1.0) * 3600.0) == pytest.approx(0.5 * (ac[i] + ac[i + 1]))
    assert plant.power_w((8760 + i + 0.5) * 3600.0) == pytest.approx(ac[i])
    later = PVPlant(PVSpec(1000.0), greensboro, start_hour_of_year=i + 0.5)
    assert later.power_w(0.0) == pytest.approx(ac[i])


@pytest.mark.parametrize("dt_s", [3600.0, 900.0, 7 * 3600.0 + 13.0])
def test_a_year_of_steps_holds_the_series_energy_whatever_the_step(greensboro, greensboro_rack, dt_s):
    plant = PVPlant(PVSpec(1000.0), greensboro, start_hour_of_year=5000.25)
    year_s = 8760 * 3600.0
    t = 0.0
    while t < year_s - 1e-6:
        state = plant.step(t, min(dt_s, year_s - t))
        assert state.ac_power_w >= -1e-9
        t += dt_s
    assert plant.state().energy_kwh == pytest.approx(greensboro_rack.ac_w.sum() / 1000.0, rel=1e-9)


def test_plant_config_reports_the_spec_and_the_year(greensboro, greensboro_rack):
    config = PVPlant(PVSpec(1000.0, module_type="premium"), greensboro).config()
    assert config["module_type"] == "premium" and config["gamma_pdc_per_c"] == -0.0035
    assert config["ac_rating_kw"] == pytest.approx(1000.0 / 1.2, abs=1e-3)
    assert config["climate"] == "GREENSBORO PIEDMONT TRIAD INT"
    assert 1100.0 < config["specific_yield_kwh_per_kw"] < 1600.0  # North Carolina, 20° tilt
    with pytest.raises(ValueError, match="dt_s"):
        PVPlant(PVSpec(1000.0), greensboro).step(0.0, 0.0)
