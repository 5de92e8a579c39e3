"""One GPU's device parameters fitted to a measured trace, and how well a model matches one.

The model fitted is the twin's own (:mod:`aidc.hardware.gpu`): board power = static + leakage +
dynamic on the linear V–f curve, and a first-order thermal RC from the junction to its sink. A
trace is what NVML and the site's sensors give: junction temperature, board power (best from the
energy counter), SM clock, utilization, and the sink's temperature (coolant at the cold plate, or
the immersion fluid).

What is fitted, and how (a two-stage least-squares fit, SciPy's ``least_squares``):

1. **Power split**: static power, leakage at the reference temperature, the leakage's doubling
   temperature and the dynamic power at full activity, by least squares on the measured mean
   power of each sample interval given its measured clock, activity and temperature (an
   algebraic fit: the measured temperature is the regressor). Static power and leakage separate
   only when the trace holds one clock and activity at several temperatures (idle and loaded
   periods at two or more coolant temperatures: the protocol in the README); the voltage curve
   stays the catalog's (it is not separable from the split at a fixed clock).
2. **Thermal path**: junction-to-sink resistance and heat capacity, by an *output-error* fit:
   the RC driven by the measured power and sink, integrated from each segment's first measured
   temperature, against the measured temperatures. Output error, not one-step-ahead regression,
   because the sensor's noise (NVML reports whole °C) would bias the latter.

The fit is then judged the way building-energy twins are, by ASHRAE Guideline 14's CV(RMSE) and
NMBE, on held-out segments of the trace that no fit saw, with the twin's coupled device model
(:func:`simulate_device`: power and temperature predicted together, from the clock, activity and
sink alone), before (catalog parameters) and after.

Validity: one GPU at a time; the activity is the recorded utilization, so the fitted dynamic
power is that of the recorded workload at full utilization (record a power-virus kernel to get
the catalog's meaning, "the most power-hungry sustained kernel"); air-cooled GPUs need their fan
speed, which NVML does not report for data-center parts, so they are not calibrated here.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares

from aidc.hardware import governor, gpu
from aidc.hardware.catalog import GPUSpec

FloatArray = NDArray[np.float64]

POWER_PARAMETERS = ("static_power_w", "leakage_ref_w", "leakage_doubling_c", "dynamic_max_w")
"""The fields of :class:`~aidc.hardware.catalog.GPUSpec` the power fit sets."""

_SPLIT_BOUND_TDP = 4.0
"""Leakage and dynamic power are bounded by this many TDPs in the fit: far above any real part
(the catalog's are 0.4–0.7 TDP), a bound only to keep the search finite."""

_SERIES_BELOW = 1e-6
"""|x| below which :func:`rc_response` takes φ and ψ from their first-order series (in scalar
arithmetic the closed forms lose digits there; cf. :data:`aidc.hardware.gpu._SERIES_BELOW`)."""

GUIDELINE14_HOURLY = {"cv_rmse_pct": 30.0, "nmbe_pct": 10.0}
"""ASHRAE Guideline 14-2014's calibration criteria for hourly data: CV(RMSE) ≤ 30 %, |NMBE| ≤ 10 %."""


@dataclass(frozen=True)
class DeviceTrace:
    """One GPU's trace, one element per sample.

    ``power_w[k]`` is the mean board power between samples k and k+1 (n − 1 values); the clock,
    activity and sink of sample k hold until sample k+1, as within one of the twin's steps.
    """

    t_s: FloatArray  # sample times [s], increasing
    temp_c: FloatArray  # junction temperature [°C]
    power_w: FloatArray  # mean board power over each interval [W], one fewer than samples
    clock_mhz: FloatArray  # SM clock [MHz]
    activity: FloatArray  # switching activity [0–1] (utilization)
    sink_c: FloatArray  # coolant at the cold plate or immersion fluid [°C]

    def __post_init__(self) -> None:
        n = len(self.t_s)
        for name in ("temp_c", "clock_mhz", "activity", "sink_c"):
            if len(getattr(self, name)) != n:
                raise ValueError(f"{name} has {len(getattr(self, name))} samples, t_s has {n}")
        if len(self.power_w) != n - 1:
            raise ValueError(f"power_w needs one value per interval ({n - 1}), has {len(self.power_w)}")
        if n < 3:
            raise ValueError(f"a trace needs at least 3 samples, has {n}")
        if not np.all(np.diff(self.t_s) > 0.0):
            raise ValueError("t_s must increase strictly")

    @property
    def dt_s(self) -> FloatArray:
        return np.diff(self.t_s)

    def part(self, first: int, last: int) -> DeviceTrace:
        """Samples ``first`` to ``last`` inclusive."""
        return DeviceTrace(
            self.t_s[first : last + 1],
            self.temp_c[first : last + 1],
            self.power_w[first:last],
            self.clock_mhz[first : last + 1],
            self.activity[first : last + 1],
            self.sink_c[first : last + 1],
        )


@dataclass(frozen=True)
class ThermalPath:
    """A GPU's junction-to-sink thermal path (the twin's one-node RC)."""

    resistance_k_w: float
    capacitance_j_k: float


@dataclass(frozen=True)
class Agreement:
    """How well a prediction matches measurements (ASHRAE Guideline 14-2014)."""

    n: int
    rmse: float  # in the measured quantity's unit
    cv_rmse_pct: float
    nmbe_pct: float  # positive: the model predicts low

    @property
    def meets_guideline14(self) -> bool:
        """Within Guideline 14's hourly criteria (:data:`GUIDELINE14_HOURLY`)."""
        return (
            self.cv_rmse_pct <= GUIDELINE14_HOURLY["cv_rmse_pct"]
            and abs(self.nmbe_pct) <= GUIDELINE14_HOURLY["nmbe_pct"]
        )


def guideline14(measured: FloatArray, predicted: FloatArray, parameters: int = 0) -> Agreement:
    """CV(RMSE) and NMBE of ``predicted`` against ``measured`` [%].

    CV(RMSE) = √(Σ(y − ŷ)²/(n − p)) / ȳ and NMBE = Σ(y − ŷ) / ((n − p)·ȳ), both × 100, with p the
    number of parameters fitted on these same points (the definitions of ASHRAE Guideline 14-2014,
    "Measurement of Energy, Demand, and Water Savings"; p = 0 on held-out data, which no fit saw).
    Both are relative to the measured mean, so a temperature's depends on its scale's zero: in °C
    (as the Frontier twin and this module report) it is ~6× what it would be in kelvin.
    """
    y = np.asarray(measured, dtype=np.float64)
    err = y - np.asarray(predicted, dtype=np.float64)
    dof = y.size - parameters
    if dof <= 0:
        raise ValueError(f"{y.size} points cannot judge {parameters} fitted parameters")
    mean = float(y.mean())
    rmse = math.sqrt(float(err @ err) / dof)
    return Agreement(y.size, rmse, 100.0 * rmse / mean, 100.0 * float(err.sum()) / (dof * mean))


@dataclass(frozen=True)
class DeviceRun:
    """What :func:`simulate_device` predicts, one element per sample (power per interval)."""

    temp_c: FloatArray
    power_w: FloatArray
    clock_mhz: FloatArray


def simulate_device(
    spec: GPUSpec,
    path: ThermalPath,
    t_s: FloatArray,
    activity: FloatArray,
    sink_c: FloatArray,
    temp0_c: float,
    *,
    clock_mhz: FloatArray | None = None,
    power_cap_w: float | None = None,
) -> DeviceRun:
    """One GPU on its thermal path, stepped from sample to sample with the twin's device physics.

    With ``clock_mhz`` (measured clocks) the clock is an input; without it GPU Boost and the power
    limiter choose it each step (:func:`~aidc.hardware.gpu.boost_clock_limit`,
    :func:`~aidc.hardware.governor.power_limit_governor` under ``power_cap_w``, the TDP by default).
    Each step is :class:`aidc.sim.hall.HallSim`'s for one GPU: power at the step's start, the
    exact RC with the leakage linearized (none while the limiter holds the GPU at its cap), the
    step's power from the leakage at its mean temperature. A junction reaching the shutdown
    temperature is held there (where the hall's GPU trips); no hardware slowdown: a trace to
    calibrate on stays below it.
    """
    n = len(t_s)
    cap = spec.tdp_w if power_cap_w is None else power_cap_w
    temps, powers, clocks = np.empty(n), np.empty(n - 1), np.empty(n)
    temps[0] = t = temp0_c
    dts = np.diff(t_s)
    for k in range(n - 1):
        held = False
        if clock_mhz is None:
            ceiling = float(gpu.boost_clock_limit(t, spec))
            f = float(governor.power_limit_governor(cap, activity[k], t, ceiling, spec))
            held = f < ceiling
        else:
            f = float(clock_mhz[k])
        clocks[k] = f
        p0, leak = gpu.gpu_power_and_leakage(activity[k], f, t, spec)
        slope = 0.0 if held else gpu.leakage_slope_w_k(leak, spec)
        end, mean = gpu.junction_temperature_rc(
            t, sink_c[k], p0, path.resistance_k_w, path.capacitance_j_k, dts[k], slope
        )
        # a junction running away trips at shutdown (HallSim._junctions): held there, its leakage too
        mean = min(float(mean), spec.shutdown_temp_c)
        powers[k] = p0 if held else p0 - leak + gpu.leakage_at_temperature(leak, t, mean, spec)
        temps[k + 1] = t = min(float(end), spec.shutdown_temp_c)
    clocks[-1] = clocks[-2]
    return DeviceRun(temps, powers, clocks)


def fit_power_split(
    temp_c: FloatArray,
    clock_mhz: FloatArray,
    activity: FloatArray,
    power_w: FloatArray,
    spec: GPUSpec,
    fixed: dict[str, float] | None = None,
) -> GPUSpec:
    """``spec`` with :data:`POWER_PARAMETERS` fitted to measured (temperature, clock, activity,
    power) points by least squares; ``fixed`` holds any of them at a given value. Starts from the
    catalog's values; bounds keep every part non-negative and the doubling within 3–40 °C."""
    fixed = fixed or {}
    free = [name for name in POWER_PARAMETERS if name not in fixed]
    lower = {"static_power_w": 0.0, "leakage_ref_w": 0.0, "leakage_doubling_c": 3.0, "dynamic_max_w": 0.0}
    upper = {
        "static_power_w": spec.tdp_w,
        "leakage_ref_w": _SPLIT_BOUND_TDP * spec.tdp_w,
        "leakage_doubling_c": 40.0,
        "dynamic_max_w": _SPLIT_BOUND_TDP * spec.tdp_w,
    }
    x0 = [min(max(getattr(spec, name), lower[name]), upper[name]) for name in free]

    def trial(x: FloatArray) -> GPUSpec:
        return dataclasses.replace(spec, **fixed, **dict(zip(free, map(float, x), strict=True)))

    def residual(x: FloatArray) -> FloatArray:
        return gpu.gpu_power(activity, clock_mhz, temp_c, trial(x)) - power_w

    if len(power_w) < len(free):
        raise ValueError(f"{len(power_w)} points cannot fit {len(free)} parameters ({', '.join(free)})")
    fit = least_squares(
        residual, x0, bounds=([lower[n] for n in free], [upper[n] for n in free]), x_scale="jac"
    )
    return trial(fit.x)


def rc_response(
    trace: DeviceTrace, path: ThermalPath, leakage: tuple[FloatArray, float] | None = None
) -> FloatArray:
    """Junction temperatures of the thermal RC driven by the trace's measured mean powers and sinks
    [°C], from its first measured temperature.

    Without ``leakage``, T ← T_eq + (T − T_eq)·e^(−Δt/RC), T_eq = T_sink + P̄·R: exact for a power
    held over each interval. With ``leakage`` = (leakage at 0 °C at each interval's voltage [W],
    doubling temperature [°C]: :func:`_leakage_law`) the power rises with the temperature within
    the interval as the twin's step integrates it (:func:`~aidc.hardware.gpu.junction_temperature_rc`,
    the leakage linearized at the interval's start): the start power P₀ that gives the measured
    mean P̄ = P₀ + g·(T̄ − T₀) is solved first (the mean is linear in P₀). The twin books the step's
    power with the exponential at T̄ instead; below 75 °C at 5 s steps the two differ by under
    0.01 K (tests/hardware/test_calibration.py). Scalar arithmetic: this runs in the fit's loop.
    """
    r, c, h = path.resistance_k_w, path.capacitance_j_k, trace.dt_s.tolist()
    sinks, means = trace.sink_c[:-1].tolist(), trace.power_w.tolist()
    coeff = leakage[0].tolist() if leakage else [0.0] * len(means)
    per_k = math.log(2.0) / leakage[1] if leakage else 0.0
    doubling = leakage[1] if leakage else 1.0
    t = float(trace.temp_c[0])
    out = [t]
    for dt, sink, mean, lc in zip(h, sinks, means, coeff, strict=True):
        g = lc * 2.0 ** (t / doubling) * per_k if lc else 0.0  # dP_leak/dT at t [W/K]
        x = (1.0 / r - g) * dt / c
        small = abs(x) < _SERIES_BELOW
        phi = 1.0 - x / 2.0 if small else -math.expm1(-x) / x
        psi = 0.5 - x / 6.0 if small else (1.0 - phi) / x
        a = g * psi * dt / c
        p0 = (mean + a * (t - sink) / r) / (1.0 + a)
        t = max(t + (p0 - (t - sink) / r) * dt / c * phi, sink)
        out.append(t)
    return np.asarray(out)


def fit_thermal_path(
    traces: list[DeviceTrace], start: ThermalPath, spec: GPUSpec | None = None
) -> ThermalPath:
    """Resistance and capacitance fitted by output error over ``traces`` (each integrated from its
    first measured temperature with :func:`rc_response`, with the leakage of ``spec``'s power split
    when given), from ``start``; fitted in logarithms, so both stay positive."""
    leakages = [_leakage_law(p, spec) if spec else None for p in traces]

    def residual(x: FloatArray) -> FloatArray:
        path = ThermalPath(math.exp(x[0]), math.exp(x[1]))
        return np.concatenate(
            [rc_response(p, path, law)[1:] - p.temp_c[1:] for p, law in zip(traces, leakages, strict=True)]
        )

    x0 = [math.log(start.resistance_k_w), math.log(start.capacitance_j_k)]
    fit = least_squares(residual, x0, x_scale=1.0)
    return ThermalPath(math.exp(fit.x[0]), math.exp(fit.x[1]))


def _leakage_law(trace: DeviceTrace, spec: GPUSpec) -> tuple[FloatArray, float]:
    """(leakage at 0 °C at each interval's clock [W], doubling temperature [°C]) of ``spec``."""
    at_zero = gpu.leakage_power_exponential(0.0, 1.0, spec)  # per volt
    v = gpu.voltage_linear_vf(
        trace.clock_mhz[:-1], spec.clock_idle_mhz, spec.clock_max_mhz, spec.voltage_idle_v, spec.voltage_max_v
    )
    return at_zero * v, spec.leakage_doubling_c


def split_segments(
    n: int, blocks: int, holdout_every: int
) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The samples 0…n−1 cut into ``blocks`` contiguous segments (first, last sample, sharing
    their ends); every ``holdout_every``-th segment is held out: (training, held out)."""
    if blocks < 2 or holdout_every < 2 or blocks < holdout_every:
        raise ValueError("need blocks ≥ holdout_every ≥ 2 so that both parts have a segment")
    edges = np.linspace(0, n - 1, blocks + 1).round().astype(int)
    segments = [(int(a), int(b)) for a, b in itertools.pairwise(edges) if b - a >= 2]
    held = [s for i, s in enumerate(segments) if i % holdout_every == holdout_every - 1]
    return [s for s in segments if s not in held], held


@dataclass(frozen=True)
class Calibration:
    """The fitted device, and how it and the catalog's predict held-out parts of the trace."""

    spec: GPUSpec  # the catalog entry with the fitted power split
    path: ThermalPath
    before: dict[str, Agreement]  # catalog parameters on held-out segments: "temp_c", "power_w"
    after: dict[str, Agreement]  # fitted parameters on the same segments
    training: dict[str, Agreement]  # fitted parameters on the segments they were fitted to
    held_out_s: float


def _predict(trace: DeviceTrace, parts: list[tuple[int, int]], spec: GPUSpec, path: ThermalPath):
    temps, powers = [], []
    for first, last in parts:
        p = trace.part(first, last)
        run = simulate_device(spec, path, p.t_s, p.activity, p.sink_c, p.temp_c[0], clock_mhz=p.clock_mhz)
        temps.append((p.temp_c[1:], run.temp_c[1:]))
        powers.append((p.power_w, run.power_w))
    return {
        "temp_c": [np.concatenate(x) for x in zip(*temps, strict=True)],
        "power_w": [np.concatenate(x) for x in zip(*powers, strict=True)],
    }


def _agreement(pairs: dict[str, list[FloatArray]], parameters: int = 0) -> dict[str, Agreement]:
    return {
        name: guideline14(measured, predicted, parameters) for name, (measured, predicted) in pairs.items()
    }


def _fit_split(
    parts: list[DeviceTrace],
    path: ThermalPath,
    spec: GPUSpec,
    fixed: dict[str, float] | None,
    leakage: GPUSpec | None,
) -> GPUSpec:
    # the fit's temperature: the fitted RC's response to the measured power, not the sensor
    # itself, whose whole-degree steps would bias the leakage's slope (errors in the regressor)
    smooth = [rc_response(p, path, _leakage_law(p, leakage) if leakage else None) for p in parts]
    return fit_power_split(
        np.concatenate([0.5 * (t[:-1] + t[1:]) for t in smooth]),
        np.concatenate([p.clock_mhz[:-1] for p in parts]),
        np.concatenate([p.activity[:-1] for p in parts]),
        np.concatenate([p.power_w for p in parts]),
        spec,
        fixed,
    )


def calibrate(
    trace: DeviceTrace,
    spec: GPUSpec,
    start: ThermalPath,
    *,
    blocks: int = 10,
    holdout_every: int = 3,
    fixed: dict[str, float] | None = None,
) -> Calibration:
    """Fit the power split and the thermal path on the training segments of ``trace``
    (:func:`split_segments`) and judge catalog (``spec``, ``start``) and fit on the held-out ones."""
    train, held = split_segments(len(trace.t_s), blocks, holdout_every)
    parts = [trace.part(a, b) for a, b in train]
    path = fit_thermal_path(parts, start)
    fitted = _fit_split(parts, path, spec, fixed, None)
    # once more, the RC now with the fitted leakage rising within each interval (the twin's step)
    path = fit_thermal_path(parts, path, fitted)
    fitted = _fit_split(parts, path, fitted, fixed, fitted)
    free = len(POWER_PARAMETERS) - len(fixed or {}) + 2
    return Calibration(
        fitted,
        path,
        before=_agreement(_predict(trace, held, spec, start)),
        after=_agreement(_predict(trace, held, fitted, path)),
        training=_agreement(_predict(trace, train, fitted, path), free),
        held_out_s=float(sum(trace.t_s[b] - trace.t_s[a] for a, b in held)),
    )
