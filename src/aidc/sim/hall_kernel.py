"""The hall's step after the workload's demand, as one compiled pass over its nodes (numba).

:meth:`aidc.sim.hall.HallSim.step` states the physics in numpy (steps 3–5 of
:mod:`aidc.sim.engine`: GPU power with partial residency and off time, the junction RC with
leakage following the temperature, the node fans, wall power and heat); :func:`hall_physics`
runs the same arithmetic in two compiled passes, one over the GPUs for their power and one over
the nodes for sinks, junctions, fans and wall power, with the per-GPU formulas of
:mod:`aidc.hardware.kernels` (divisions by constants as reciprocals: equal to rounding). The numpy
path stays the reference (``AIDC_KERNELS=numpy``); tests hold whole runs of both to 1e-9.
"""

from __future__ import annotations

import numpy as np

from aidc.hardware.catalog import GPUSpec
from aidc.hardware.gpu import HEATSINK_AIRFLOW_EXPONENT
from aidc.hardware.kernels import (
    AIR,
    COLD_PLATE,
    IMMERSION,
    LN2,
    jit,
    junction_rc,
    power_and_leakage,
    power_constants,
)
from aidc.hardware.node import NodeSpec
from aidc.units import CP_AIR_J_KGK, RHO_AIR_KG_M3

PATH_INDEX = {"air": AIR, "liquid": COLD_PLATE, "immersion": IMMERSION}


# The kernel's constants: one float64 array (numba dispatches on a tuple or NamedTuple argument
# through a slow path costing ~0.1 ms a call, an array in ~0.2 µs), read by these indices.
(F_IDLE, F_MAX, V_IDLE, V_MAX, STATIC_W, LEAK_REF_W, LEAK_REF_C, DOUBLING_C, DYNAMIC_MAX_W,
 SLOWDOWN_C, SHUTDOWN_C, MAX_OPERATING_C, CAPACITANCE, GPUS_PER_NODE, ROWS, AIRFLOW_FULL, R_BASE,
 R_CONV, R_EXPONENT, R_PLATE, FAN_LOW_C, FAN_HIGH_C, FAN_MIN, FAN_RATED_W, NODE_FANS, BASE_W,
 PSU_EFFICIENCY) = range(27)  # fmt: skip

# The step's per-GPU arrays, as rows of one float array and one bool array
POWER, LEAKAGE, CLOCK, SHARE, TFLOPS, RESIDENT, LIMITED, TEMP = range(8)
SHUTDOWN, CAPPED, THERMAL = range(3)
# The step's sums (GPU, fan and wall power [W], fan speeds, TFLOPS, resident GPUs, of them capped
# and thermally slowed, static shares)
(SUM_GPU_W, SUM_FANS_W, SUM_IT_W, SUM_SPEED, SUM_TFLOPS, SUM_RESIDENT, SUM_CAPPED, SUM_THERMAL,
 SUM_SHARE, SUM_LEAKAGE_W) = range(10)  # fmt: skip


def constants(spec: GPUSpec, node: NodeSpec, path: str) -> np.ndarray:
    """The kernel's constants of a GPU spec and a node spec on a thermal path, by the indices above."""
    r_plate = node.immersion_resistance_k_w if path == "immersion" else node.cold_plate_resistance_k_w
    values = {
        F_IDLE: spec.clock_idle_mhz,
        F_MAX: spec.clock_max_mhz,
        V_IDLE: spec.voltage_idle_v,
        V_MAX: spec.voltage_max_v,
        STATIC_W: spec.static_power_w,
        LEAK_REF_W: spec.leakage_ref_w,
        LEAK_REF_C: spec.leakage_ref_temp_c,
        DOUBLING_C: spec.leakage_doubling_c,
        DYNAMIC_MAX_W: spec.dynamic_max_w,
        SLOWDOWN_C: spec.slowdown_temp_c,
        SHUTDOWN_C: spec.shutdown_temp_c,
        MAX_OPERATING_C: spec.max_operating_temp_c,
        CAPACITANCE: node.capacitance_j_k,
        GPUS_PER_NODE: node.gpus_per_node,
        ROWS: node.gpu_rows_in_airflow,
        AIRFLOW_FULL: node.airflow_full_speed_m3_s,
        R_BASE: node.heatsink_base_resistance_k_w,
        R_CONV: node.heatsink_convective_resistance_k_w,
        R_EXPONENT: HEATSINK_AIRFLOW_EXPONENT,
        R_PLATE: r_plate,
        FAN_LOW_C: node.fan_temp_low_c,
        FAN_HIGH_C: node.fan_temp_high_c,
        FAN_MIN: node.fan_min_speed_frac,
        FAN_RATED_W: node.fan_rated_power_w,
        NODE_FANS: float(path != "immersion"),
        BASE_W: node.base_power_w,
        PSU_EFFICIENCY: node.psu_efficiency_frac,
    }
    return np.array([values[k] for k in range(len(values))], dtype=np.float64)


@jit
def _power_pass(c, x, flags, activity, clock_in, off_frac, has_off, check_partial, temp_in):
    """Step 3 for every GPU: power, leakage and clock over the step, the static share; zeroes the
    work of GPUs off throughout; flags the capped and thermally slowed ones. Returns the sums of
    TFLOPS, residency, residency power-capped and thermally slowed, and static shares."""
    pc = power_constants(c[F_IDLE], c[F_MAX], c[V_IDLE], c[V_MAX], c[STATIC_W], c[LEAK_REF_W], c[LEAK_REF_C],
                         c[DOUBLING_C], c[DYNAMIC_MAX_W])  # fmt: skip
    f_idle, slowdown_c = c[F_IDLE], c[SLOWDOWN_C]
    tflops = resident_sum = capped = thermal = shares = 0.0
    for i in range(temp_in.size):
        temp, resident, limited = temp_in[i], x[RESIDENT, i], x[LIMITED, i]
        off = off_frac[i] if has_off else 0.0
        running = resident > 0.0
        flags[CAPPED, i] = limited > 0.0
        flags[THERMAL, i] = running and temp >= slowdown_c
        power, leakage = power_and_leakage(activity[i], clock_in[i], temp, pc)
        clock, share = clock_in[i], 1.0
        if check_partial and running and resident < 1.0:
            idle = max((1.0 - off if has_off else 1.0) - resident, 0.0)
            idle_w, idle_leakage = power_and_leakage(0.0, f_idle, temp, pc)
            power = resident * power + idle * idle_w
            leakage = resident * leakage + idle * idle_leakage
            clock = resident * clock + idle * f_idle
            share = resident + idle
        if has_off and not running and off > 0.0:
            on = 1.0 - off
            power, leakage, clock, share = on * power, on * leakage, on * clock, on * share
        if has_off and off >= 1.0:
            x[TFLOPS, i] = x[RESIDENT, i] = x[LIMITED, i] = resident = limited = 0.0
            flags[CAPPED, i] = flags[THERMAL, i] = False
        x[POWER, i], x[LEAKAGE, i], x[CLOCK, i], x[SHARE, i] = power, leakage, clock, share
        tflops += x[TFLOPS, i]
        resident_sum += resident
        capped += resident * limited
        thermal += resident if flags[THERMAL, i] else 0.0
        shares += share
    return tflops, resident_sum, capped, thermal, shares


@jit
def _junction(t0, sink, conductance, power, follow, was_shut_down, rc):
    """Step 4 for one GPU: (end temperature, mean power, trip share (2: none), shut down); ``rc`` =
    (dt/C, 1/doubling temperature, shutdown and maximum operating temperatures)."""
    dt_over_c, inv_doubling, shutdown_c, max_op_c = rc
    end, mean = junction_rc(t0, sink, power, conductance, dt_over_c, follow * (LN2 * inv_doubling))
    power = power + follow * 2.0 ** ((min(mean, shutdown_c) - t0) * inv_doubling) - follow
    trip = 2.0
    tripped = end >= shutdown_c and not was_shut_down
    if tripped:
        trip = min(max((shutdown_c - t0) / max(end - t0, 1e-12), 0.0), 1.0)
        end = shutdown_c
    return end, power, trip, tripped or (was_shut_down and end > max_op_c)


@jit
def _thermal_pass(c, x, flags, dt_s, temp_in, shutdown_in, fan_speed, node_wall, path, supply_air_c,
                  supply_liquid_c, inlet_offset_c, r_factor, inv_r_factor, rise_k_w, off_frac,
                  has_off):  # fmt: skip
    """Steps 4 and 5 node by node: each GPU's sink, junction and mean power, then the node's fans
    and wall power; returns the earliest trip (2: none), the sums of GPU, fan and wall power, of fan
    speeds and of the GPUs' leakage over the step."""
    g, rows = int(c[GPUS_PER_NODE]), int(c[ROWS])
    cols = g // rows
    rc = (dt_s / c[CAPACITANCE], 1.0 / c[DOUBLING_C], c[SHUTDOWN_C], c[MAX_OPERATING_C])
    r_base, r_conv, r_exp, r_plate = c[R_BASE], c[R_CONV], c[R_EXPONENT], c[R_PLATE]
    air_cp = RHO_AIR_KG_M3 * c[AIRFLOW_FULL]
    upstream = np.zeros(cols)
    trip, gpu_w, fans_w, it_w, speeds, leakage_w = 2.0, 0.0, 0.0, 0.0, 0.0, 0.0
    for node in range(temp_in.size // g):
        first, speed = node * g, fan_speed[node]
        inv_r_node = 1.0 / (r_base + r_conv * max(speed, 1e-3) ** -r_exp)
        inv_m_dot_cp = 1.0 / (air_cp * speed / cols * CP_AIR_J_KGK)
        upstream[:] = 0.0
        hottest, node_gpu = -np.inf, 0.0
        for j in range(g):
            i = first + j
            if path == AIR:
                inlet = supply_air_c + inlet_offset_c[i]
                sink = inlet + upstream[j % cols] * inv_m_dot_cp if rows > 1 else inlet
                upstream[j % cols] += x[POWER, i]
                conductance = inv_r_node * inv_r_factor[i]
            else:
                sink, conductance = supply_liquid_c, 1.0 / (r_plate * r_factor[i] + rise_k_w)
            before = x[POWER, i]
            follow = x[LEAKAGE, i] * (1.0 - x[LIMITED, i])  # the leakage that follows the temperature
            end, power, gpu_trip, shut = _junction(
                temp_in[i], sink, conductance, before, follow, shutdown_in[i], rc
            )
            x[POWER, i], x[LEAKAGE, i], x[TEMP, i] = power, x[LEAKAGE, i] + (power - before), end
            leakage_w += x[LEAKAGE, i]
            flags[SHUTDOWN, i] = shut
            trip, hottest, node_gpu = min(trip, gpu_trip), max(hottest, end), node_gpu + power
        node_off = off_frac[first : first + g].min() if has_off else 0.0
        speed, fans, node_wall[node] = _node_fans_and_wall(c, hottest, node_gpu, node_off)
        fan_speed[node] = speed
        gpu_w, fans_w, it_w = gpu_w + node_gpu, fans_w + fans, it_w + node_wall[node]
        speeds += speed if c[NODE_FANS] else 0.0
    return trip, gpu_w, fans_w, it_w, speeds, leakage_w


@jit
def _node_fans_and_wall(c, hottest, node_gpu_w, node_off):
    """Step 5 for one node: its fan speed, fan power and wall power [W]."""
    x = min(max((hottest - c[FAN_LOW_C]) / (c[FAN_HIGH_C] - c[FAN_LOW_C]), 0.0), 1.0)
    speed = c[FAN_MIN] + (1.0 - c[FAN_MIN]) * x
    fans = c[FAN_RATED_W] * speed * speed * speed if c[NODE_FANS] else 0.0
    wall = (node_gpu_w + fans + c[BASE_W]) / c[PSU_EFFICIENCY]
    if node_off > 0.0:
        wall = wall - node_off * ((0.0 + fans + c[BASE_W]) / c[PSU_EFFICIENCY])
    return speed, fans, wall


@jit
def hall_physics(c, x, flags, dt_s, activity, clock_in, off_frac, has_off, check_partial, temp_in,
                 shutdown_in, fan_speed, node_wall, path, supply_air_c, supply_liquid_c, inlet_offset_c,
                 r_factor, inv_r_factor, rise_k_w):  # fmt: skip
    """Steps 3–5 of a hall step into the rows of ``x`` and ``flags`` (``TFLOPS``, ``RESIDENT`` and
    ``LIMITED`` hold the demand's on entry), ``fan_speed`` (the last step's on entry) and
    ``node_wall``; returns the earliest trip at shutdown as a share of the step (2: none) and the
    step's sums (``SUM_*``)."""
    per_gpu = _power_pass(c, x, flags, activity, clock_in, off_frac, has_off, check_partial, temp_in)
    trip, gpu_w, fans_w, it_w, speeds, leakage_w = _thermal_pass(
        c, x, flags, dt_s, temp_in, shutdown_in, fan_speed, node_wall, path, supply_air_c, supply_liquid_c,
        inlet_offset_c, r_factor, inv_r_factor, rise_k_w, off_frac, has_off,
    )  # fmt: skip
    tflops, resident, capped, thermal, shares = per_gpu
    return trip, np.array([gpu_w, fans_w, it_w, speeds, tflops, resident, capped, thermal, shares, leakage_w])
