"""Day-ahead forecasts of an hourly series (a grid's carbon intensity or price, a site's load): what
a controller planning the next day knows at midnight, from the days before.

Methods by name (:data:`FORECASTERS`), each ``(history, horizon_h) -> forecast``:

* ``seasonal-naive``: tomorrow repeats today, hour by hour (the baseline every forecaster must
  beat; Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §5.2);
* ``holt-winters``: additive Holt-Winters exponential smoothing with a 24-hour season, no trend,
  fitted by maximum likelihood on the last ``HISTORY_DAYS`` days (statsmodels'
  ``ExponentialSmoothing``; Hyndman & Athanasopoulos §8.3).

:func:`day_ahead_errors` scores a method over a year the way it would be used: a forecast of
each day at its midnight from the days before it only.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from statsmodels.tools.sm_exceptions import ConvergenceWarning
from statsmodels.tsa.holtwinters import ExponentialSmoothing

FloatArray = NDArray[np.float64]

HOURS_PER_DAY = 24
HISTORY_DAYS = 14
"""Days of history a forecast is fitted on (two weeks: both weekdays and weekends, and the season
of the year close by)."""


def seasonal_naive(history: FloatArray, horizon_h: int = HOURS_PER_DAY) -> FloatArray:
    """The last day, repeated over ``horizon_h`` hours."""
    last_day = np.asarray(history, dtype=np.float64)[-HOURS_PER_DAY:]
    return np.resize(last_day, horizon_h)


def holt_winters(history: FloatArray, horizon_h: int = HOURS_PER_DAY) -> FloatArray:
    """Additive Holt-Winters with a daily season on the last :data:`HISTORY_DAYS` days."""
    y = np.asarray(history, dtype=np.float64)[-HISTORY_DAYS * HOURS_PER_DAY :]
    model = ExponentialSmoothing(y, trend=None, seasonal="add", seasonal_periods=HOURS_PER_DAY)
    with warnings.catch_warnings():  # a fit that stops at its iteration limit still forecasts
        warnings.simplefilter("ignore", ConvergenceWarning)
        fit = model.fit()
    return np.asarray(fit.forecast(horizon_h), dtype=np.float64)


FORECASTERS: dict[str, Callable[[FloatArray, int], FloatArray]] = {
    "seasonal-naive": seasonal_naive,
    "holt-winters": holt_winters,
}
"""Day-ahead forecasters by name."""


def day_ahead(series: FloatArray, hour: int, method: str = "holt-winters") -> FloatArray:
    """The forecast of the 24 hours from ``hour`` (a midnight of ``series``, a year of hourly
    values), from the :data:`HISTORY_DAYS` days before it (the year wraps: January's first
    forecasts read December's end, the same clock hours a year apart)."""
    if method not in FORECASTERS:
        raise ValueError(f"forecast method {method!r} is not one of {', '.join(FORECASTERS)}")
    n = HISTORY_DAYS * HOURS_PER_DAY
    history = np.take(np.asarray(series, dtype=np.float64), np.arange(hour - n, hour), mode="wrap")
    return FORECASTERS[method](history, HOURS_PER_DAY)


def day_ahead_errors(series: FloatArray, method: str, days: range) -> dict[str, float]:
    """Mean absolute error and mean absolute percentage error of ``method``'s day-ahead
    forecasts of ``days`` (day indices of ``series``) against what came."""
    errors, actuals = [], []
    for day in days:
        hour = day * HOURS_PER_DAY
        actual = np.take(series, np.arange(hour, hour + HOURS_PER_DAY), mode="wrap")
        errors.append(day_ahead(series, hour, method) - actual)
        actuals.append(actual)
    err, act = np.concatenate(errors), np.concatenate(actuals)
    return {"mae": float(np.mean(np.abs(err))), "mape_pct": float(100.0 * np.mean(np.abs(err) / np.abs(act)))}
