import numpy as np
import pytest

from aidc.plotting.downsample import downsample, minmax_indices


def test_a_short_series_is_kept_whole():
    y = np.array([3.0, 1.0, 2.0])
    assert minmax_indices(y, 4).tolist() == [0, 1, 2]
    x, ys = downsample(np.arange(3.0), y, 4)
    assert x.tolist() == [0.0, 1.0, 2.0] and ys.tolist() == [3.0, 1.0, 2.0]


def test_a_long_series_keeps_its_extremes_ends_and_time_order():
    rng = np.random.default_rng(0)
    y = rng.normal(size=100_001)
    y[12_345], y[67_890] = 9.0, -9.0  # one-sample spikes, as a throttling event or a trip
    idx = minmax_indices(y, 500)
    assert idx.size <= 500
    assert np.all(np.diff(idx) > 0)  # ascending, no repeats: time runs forward
    assert idx[0] == 0 and idx[-1] == y.size - 1
    assert {12_345, 67_890} <= set(idx.tolist())
    assert y[idx].max() == 9.0 and y[idx].min() == -9.0


def test_each_bucket_keeps_its_own_min_and_max():
    y = np.tile([0.0, 5.0, -5.0, 1.0], 250)  # 1000 samples
    idx = minmax_indices(y, 502)  # 250 buckets of 4 samples
    kept = y[idx]
    assert (kept == 5.0).sum() == 250 and (kept == -5.0).sum() == 250


def test_a_gap_stays_a_gap():
    y = np.linspace(0.0, 1.0, 10_000)
    y[5_000:5_010] = np.nan  # a hall with no busy GPU for a while
    idx = minmax_indices(y, 100)
    assert np.isnan(y[idx]).any()
    assert np.nanmax(y[idx]) == 1.0 and np.nanmin(y[idx]) == 0.0


def test_three_million_points_come_down_to_the_target():
    n = 3_153_600  # a year at 10 s steps
    t = np.arange(n) * 10.0
    y = np.sin(t / 86_400.0 * 2.0 * np.pi) + 1e-3 * np.arange(n) / n
    x, ys = downsample(t / 3600.0, y, 2000)
    assert x.size <= 2000 and x.dtype == np.float32 and ys.dtype == np.float32
    assert ys.max() == pytest.approx(y.max(), abs=1e-6) and ys.min() == pytest.approx(y.min(), abs=1e-6)


def test_too_few_points_is_refused():
    with pytest.raises(ValueError, match="max_points"):
        minmax_indices(np.arange(10.0), 3)
