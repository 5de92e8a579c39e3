"""Compiled per-GPU kernels of the device physics (numba), beside the numpy functions they mirror.

The numpy functions of :mod:`aidc.hardware.gpu` and :mod:`aidc.hardware.node` are the reference:
readable, broadcasting, tested against their sources. A hall step over 10,000 GPUs runs a few dozen
of them, each a pass over memory with a temporary array; here the same arithmetic runs as one loop
per GPU, in the same order of operations, so the results agree to rounding (tests hold the two
paths to 1e-9 over whole runs). The kernels are compiled once per machine and cached beside this
file (``cache=True``).

``AIDC_KERNELS=numpy`` in the environment selects the reference path everywhere (to compare, or
on a platform without numba's LLVM); :func:`enabled` is what callers test.
"""

from __future__ import annotations

import math
import os

import numba
import numpy as np

USE_COMPILED = os.environ.get("AIDC_KERNELS", "numba") != "numpy"
"""Whether the compiled kernels run (tests flip it to compare the two paths in one process)."""


def enabled() -> bool:
    return USE_COMPILED


jit = numba.njit(cache=True, nogil=True, error_model="numpy")
"""Strict IEEE arithmetic, no fast-math flags: with reassociation or contraction allowed, LLVM may
order a sum differently where it inlines a kernel differently (a fresh compile against one loaded
from the cache), and a Ray worker's results drifted from the parent process's by an ulp; the
kernels must give every process the same bits."""

# the thermal paths by index, as aidc.hardware.node.THERMAL_PATHS names them
AIR, COLD_PLATE, IMMERSION = 0, 1, 2
_SERIES_BELOW = 1e-3  # as aidc.hardware.gpu._SERIES_BELOW
LN2 = math.log(2.0)  # the leakage exponential's ln 2 (doubling temperature → rate)


@jit
def governor(cap, law, rational, temp_c, ceiling, initial, warm, k, v0, dyn, static_w, leak_per_v,
             leak_ref_c, doubling_c, clock_min, max_iterations, tol_mhz):  # fmt: skip
    """:func:`aidc.hardware.governor.power_limit_governor` over arrays: ``law`` holds one activity per
    GPU in its first row (``rational`` False) or the rows A, B, C, D, S of the rational law
    a(f) = (A + B·f)/(C + D·f), a'(f) = S/(C + D·f)² (``RationalActivity``); ``k``, ``v0``,
    ``dyn`` the power curve's coefficients (its ``_power_curve``), ``leak_per_v`` the leakage per
    volt at ``leak_ref_c``. Every GPU iterates until no clock moves by more than ``tol_mhz``, as
    the reference does, so the two agree to rounding."""
    n = temp_c.size
    f, leak = np.empty(n), np.empty(n)
    for i in range(n):
        leak[i] = leak_per_v * 2.0 ** ((temp_c[i] - leak_ref_c) / doubling_c)
        f[i] = min(max(initial[i], 1.0), ceiling[i]) if warm else ceiling[i]
    for _ in range(max_iterations):
        largest = 0.0
        for i in range(n):
            fi = f[i]
            v = v0 + k * fi
            if rational:
                den = law[2, i] + law[3, i] * fi
                a, da = (law[0, i] + law[1, i] * fi) / den, law[4, i] / (den * den)
            else:
                a, da = law[0, i], 0.0
            dyn_v = dyn * a * v
            dp = leak[i] * k + dyn_v * (2.0 * k * fi + v) + dyn * da * v * v * fi
            p = static_w + v * (leak[i] + dyn_v * fi)
            f_next = min(fi - (p - cap) / dp, ceiling[i])
            largest = max(largest, abs(f_next - fi))
            f[i] = f_next
        if largest < tol_mhz:
            break
    for i in range(n):
        f[i] = min(max(f[i], clock_min), ceiling[i])
    return f


@jit
def power_constants(
    f_idle, f_max, v_idle, v_max, static_w, leak_ref_w, leak_ref_c, doubling_c, dynamic_max_w
):
    """The constants :func:`power_and_leakage` takes, its divisions done once: (idle clock, idle
    voltage, V–f slope, 1/max voltage, 1/max clock, static, leakage at the reference, the reference
    temperature, 1/doubling temperature, dynamic at the top point)."""
    slope = (v_max - v_idle) / (f_max - f_idle)
    inverse = (1.0 / v_max, 1.0 / f_max)
    return (
        f_idle,
        v_idle,
        slope,
        *inverse,
        static_w,
        leak_ref_w,
        leak_ref_c,
        1.0 / doubling_c,
        dynamic_max_w,
    )


@jit
def power_and_leakage(activity, clock_mhz, temp_c, pc):
    """:func:`aidc.hardware.gpu.gpu_power_and_leakage` of one GPU (``pc``: :func:`power_constants`)."""
    f_idle, v_idle, slope, inv_vmax, inv_fmax, static_w, leak_ref_w, leak_ref_c, inv_doubling, dyn_max = pc
    v = max(v_idle + slope * (clock_mhz - f_idle), v_idle)
    v_ratio = v * inv_vmax
    leakage = leak_ref_w * v_ratio * 2.0 ** ((temp_c - leak_ref_c) * inv_doubling)
    dynamic = activity * dyn_max * v_ratio * v_ratio * (clock_mhz * inv_fmax)
    return static_w + leakage + dynamic, leakage


@jit
def junction_rc(t0, sink, power_w, conductance_w_k, dt_over_c, slope_w_k):
    """:func:`aidc.hardware.gpu.junction_temperature_rc` of one GPU, given the sink's conductance
    1/R [W/K] and dt/C [K/J]: (end, mean) [°C]."""
    rate = (power_w - (t0 - sink) * conductance_w_k) * dt_over_c
    x = (conductance_w_k - slope_w_k) * dt_over_c
    if abs(x) < _SERIES_BELOW:
        phi = 1.0 - x / 2.0 + x * x / 6.0 - x**3 / 24.0
        psi = 0.5 - x / 6.0 + x * x / 24.0 - x**3 / 120.0
    else:
        inv_x = 1.0 / x
        phi = -math.expm1(-x) * inv_x
        psi = (1.0 - phi) * inv_x
    return max(t0 + rate * phi, sink), max(t0 + rate * psi, sink)


@jit
def clock_ceiling(temp_c, clock_max_mhz, clock_idle_mhz, mhz_per_c, boost_start_c, slowdown_c, factor):
    """:func:`aidc.hardware.gpu.boost_clock_limit` times
    :func:`~aidc.hardware.gpu.hardware_slowdown_factor` (``factor`` at or above ``slowdown_c``) of
    every GPU [MHz]."""
    out = np.empty(temp_c.size)
    for i in range(temp_c.size):
        t = temp_c[i]
        ceiling = max(clock_max_mhz - mhz_per_c * max(t - boost_start_c, 0.0), clock_idle_mhz)
        out[i] = ceiling * (factor if t >= slowdown_c else 1.0)
    return out


@jit
def histogram_add(hist, temp_c, mask, use_mask, low_c, bin_c):
    """Add each temperature (where ``mask``, if ``use_mask``) to ``hist``'s bin, the out-of-range
    ones to the end bins (as ``telemetry.metrics``' bincount of clipped indices)."""
    last = hist.size - 1
    for i in range(temp_c.size):
        if use_mask and not mask[i]:
            continue
        b = int((temp_c[i] - low_c) / bin_c)
        hist[min(max(b, 0), last)] += 1
