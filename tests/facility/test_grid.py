"""Grid signals: the CSV reader's contract, exact step means, fuel-weighted intensity, TOU tariffs."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from aidc.facility.grid import (
    BUNDLED_GRID_SIGNALS,
    EMISSION_FACTORS,
    HOURS_PER_YEAR,
    GridSignals,
    TouTariff,
    load_grid_signals,
    production_intensity_g_per_kwh,
    read_grid_csv,
)


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _year_rows(value=lambda h: 300.0 + h % 24) -> list[str]:
    return [f"{h},{value(h)}" for h in range(HOURS_PER_YEAR)]


# ---- carbon intensity from generation -----------------------------------------------------------


def test_production_intensity_by_hand():
    # 1000 MW coal + 1000 MW gas + 2000 MW nuclear: (820 + 490 + 2·12) / 4 = 333.5 g/kWh
    gen = {"coal": [1000.0], "nat_gas": [1000.0], "nuclear": [2000.0]}
    ci = production_intensity_g_per_kwh(gen, EMISSION_FACTORS["ipcc_ar5_lifecycle"])
    assert ci[0] == pytest.approx(333.5, abs=1e-12)


def test_production_intensity_ignores_pumping_and_names_missing_fuels():
    factors = EMISSION_FACTORS["ipcc_ar5_lifecycle"]
    ci = production_intensity_g_per_kwh({"nuclear": [1000.0], "hydro": [-500.0]}, factors)
    assert ci[0] == pytest.approx(12.0)  # pumping is load, not a negative producer
    with pytest.raises(ValueError, match="other"):
        production_intensity_g_per_kwh({"coal": [1.0], "other": [1.0]}, factors)
    with pytest.raises(ValueError, match="hour 1"):
        production_intensity_g_per_kwh({"coal": [1.0, 0.0]}, factors)


# ---- step means ---------------------------------------------------------------------------------


def _signals() -> GridSignals:
    rng = np.random.default_rng(7)
    carbon = rng.uniform(150.0, 450.0, HOURS_PER_YEAR)
    price = rng.uniform(-20.0, 120.0, HOURS_PER_YEAR)
    return GridSignals("test", "random", carbon, price)


def test_at_holds_the_hour():
    s = _signals()
    assert s.at(10.0) == s.at(10.999) == (s.carbon_g_per_kwh[10], s.price_usd_per_mwh[10])
    assert s.at(HOURS_PER_YEAR + 3.5)[0] == s.carbon_g_per_kwh[3]  # the year wraps


def test_mean_is_exact_within_and_across_hours():
    s = _signals()
    c = s.carbon_g_per_kwh
    assert s.mean(5.25, 0.5)[0] == pytest.approx(c[5], rel=1e-12)
    assert s.mean(5.5, 1.0)[0] == pytest.approx(0.5 * (c[5] + c[6]), rel=1e-12)
    across_new_year = s.mean(HOURS_PER_YEAR - 0.5, 1.0)[0]
    # the running integral reaches ~2.6e6 g/kWh·h by December: float rounding of 1e-16 of that
    assert across_new_year == pytest.approx(0.5 * (c[-1] + c[0]), rel=1e-9)


@pytest.mark.parametrize("dt_h", [1.0, 0.25, 1 / 60, 7 / 60, 5.0])
def test_a_year_of_steps_of_any_length_adds_up(dt_h):
    s = _signals()
    n = round(HOURS_PER_YEAR / dt_h)
    starts = np.arange(n) * dt_h
    steps = [s.mean(t, dt_h) for t in starts]
    carbon_h = sum(c for c, _ in steps) * dt_h
    price_h = sum(p for _, p in steps) * dt_h
    span = n * dt_h
    assert carbon_h == pytest.approx(s.mean(0.0, span)[0] * span, rel=1e-9)
    if span == HOURS_PER_YEAR:
        assert carbon_h == pytest.approx(s.carbon_g_per_kwh.sum(), rel=1e-9)
        assert price_h == pytest.approx(s.price_usd_per_mwh.sum(), rel=1e-9)


def test_signals_reject_bad_arrays():
    with pytest.raises(ValueError, match=r"carbon_g_per_kwh: shape \(24,\)"):
        GridSignals("x", "y", np.ones(24))
    bad = np.ones(HOURS_PER_YEAR)
    bad[9] = np.nan
    with pytest.raises(ValueError, match="hour 9"):
        GridSignals("x", "y", bad)
    with pytest.raises(ValueError, match="negative"):
        GridSignals("x", "y", -np.ones(HOURS_PER_YEAR))


# ---- the CSV reader -----------------------------------------------------------------------------


def test_read_hour_of_year_csv_and_gzip(tmp_path):
    rows = [f"{h},{300 + h % 24},{40.0 - h % 3}" for h in range(HOURS_PER_YEAR)]
    p = _write(tmp_path / "site.csv", "hour_of_year,carbon_g_per_kwh,price_usd_per_mwh", rows)
    s = read_grid_csv(p)
    assert s.carbon_g_per_kwh[25] == 301.0 and s.price_usd_per_mwh[2] == 38.0
    gz = tmp_path / "site.csv.gz"
    gz.write_bytes(gzip.compress(p.read_bytes()))
    np.testing.assert_array_equal(read_grid_csv(gz).carbon_g_per_kwh, s.carbon_g_per_kwh)


def test_read_utc_timestamps_into_local_standard_time(tmp_path):
    # EST = UTC − 5 h: the local year 2023 runs from 2023-01-01 05:00 UTC to 2024-01-01 04:00 UTC
    t0 = np.datetime64("2023-01-01T05:00")
    rows = [f"{t0 + np.timedelta64(h, 'h')}+00:00,{h % 500}" for h in range(HOURS_PER_YEAR)]
    p = _write(tmp_path / "utc.csv", "timestamp,carbon_g_per_kwh", rows)
    s = read_grid_csv(p, utc_offset_h=-5.0)
    np.testing.assert_array_equal(s.carbon_g_per_kwh, np.arange(HOURS_PER_YEAR) % 500)
    with pytest.raises(ValueError, match="utc_offset_h"):
        read_grid_csv(p)
    rows_utc_year = [
        f"{np.datetime64('2023-01-01T00:00') + np.timedelta64(h, 'h')}+00:00,1" for h in range(8)
    ]
    q = _write(tmp_path / "utc_year.csv", "timestamp,carbon_g_per_kwh", rows_utc_year)
    with pytest.raises(ValueError, match="one calendar year"):
        read_grid_csv(q, utc_offset_h=-5.0)


def test_read_drops_a_leap_day(tmp_path):
    t0 = np.datetime64("2024-01-01T00:00")
    rows = [f"{t0 + np.timedelta64(h, 'h')},{h}" for h in range(8784)]
    s = read_grid_csv(_write(tmp_path / "leap.csv", "timestamp,carbon_g_per_kwh", rows))
    assert s.carbon_g_per_kwh[59 * 24 - 1] == 59 * 24 - 1  # 28 February 23:00
    assert s.carbon_g_per_kwh[59 * 24] == 60 * 24  # then 1 March 00:00


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("5,nan", r"row 7: carbon_g_per_kwh = 'nan' must be finite"),
        ("5,inf", r"row 7: carbon_g_per_kwh = 'inf' must be finite"),
        ("5,-1", r"row 7: carbon_g_per_kwh = '-1' must be ≥ 0"),
        ("5,abc", r"row 7: carbon_g_per_kwh = 'abc' is not a number"),
        ("4,300", r"row 7: hour 4 appears twice"),
        ("5.5,300", r"row 7: hour 5.5 is not a whole hour"),
        ("8760,300", r"row 7: hour 8760 is not a whole hour"),
    ],
)
def test_read_names_file_row_column_value_and_rule(tmp_path, row, message):
    rows = _year_rows()
    rows[5] = row  # the file's line 7 (line 1 is the header)
    p = _write(tmp_path / "bad.csv", "hour_of_year,carbon_g_per_kwh", rows)
    with pytest.raises(ValueError, match=message) as e:
        read_grid_csv(p)
    assert "bad.csv" in str(e.value)


def test_read_requires_every_hour_and_the_columns(tmp_path):
    p = _write(tmp_path / "short.csv", "hour_of_year,carbon_g_per_kwh", _year_rows()[:-2])
    with pytest.raises(ValueError, match="hour 8758 is missing"):
        read_grid_csv(p)
    q = _write(tmp_path / "cols.csv", "hour_of_year,co2", _year_rows())
    with pytest.raises(ValueError, match="no carbon_g_per_kwh column"):
        read_grid_csv(q)
    with pytest.raises(FileNotFoundError):
        read_grid_csv(tmp_path / "absent.csv")


def test_bundled_registry():
    for name in BUNDLED_GRID_SIGNALS:
        s = load_grid_signals(name)
        assert s.carbon_g_per_kwh.shape == (HOURS_PER_YEAR,)
    with pytest.raises(KeyError, match="unknown grid signals"):
        load_grid_signals("no-such-grid")


def test_ercot_2022_is_the_processing_the_readme_states():
    # the figures of facility/data/grid/README.md: mean, range, the evening peak of the solar day
    ci = load_grid_signals("ercot-2022").carbon_g_per_kwh
    assert ci.mean() == pytest.approx(347.56, abs=0.01)
    assert (ci.min(), ci.max()) == pytest.approx((111.2, 516.7), abs=0.05)
    by_hour = ci.reshape(365, 24).mean(axis=0)  # local standard time (CST)
    assert int(np.argmax(by_hour)) in (18, 19) and int(np.argmin(by_hour)) in (0, 1, 2, 3)


# ---- time-of-use tariff -------------------------------------------------------------------------

# A made-up two-period tariff (numbers for the test only): on-peak weekdays 13:00-21:00 in June to
# September and 06:00-13:00 in October to May, the hours of Duke Energy Carolinas' Schedule OPT
# (Duke Energy, considercarolina.com "Rates", undated).
_SUMMER = range(5, 9)


def _opt_like(first_weekday: int = 6) -> TouTariff:  # 2023-01-01 was a Sunday
    weekday = np.zeros((12, 24), dtype=int)
    for month in range(12):
        hours = range(13, 21) if month in _SUMMER else range(6, 13)
        weekday[month, list(hours)] = 1
    return TouTariff(
        "opt-like", "test", weekday, np.zeros((12, 24), dtype=int), (0.05, 0.10), 10.0, (1,), first_weekday
    )


def test_tariff_periods_by_hand():
    t = _opt_like()
    assert t.period(0.0) == 0  # Sunday 1 January
    assert t.period(24 + 6) == 1  # Monday 2 January 06:00, winter on-peak
    assert t.period(24 + 13) == 0  # Monday 13:00, off-peak in winter
    july_3 = (31 + 28 + 31 + 30 + 31 + 30 + 2) * 24  # Monday 3 July 2023
    assert t.period(july_3 + 13) == 1 and t.period(july_3 + 12) == 0 and t.period(july_3 + 20.5) == 1
    assert t.period(july_3 - 24 + 14) == 0  # Sunday 2 July
    assert t.energy_price_usd_per_kwh(24 + 6) == 0.10


def test_tariff_cost_by_hand():
    t = _opt_like()
    # Monday 2 January: 1000 kW all day, one 15-min spike to 3000 kW at 08:00 (on-peak) and one to
    # 5000 kW at 22:00 (off-peak, does not set the billing demand)
    p = np.full(96, 1000.0)
    p[8 * 4], p[22 * 4] = 3000.0, 5000.0
    bill = t.cost_usd(p, 0.25, start_hour_of_year=24.0)
    on_kwh = 7 * 1000.0 + 2000.0 * 0.25
    off_kwh = 17 * 1000.0 + 4000.0 * 0.25
    assert bill.energy_usd == pytest.approx(on_kwh * 0.10 + off_kwh * 0.05, rel=1e-12)
    assert bill.billing_demand_kw == {0: 3000.0}
    assert bill.total_usd == pytest.approx(bill.energy_usd + 30_000.0)
    hourly = t.cost_usd(p.reshape(-1, 4).mean(axis=1), 1.0, start_hour_of_year=24.0)
    assert hourly.energy_usd == pytest.approx(bill.energy_usd, rel=1e-12)
    assert hourly.billing_demand_kw == {0: 1500.0}  # an hour's mean hides the 15-minute spike


def test_tariff_validates():
    with pytest.raises(ValueError, match="weekday_periods"):
        TouTariff("x", "y", np.full((12, 24), 2), np.zeros((12, 24), dtype=int), (0.1, 0.2), 1.0)
    with pytest.raises(ValueError, match="dt_h"):
        _opt_like().cost_usd(np.ones(10), 0.3)
