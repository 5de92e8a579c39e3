"""Min/max-preserving downsampling of a time series for plotting.

A chart is drawn on about a thousand pixel columns, so a year sampled every 10 s (3.2 million
points) carries thousands of samples per column. Keeping each bucket's smallest and largest sample,
in time order, draws the same envelope as the full series (the MinMax variant of M4: Jugel et al.,
"M4: A Visualization-Oriented Time Series Data Aggregation", PVLDB 7(10), 2014), so no peak, dip or
throttling event disappears the way it does under striding or averaging.

It lives in ``aidc.control`` (layer 6) so that both the evaluation page here and the run report
(``aidc.report``, layer 7) can use it (docs/architecture.md: imports go down the layers only).
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.typing import NDArray

MAX_POINTS = 2000  # two per pixel column of a ~1000 px wide plot area


def minmax_indices(y: NDArray[np.floating], max_points: int = MAX_POINTS) -> NDArray[np.intp]:
    """Indices (ascending) of the samples of ``y`` to draw: all of them when there are at most
    ``max_points``; else the first and last sample and, for each of ``(max_points - 2) // 2``
    buckets of consecutive samples, its smallest and largest one. A bucket holding a gap (NaN) also
    keeps its first NaN, so the line still breaks there. Without gaps at most ``max_points``
    indices are returned, and the global minimum and maximum are among them.
    """
    y = np.asarray(y, dtype=float)
    n = y.size
    if max_points < 4:
        raise ValueError(f"max_points must be at least 4, got {max_points}")
    if n <= max_points:
        return np.arange(n)
    gaps = np.isnan(y)
    low, high = np.where(gaps, np.inf, y), np.where(gaps, -np.inf, y)
    edges = np.linspace(0, n, (max_points - 2) // 2 + 1).astype(np.intp)
    keep = [np.array([0, n - 1])]
    for a, b in itertools.pairwise(edges):
        keep.append(a + np.array([np.argmin(low[a:b]), np.argmax(high[a:b])]))
        if gaps[a:b].any():
            keep.append(a + np.argmax(gaps[a:b], keepdims=True))
    return np.unique(np.concatenate(keep))


def downsample(
    x: NDArray[np.floating], y: NDArray[np.floating], max_points: int = MAX_POINTS
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """``x`` and ``y`` at :func:`minmax_indices` of ``y``, as float32: plotly writes numpy arrays
    base64-encoded, 4 bytes a value in float32 against ~18 characters for a float in JSON text."""
    idx = minmax_indices(y, max_points)
    return np.asarray(x)[idx].astype(np.float32), np.asarray(y, dtype=float)[idx].astype(np.float32)
