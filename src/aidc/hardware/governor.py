"""The power limiter: the highest clock whose board power fits under the cap, per GPU.

Board power on the linear voltage–frequency curve is a cubic in the clock
(:func:`aidc.hardware.gpu.gpu_power`); :func:`power_limit_governor` solves it for the cap by
Newton's method, over numpy arrays, or by its compiled kernel
(:func:`aidc.hardware.kernels.governor`) where the inputs are per-GPU arrays. Work whose
activity changes with the clock is an :data:`ActivityLaw`; the common one, a compute phase that
stretches as 1/f beside one that does not, is :class:`RationalActivity`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aidc.hardware import kernels
from aidc.hardware.catalog import GPUSpec
from aidc.hardware.gpu import leakage_power_exponential

FloatArray = NDArray[np.float64]


def _power_curve(junction_temp_c: ArrayLike, spec: GPUSpec) -> tuple[float, float, FloatArray, float]:
    """Coefficients of P(f) = static + V·(leak + dyn·a·V·f), V = v0 + k·f on the linear V–f curve:
    (k [V/MHz], v0 [V], leak [W/V], dyn [W/(V²·MHz)])."""
    k, v0, dyn = _vf_line(spec)
    return k, v0, leakage_power_exponential(junction_temp_c, 1.0, spec), dyn  # leakage per volt


def _vf_line(spec: GPUSpec) -> tuple[float, float, float]:
    """The temperature-free coefficients of :func:`_power_curve`: (k, v0, dyn)."""
    k = (spec.voltage_max_v - spec.voltage_idle_v) / (spec.clock_max_mhz - spec.clock_idle_mhz)
    v0 = spec.voltage_idle_v - k * spec.clock_idle_mhz
    return k, v0, spec.dynamic_max_w / (spec.voltage_max_v**2 * spec.clock_max_mhz)


ActivityLaw = Callable[[FloatArray], tuple[FloatArray, FloatArray]]
"""Work whose switching activity depends on the clock: f [MHz] → (activity, d activity / d f)."""


class RationalActivity(NamedTuple):
    """An :data:`ActivityLaw` of the form a(f) = (A + B·f)/(C + D·f), a'(f) = S/(C + D·f)² with
    S = B·C − A·D, one set of coefficients per GPU: work whose compute phase stretches as 1/f beside
    a phase that does not (:mod:`aidc.workload.jobs`). The governor runs it compiled."""

    rows: FloatArray  # A, B, C, D, S: shape (5, GPUs)

    @classmethod
    def of(cls, a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray) -> RationalActivity:
        return cls(np.stack([a, b, c, d, b * c - a * d]).astype(np.float64))

    def __call__(self, clock_mhz: FloatArray) -> tuple[FloatArray, FloatArray]:
        a, b, c, d, slope = self.rows
        den = c + d * clock_mhz
        return (a + b * clock_mhz) / den, slope / (den * den)


def power_limit_governor(
    power_cap_w: ArrayLike,
    activity: ArrayLike | ActivityLaw,
    junction_temp_c: ArrayLike,
    clock_ceiling_mhz: ArrayLike,
    spec: GPUSpec,
    initial_mhz: ArrayLike | None = None,
    max_iterations: int = 8,
    tol_mhz: float = 0.01,
) -> FloatArray:
    """Highest clock whose total power fits under the cap [MHz].

    Solves P(f) = cap for f on [clock_min, ceiling], with P from :func:`gpu_power`. On the
    linear V–f curve P(f) is a cubic in f, increasing and convex for f ≥ 0, so Newton's method
    started at the ceiling (where P > cap whenever the cap binds) converges monotonically from
    above: six iterations reach a residual below 1e-6 W for every catalog GPU. Started from
    ``initial_mhz`` (the previous step's solution, a warm start), a start below the root lands
    above it after one step (convexity) and converges monotonically from there; a start near the
    root converges in two. Iteration stops when no clock moves by more than ``tol_mhz``, or after
    ``max_iterations``; quadratic convergence leaves the returned clock within ~1e-6 MHz of the
    root, far below the hardware's 15 MHz clock bins (``nvidia-smi -q -d SUPPORTED_CLOCKS`` on
    H100). GPUs whose power at the ceiling is already under the cap keep the ceiling. A cap below
    the power at the minimum clock returns the minimum clock (the hardware cannot go lower; the
    cap is then violated, as on real GPUs).

    ``activity`` may be an :data:`ActivityLaw`: work whose activity changes with the clock (a
    compute phase stretching as 1/f beside communication that does not). Newton then solves the
    clock and the activity together, P(f, a(f)) = cap, with dP/df including a'(f); P stays
    increasing in f as long as a(f)·f does, which holds for such work (its switching events per
    second rise with the clock).

    The real governor acts every few milliseconds on discrete clock bins; its steady state,
    computed here continuously, is what matters at the twin's steps (≥ 1 s).
    """
    args = (
        power_cap_w,
        activity,
        junction_temp_c,
        clock_ceiling_mhz,
        spec,
        initial_mhz,
        max_iterations,
        tol_mhz,
    )
    compiled = _governor_compiled(*args)
    return compiled if compiled is not None else _governor_numpy(*args)


def _governor_numpy(
    power_cap_w: ArrayLike,
    activity: ArrayLike | ActivityLaw,
    junction_temp_c: ArrayLike,
    clock_ceiling_mhz: ArrayLike,
    spec: GPUSpec,
    initial_mhz: ArrayLike | None,
    max_iterations: int,
    tol_mhz: float,
) -> FloatArray:
    """:func:`power_limit_governor` over numpy arrays (any shapes that broadcast): the reference."""
    cap = np.asarray(power_cap_w, dtype=np.float64)
    ceiling = np.asarray(clock_ceiling_mhz, dtype=np.float64)
    law = activity if callable(activity) else None
    a = np.asarray(0.0 if law else activity, dtype=np.float64)
    if initial_mhz is None:
        f = np.array(np.broadcast_to(ceiling, np.broadcast_shapes(ceiling.shape, a.shape)), dtype=np.float64)
    else:
        # never start below 1 MHz: the cubic's convexity (and so the monotone convergence) holds for f ≥ 0
        f = np.minimum(np.maximum(np.asarray(initial_mhz, dtype=np.float64), 1.0), ceiling)
    k, v0, leak, dyn = _power_curve(junction_temp_c, spec)
    leak_k = leak * k
    for _ in range(max_iterations):
        v = v0 + k * f
        if law is not None:
            a, da = law(f)
        dyn_v = dyn * a * v
        dp = leak_k + dyn_v * (2.0 * k * f + v)
        if law is not None:  # the activity's own change with the clock
            dp = dp + dyn * da * v * v * f
        p = spec.static_power_w + v * (leak + dyn_v * f)
        f_next = np.minimum(f - (p - cap) / dp, ceiling)
        step = np.abs(f_next - f)
        f = f_next
        if step.size == 0 or np.maximum.reduce(step, axis=None) < tol_mhz:  # np.max, without its wrapper
            break
    return np.minimum(np.maximum(f, spec.clock_min_mhz), ceiling)  # np.clip, without its overhead


def _governor_compiled(
    power_cap_w: ArrayLike,
    activity: ArrayLike | ActivityLaw,
    junction_temp_c: ArrayLike,
    clock_ceiling_mhz: ArrayLike,
    spec: GPUSpec,
    initial_mhz: ArrayLike | None,
    max_iterations: int,
    tol_mhz: float,
) -> FloatArray | None:
    """:func:`power_limit_governor` by its compiled kernel (:func:`aidc.hardware.kernels.governor`)
    where it applies: kernels enabled, one cap, and per-GPU arrays of one length for the
    temperature, the ceiling, the activity (or a :class:`RationalActivity`) and the warm start;
    None otherwise (the numpy lines then run)."""
    temp, ceiling = junction_temp_c, clock_ceiling_mhz
    if not (kernels.enabled() and isinstance(temp, np.ndarray) and temp.ndim == 1):
        return None
    if not isinstance(power_cap_w, float | int):
        return None
    n = temp.size
    if not (isinstance(ceiling, np.ndarray) and ceiling.shape == (n,)):
        return None
    if isinstance(activity, RationalActivity):
        law, rational = activity.rows, True
    elif isinstance(activity, np.ndarray) and activity.shape == (n,):
        law, rational = activity.reshape(1, n), False
    else:
        return None
    warm = initial_mhz is not None
    if warm and not (isinstance(initial_mhz, np.ndarray) and initial_mhz.shape == (n,)):
        return None
    k, v0, dyn = _vf_line(spec)
    leak_per_v = spec.leakage_ref_w * (1.0 / spec.voltage_max_v)  # leakage_power_exponential's factor
    return kernels.governor(
        float(power_cap_w), np.ascontiguousarray(law, dtype=np.float64), rational,
        np.ascontiguousarray(temp, dtype=np.float64), np.ascontiguousarray(ceiling, dtype=np.float64),
        np.ascontiguousarray(initial_mhz if warm else temp, dtype=np.float64), warm, k, v0, dyn,
        spec.static_power_w, leak_per_v, spec.leakage_ref_temp_c, spec.leakage_doubling_c,
        spec.clock_min_mhz, max_iterations, tol_mhz,
    )  # fmt: skip
