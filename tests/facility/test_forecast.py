"""Day-ahead forecasts: the seasonal-naive baseline by hand, Holt-Winters learning a daily shape,
and both scored on the bundled ERCOT signal the way a controller uses them."""

from __future__ import annotations

import numpy as np
import pytest

from aidc.facility.forecast import day_ahead, day_ahead_errors, holt_winters, seasonal_naive
from aidc.facility.grid import load_grid_signals
from aidc.scenario import validate_scenario
from aidc.sim.build import build_simulation
from conftest import example_dict


def test_seasonal_naive_repeats_the_last_day():
    history = np.arange(48.0)
    np.testing.assert_array_equal(seasonal_naive(history, 36), np.resize(np.arange(24.0, 48.0), 36))


def test_holt_winters_learns_a_daily_shape_under_noise():
    rng = np.random.default_rng(0)
    hours = np.arange(14 * 24)
    shape = 300.0 + 100.0 * np.sin(2 * np.pi * hours / 24)
    forecast = holt_winters(shape + rng.normal(0.0, 10.0, hours.size))
    truth = 300.0 + 100.0 * np.sin(2 * np.pi * np.arange(24) / 24)
    assert np.mean(np.abs(forecast - truth)) < 10.0


def test_a_forecast_reads_only_the_days_before_it():
    series = np.arange(8760.0)
    poisoned = series.copy()
    poisoned[24 * 30 :] = -1.0  # what comes after the midnight of day 30
    np.testing.assert_array_equal(day_ahead(series, 24 * 30, "seasonal-naive"), np.arange(24 * 29, 24 * 30))
    np.testing.assert_array_equal(
        day_ahead(series, 24 * 30, "holt-winters"), day_ahead(poisoned, 24 * 30, "holt-winters")
    )
    with pytest.raises(ValueError, match="not one of"):
        day_ahead(series, 0, "crystal-ball")


def test_holt_winters_beats_the_naive_day_ahead_on_ercot():
    # one day a week through the bundled year (the README gives every day's figures)
    ci = load_grid_signals("ercot-2022").carbon_g_per_kwh
    naive = day_ahead_errors(ci, "seasonal-naive", range(3, 365, 7))
    hw = day_ahead_errors(ci, "holt-winters", range(3, 365, 7))
    assert hw["mae"] < 0.8 * naive["mae"]


def test_the_same_forecasts_serve_a_sites_own_load():
    # 16 July days of an 8-GPU liquid hall under load in Greensboro: the hourly facility power
    d = example_dict("cooling_matters_liquid.toml")
    d["duration_s"], d["dt_s"], d["warmup_s"] = 16 * 86400.0, 900.0, 0.0
    d["weather"] = {"climate": "greensboro-nc", "start": "07-01 00:00"}
    sim = build_simulation(validate_scenario(d))
    hourly = np.array([rec.chain.facility_w for rec in sim.run()]).reshape(-1, 4).mean(axis=1)
    for method in ("seasonal-naive", "holt-winters"):
        assert day_ahead_errors(hourly, method, range(14, 16))["mape_pct"] < 3.0
