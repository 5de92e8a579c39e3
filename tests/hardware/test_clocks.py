"""Clock limits of a step: the boost ceiling at each junction temperature and the power limit for
an activity; a tensor-parallel group paced by its hottest GPU."""

from __future__ import annotations

import numpy as np
import pytest

from aidc.hardware import gpu as g
from aidc.hardware.catalog import get_gpu
from aidc.hardware.clocks import ClockLimits, free_activity

H100 = get_gpu("H100-SXM")


def test_ceiling_follows_temperature_and_halves_at_slowdown():
    lim = ClockLimits.at(H100, 700.0, np.array([35.0, 50.0, H100.slowdown_temp_c]))
    assert lim.ceiling_mhz[0] == H100.clock_max_mhz  # below where Boost sheds clock
    assert lim.ceiling_mhz[1] == pytest.approx(H100.clock_max_mhz - 10 * H100.boost_mhz_per_c)
    shed = H100.clock_max_mhz - (H100.slowdown_temp_c - H100.boost_temp_start_c) * H100.boost_mhz_per_c
    assert lim.ceiling_mhz[2] == pytest.approx(0.5 * shed)


def test_the_power_limited_clock_meets_the_cap():
    temps = np.array([45.0, 70.0])
    lim = ClockLimits.at(H100, 600.0, temps)
    f = lim.clock_mhz(np.array([1.0, 1.0]))
    assert np.all(f < lim.ceiling_mhz)
    np.testing.assert_allclose(g.gpu_power(1.0, f, temps, H100), 600.0, atol=1e-3)
    # an activity at the free activity runs at the ceiling and draws exactly the cap
    a = free_activity(600.0, temps, lim.ceiling_mhz, H100)
    np.testing.assert_allclose(g.gpu_power(a, lim.ceiling_mhz, temps, H100), 600.0)
    np.testing.assert_allclose(lim.clock_mhz(a * 0.99), lim.ceiling_mhz)


def test_a_group_runs_at_its_hottest_gpus_limit():
    temps = np.array([40.0, 48.0, 66.0, 45.0, 39.0, 41.0])
    lim = ClockLimits.at(H100, 700.0, temps)
    first, second = lim.groups(slice(0, 6), [4, 2])
    assert first.temp_c == 66.0 and second.temp_c == 41.0
    assert first.ceiling_mhz == pytest.approx(lim.ceiling_mhz[2])
    busy = 0.95
    assert first.mhz(busy) == pytest.approx(float(lim.clock_mhz(np.full(6, busy))[2]))
    assert first.mhz(busy) <= min(lim.clock_mhz(np.full(6, busy))[:4])
    assert second.mhz(0.1) == second.ceiling_mhz  # light work is not power-limited
