"""GPU device physics as pure, vectorized functions.

Every function takes numpy arrays (one element per GPU) or scalars and broadcasts. Units are
SI except clocks in MHz and temperatures in °C. The models are deliberately compact, first-order
descriptions of what the hardware does; each docstring states its source and validity range.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aidc.hardware.catalog import GPUSpec

FloatArray = NDArray[np.float64]

HW_SLOWDOWN_CLOCK_FACTOR = 0.5
"""Clock multiplier while hardware thermal slowdown is asserted. NVIDIA documents HW Slowdown as
"reducing the core clocks by a factor of 2 or more" (nvidia-smi(1), clocks_event_reasons.hw_slowdown)."""

HEATSINK_AIRFLOW_EXPONENT = 0.8
"""Convective conductance of a finned heat sink grows as airflow^0.8 in turbulent channel flow
(Dittus–Boelter, Nu ∝ Re^0.8; Incropera, Fundamentals of Heat and Mass Transfer, 7th ed., eq. 8.60).
Laminar fins give ~0.5; 0.8 is the upper end, appropriate for high-speed server fans."""


def voltage_linear_vf(
    clock_mhz: ArrayLike, clock_idle_mhz: float, clock_max_mhz: float, v_idle: float, v_max: float
) -> FloatArray:
    """Core voltage on a linear voltage–frequency curve [V].

    Parameters
    ----------
    clock_mhz : core clock [MHz]
    clock_idle_mhz, clock_max_mhz : the curve's end points [MHz]
    v_idle, v_max : voltage at those clocks [V]

    Notes
    -----
    Real V–f tables are piecewise and slightly convex; a straight line between the idle and the
    maximum operating points is the first-order DVFS model of Mei et al., "A survey and
    measurement study of GPU DVFS on energy conservation", Digital Communications and Networks
    3 (2017). Below the idle clock the voltage stays at ``v_idle`` (the voltage floor).
    Valid for clocks between the idle and maximum clocks.
    """
    f = np.asarray(clock_mhz, dtype=np.float64)
    slope = (v_max - v_idle) / (clock_max_mhz - clock_idle_mhz)
    return np.maximum(v_idle + slope * (f - clock_idle_mhz), v_idle)


def dynamic_power_cmos(
    activity: ArrayLike, clock_mhz: ArrayLike, voltage_v: ArrayLike, spec: GPUSpec
) -> FloatArray:
    """Switching power P = a·C·V²·f [W], with C fixed by the power at the top operating point.

    ``activity`` in [0, 1] is the switching activity relative to the most power-hungry sustained
    kernel (a=1 draws ``spec.dynamic_max_w`` at ``clock_max_mhz`` and ``voltage_max_v``).
    Source: the CMOS dynamic-power equation (Weste & Harris, CMOS VLSI Design, 4th ed., §5.1).
    """
    v_ratio = np.asarray(voltage_v) / spec.voltage_max_v
    f_ratio = np.asarray(clock_mhz) / spec.clock_max_mhz
    return np.asarray(activity) * spec.dynamic_max_w * v_ratio * v_ratio * f_ratio


def leakage_power_exponential(junction_temp_c: ArrayLike, voltage_v: ArrayLike, spec: GPUSpec) -> FloatArray:
    """Leakage power rising exponentially with junction temperature [W].

    P_leak = P_ref · (V/V_max) · 2^((T_j − T_ref)/ΔT_2)

    Notes
    -----
    Subthreshold leakage current grows exponentially with temperature; over the 25–100 °C range
    a single exponential with a doubling temperature ΔT_2 describes it to within a few percent
    (Liao, He & Lepak, "Temperature and supply voltage aware performance and power modeling at
    microarchitecture level", IEEE TCAD 24(7), 2005, eq. 9 linearized in the exponent). The linear
    voltage factor is the V·I_leak product at fixed current density. ΔT_2 for the catalog GPUs is
    a calibration (see :mod:`aidc.hardware.catalog`) on data between 35 and 72 °C.

    .. warning:: With the catalog's 10 °C doubling, Hopper's leakage alone passes ~560 W near
       80 °C, which real parts do not show: the single exponential is too steep there. Treat
       results with junctions above ~75 °C as qualitative (the governor then floors the clock,
       and hardware slowdown and shutdown take over).
    """
    t = np.asarray(junction_temp_c, dtype=np.float64)
    return (
        spec.leakage_ref_w
        * (np.asarray(voltage_v) / spec.voltage_max_v)
        * np.exp2((t - spec.leakage_ref_temp_c) / spec.leakage_doubling_c)
    )


def gpu_power(
    activity: ArrayLike, clock_mhz: ArrayLike, junction_temp_c: ArrayLike, spec: GPUSpec
) -> FloatArray:
    """Board power: static + leakage + dynamic [W] at the given clock and temperature."""
    return gpu_power_and_leakage(activity, clock_mhz, junction_temp_c, spec)[0]


def gpu_power_and_leakage(
    activity: ArrayLike, clock_mhz: ArrayLike, junction_temp_c: ArrayLike, spec: GPUSpec
) -> tuple[FloatArray, FloatArray]:
    """:func:`gpu_power` [W] and its leakage part [W] (what rises with temperature)."""
    v = voltage_linear_vf(
        clock_mhz, spec.clock_idle_mhz, spec.clock_max_mhz, spec.voltage_idle_v, spec.voltage_max_v
    )
    leakage = leakage_power_exponential(junction_temp_c, v, spec)
    return spec.static_power_w + leakage + dynamic_power_cmos(activity, clock_mhz, v, spec), leakage


def boost_clock_limit(junction_temp_c: ArrayLike, spec: GPUSpec) -> FloatArray:
    """Highest clock GPU Boost grants at a junction temperature [MHz].

    Boost sheds clock linearly above ``boost_temp_start_c`` at ``boost_mhz_per_c`` (the average
    of its discrete ~13 MHz bins), never below the idle clock. This is what makes a hot but
    un-throttled GPU slower than a cool one. Valid up to the slowdown temperature, where
    :func:`hardware_slowdown_factor` takes over.
    """
    t = np.asarray(junction_temp_c, dtype=np.float64)
    shed = spec.boost_mhz_per_c * np.maximum(t - spec.boost_temp_start_c, 0.0)
    return np.maximum(spec.clock_max_mhz - shed, spec.clock_idle_mhz)


def hardware_slowdown_factor(junction_temp_c: ArrayLike, spec: GPUSpec) -> FloatArray:
    """Clock multiplier from the hardware thermal slowdown: 0.5 at or above the slowdown
    temperature, 1 below it (nvidia-smi(1), HW Thermal Slowdown)."""
    t = np.asarray(junction_temp_c, dtype=np.float64)
    return np.where(t >= spec.slowdown_temp_c, HW_SLOWDOWN_CLOCK_FACTOR, 1.0)


class JunctionStep(NamedTuple):
    end_c: FloatArray  # junction temperature at the end of the step [°C]
    mean_c: FloatArray  # its average over the step [°C]


def junction_temperature_rc(
    junction_temp_c: ArrayLike,
    sink_temp_c: ArrayLike,
    power_w: ArrayLike,
    resistance_k_w: ArrayLike,
    capacitance_j_k: ArrayLike,
    dt_s: float,
    power_slope_w_k: ArrayLike = 0.0,
) -> JunctionStep:
    """Junction temperature over ``dt_s`` of a first-order thermal RC whose power rises with it [°C].

    C·dT/dt = P(T) − (T − T_sink)/R with P(T) = P₀ + g·(T − T₀) (``power_w`` = P₀ at the start
    temperature T₀, ``power_slope_w_k`` = g, the leakage feedback linearized at T₀), integrated
    exactly for constant P₀, g and T_sink. With k = 1/R − g, x = k·dt/C and the initial rate
    F₀ = (P₀ − (T₀ − T_sink)/R)/C:

        T(dt) = T₀ + F₀·dt·φ(x),   φ(x) = (1 − e^(−x))/x
        T̄     = T₀ + F₀·dt·ψ(x),   ψ(x) = (1 − φ(x))/x   (the mean over the step)

    so the step's mean power is P₀ + g·(T̄ − T₀), whatever ``dt_s`` is. Written in the conductance
    1/R, this stays finite where the sink conducts nothing (R = ∞: a cold plate whose coolant
    stopped): the junction then warms at P₀/C. With g = 0 it is the plain RC, T → T_sink + P·R,
    unconditionally stable; g ≥ 1/R is thermal runaway (the power limiter, not this function, is
    what stops it: callers pass g = 0 for power-capped GPUs). Past it the linear solution runs
    away in either direction; a junction whose power is not negative is never colder than its
    sink, so the end and mean temperatures are bounded below by the sink (the caller's shutdown
    threshold bounds them above). ``sink_temp_c`` is the coolant at the cold plate (liquid), the
    fluid (immersion) or the inlet air (heat sink). One node per GPU: the package, TIM and sink
    lumped (a single-node Foster network); valid for time steps longer than the die's own ~10 ms
    constant. Source: the linear first-order ODE's exact solution (e.g. Incropera, Fundamentals
    of Heat and Mass Transfer, 7th ed., §5.3, lumped capacitance with a heat source).
    """
    t0 = np.asarray(junction_temp_c, dtype=np.float64)
    g_sink = 1.0 / np.asarray(resistance_k_w, dtype=np.float64)
    g = np.asarray(power_slope_w_k, dtype=np.float64)
    sink = np.asarray(sink_temp_c)
    c = np.asarray(capacitance_j_k)
    rate = (np.asarray(power_w) - (t0 - sink) * g_sink) / c * dt_s  # F₀·dt [K]
    phi, psi = _relaxation_weights((g_sink - g) / c * dt_s)
    end = t0 + rate * phi
    mean = t0 + rate * psi
    return JunctionStep(np.maximum(end, sink), np.maximum(mean, sink))


_SERIES_BELOW = 1e-3
"""|x| below which φ and ψ come from their Taylor series (the closed forms lose digits there)."""


def _relaxation_weights(x: FloatArray) -> tuple[FloatArray, FloatArray]:
    """φ(x) = (1 − e^(−x))/x and ψ(x) = (1 − φ(x))/x, with φ(0) = 1 and ψ(0) = 1/2: the closed
    forms, then the Taylor series where |x| is small (rare: only a sink that conducts next to
    nothing within the step; the hot path pays for one test)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = -np.expm1(-x) / x
        psi = (1.0 - phi) / x
    small = np.abs(x) < _SERIES_BELOW
    if small.any():
        xs = x[small]
        phi = np.where(small, 0.0, phi)
        psi = np.where(small, 0.0, psi)
        phi[small] = 1.0 - xs / 2.0 + xs * xs / 6.0 - xs**3 / 24.0
        psi[small] = 0.5 - xs / 6.0 + xs * xs / 24.0 - xs**3 / 120.0
    return phi, psi


def leakage_at_temperature(
    leakage_w: ArrayLike, from_c: ArrayLike, to_c: ArrayLike, spec: GPUSpec
) -> FloatArray:
    """The leakage ``leakage_w`` [W] at ``from_c`` carried to ``to_c`` [°C] at the same voltage [W]:
    the law of :func:`leakage_power_exponential`, P·2^((T₁ − T₀)/ΔT_2)."""
    return np.asarray(leakage_w) * np.exp2((np.asarray(to_c) - np.asarray(from_c)) / spec.leakage_doubling_c)


def leakage_slope_w_k(leakage_w: ArrayLike, spec: GPUSpec) -> FloatArray:
    """dP_leak/dT of :func:`leakage_power_exponential` at a leakage of ``leakage_w`` [W/K]:
    P_leak · ln 2 / ΔT_2."""
    return np.asarray(leakage_w) * (np.log(2.0) / spec.leakage_doubling_c)


def heatsink_resistance_airflow(
    r_base_k_w: ArrayLike, r_convective_ref_k_w: ArrayLike, airflow_ratio: ArrayLike
) -> FloatArray:
    """Junction-to-inlet-air resistance of a fan-cooled heat sink [K/W].

    R = R_base + R_conv,ref · (airflow/airflow_ref)^(−0.8): conduction (die, TIM, spreader) in
    series with convection, which scales with airflow as :data:`HEATSINK_AIRFLOW_EXPONENT`.
    ``airflow_ratio`` is the server fans' speed relative to full speed (fan affinity: airflow ∝
    speed). Valid for airflow ratios 0.2–1.
    """
    s = np.maximum(np.asarray(airflow_ratio, dtype=np.float64), 1e-3)
    return np.asarray(r_base_k_w) + np.asarray(r_convective_ref_k_w) * s**-HEATSINK_AIRFLOW_EXPONENT


def fan_power_affinity(rated_power_w: ArrayLike, speed_ratio: ArrayLike) -> FloatArray:
    """Fan shaft power at a fraction of rated speed [W]: P = P_rated·(n/n_rated)³.

    The fan affinity laws (ASHRAE Handbook HVAC Systems and Equipment 2020, ch. 21): flow ∝ n,
    pressure ∝ n², power ∝ n³, for a fixed system curve through the origin. Valid for speeds
    from ~20 % to 100 % where motor and drive efficiency stay near constant.
    """
    s = np.asarray(speed_ratio, dtype=np.float64)
    return np.asarray(rated_power_w) * s * s * s


def server_fan_speed(
    hottest_temp_c: ArrayLike, temp_low_c: float, temp_high_c: float, min_speed_ratio: float
) -> FloatArray:
    """Server fan speed from the hottest GPU in the chassis (a proportional BMC fan curve).

    Speed is ``min_speed_ratio`` at or below ``temp_low_c``, 1 at or above ``temp_high_c``, and
    linear between: the shape of the default thermal policies of HGX baseboard BMCs (OpenBMC
    phosphor-pid-control "stepwise"/"fan table" zones), which step fans with the hottest sensor.
    """
    t = np.asarray(hottest_temp_c, dtype=np.float64)
    x = np.minimum(np.maximum((t - temp_low_c) / (temp_high_c - temp_low_c), 0.0), 1.0)
    return min_speed_ratio + (1.0 - min_speed_ratio) * x
