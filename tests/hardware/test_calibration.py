"""Device calibration: Guideline 14's statistics by hand, the RC the fit integrates against the
twin's own step, and the fit recovering a GPU the twin generated with known parameters and noise."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from aidc.hardware import gpu
from aidc.hardware.calibration import (
    POWER_PARAMETERS,
    DeviceTrace,
    ThermalPath,
    _leakage_law,
    calibrate,
    guideline14,
    rc_response,
    simulate_device,
    split_segments,
)
from aidc.hardware.catalog import get_gpu
from conftest import TRUE_PATH, TRUE_SPLIT, synthetic_gpu_trace

H100 = get_gpu("H100-SXM")
CATALOG_PATH = ThermalPath(0.032 + 0.0048, 600.0)  # the hall's default cold plate + coolant rise


@pytest.fixture(scope="module")
def fitted():
    trace, _ = synthetic_gpu_trace()
    return calibrate(trace, H100, CATALOG_PATH)


def test_guideline14_statistics_by_hand():
    # errors y − ŷ = −1, 1, −3: Σ = −3, Σ² = 11, ȳ = 20
    a = guideline14(np.array([10.0, 20.0, 30.0]), np.array([11.0, 19.0, 33.0]))
    assert a.cv_rmse_pct == pytest.approx(100 * math.sqrt(11 / 3) / 20)
    assert a.nmbe_pct == pytest.approx(-5.0)
    b = guideline14(np.array([10.0, 20.0, 30.0]), np.array([11.0, 19.0, 33.0]), parameters=1)
    assert b.nmbe_pct == pytest.approx(-7.5)  # n − p = 2
    assert (
        a.meets_guideline14 and not guideline14(np.array([1.0, 1.0]), np.array([0.5, 0.5])).meets_guideline14
    )
    with pytest.raises(ValueError, match="cannot judge"):
        guideline14(np.array([1.0]), np.array([1.0]), parameters=1)


def test_rc_response_is_the_twins_step_without_leakage():
    t = np.array([0.0, 1.0, 3.0, 7.0])
    trace = DeviceTrace(
        t,
        np.full(4, 40.0),
        np.array([500.0, 100.0, 650.0]),
        np.full(4, 1980.0),
        np.ones(4),
        np.array([25.0, 30.0, 30.0, 40.0]),
    )
    path = ThermalPath(0.04, 700.0)
    temp, expected = 40.0, [40.0]
    for k in range(3):
        temp = float(
            gpu.junction_temperature_rc(
                temp, trace.sink_c[k], trace.power_w[k], 0.04, 700.0, t[k + 1] - t[k]
            ).end_c
        )
        expected.append(temp)
    np.testing.assert_allclose(rc_response(trace, path), expected, rtol=1e-12)


def test_rc_response_with_leakage_follows_the_twins_step():
    """Driven by the mean powers the twin's step booked, the RC with the leakage rising within each
    step finds the twin's temperatures again: exactly for the leakage the step integrates
    (linearized), within 0.01 K for the exponential the step books at its mean temperature."""
    spec = dataclasses.replace(H100, **TRUE_SPLIT)
    t = np.arange(0.0, 600.0, 5.0)  # 5 s steps: the within-step leakage matters
    activity = np.where((t // 100) % 2 == 0, 0.8, 0.2)
    sink = np.full(t.size, 30.0)
    clock = np.full(t.size, 1980.0)
    path = ThermalPath(*TRUE_PATH)
    run = simulate_device(spec, path, t, activity, sink, 45.0, clock_mhz=clock)
    assert run.temp_c.max() < 75.0  # the regime the single exponential is valid in
    trace = DeviceTrace(t, run.temp_c, run.power_w, clock, activity, sink)
    with_leakage = np.abs(rc_response(trace, path, _leakage_law(trace, spec)) - run.temp_c).max()
    without = np.abs(rc_response(trace, path) - run.temp_c).max()
    assert with_leakage < 0.01 and with_leakage < 0.6 * without


def test_split_segments_hold_out_every_third_and_share_their_ends():
    train, held = split_segments(101, 10, 3)
    assert held == [(20, 30), (50, 60), (80, 90)]
    assert len(train) == 7 and train[0] == (0, 10) and train[-1] == (90, 100)
    with pytest.raises(ValueError):
        split_segments(101, 2, 3)


def test_the_fit_recovers_the_twins_gpu_within_two_percent(fitted):
    for name in POWER_PARAMETERS:
        assert getattr(fitted.spec, name) == pytest.approx(TRUE_SPLIT[name], rel=0.02), name
    assert fitted.path.resistance_k_w == pytest.approx(TRUE_PATH[0], rel=0.02)
    assert fitted.path.capacitance_j_k == pytest.approx(TRUE_PATH[1], rel=0.02)


def test_held_out_parts_meet_five_percent_and_beat_the_catalog(fitted):
    after, before = fitted.after, fitted.before
    assert after["temp_c"].cv_rmse_pct <= 5.0 and abs(after["temp_c"].nmbe_pct) <= 1.0
    assert after["power_w"].cv_rmse_pct <= 5.0
    assert after["temp_c"].rmse < 0.5 * before["temp_c"].rmse
    assert after["power_w"].rmse < 0.5 * before["power_w"].rmse
    assert fitted.held_out_s == pytest.approx(3 * 720.0)


def test_a_fixed_parameter_is_held():
    trace, _ = synthetic_gpu_trace(seconds=2400)
    cal = calibrate(trace, H100, CATALOG_PATH, fixed={"leakage_doubling_c": 10.0})
    assert cal.spec.leakage_doubling_c == 10.0
    assert cal.spec.static_power_w != H100.static_power_w


def test_a_trace_checks_its_shape():
    t = np.arange(4.0)
    with pytest.raises(ValueError, match="one value per interval"):
        DeviceTrace(t, t, t, t, t, t)
    with pytest.raises(ValueError, match="increase"):
        DeviceTrace(np.array([0.0, 2.0, 1.0]), t[:3], t[:2], t[:3], t[:3], t[:3])
