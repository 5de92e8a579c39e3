"""Server nodes: the thermal path from each GPU's junction to its coolant, the node's fans and power
supplies, and where its heat goes, as pure functions over arrays (one element per GPU or per node).

Three thermal paths share one call shape, ``sink(node, power_w, fan_speed, supply) -> (sink_c,
resistance_k_w)``: the temperature each GPU's junction couples to [°C] and the junction-to-sink
resistance [K/W] (:func:`aidc.hardware.gpu.junction_temperature_rc` integrates the RC with them).
:data:`THERMAL_PATHS` names them by the scenario's cooling type; each also says whether the node
has fans and how much of a node's heat its liquid loop takes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from aidc.hardware.gpu import heatsink_resistance_airflow
from aidc.units import CP_AIR_J_KGK, CP_WATER_J_KGK, RHO_AIR_KG_M3, RHO_WATER_KG_M3

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class NodeSpec:
    """The constants of a hall's nodes: layout, thermal path parameters, fans and power supplies.

    ``r_factor`` and ``inlet_offset_c`` are per GPU (the GPU-to-GPU spread of the thermal path and
    each GPU's rack inlet above room supply air); everything else is per node or per GPU alike.
    """

    nodes: int
    gpus_per_node: int
    gpu_rows_in_airflow: int  # GPUs in series along the airflow
    airflow_full_speed_m3_s: float  # through the GPU zone of one node at full fan speed
    heatsink_base_resistance_k_w: float  # junction to fins (conduction)
    heatsink_convective_resistance_k_w: float  # fins to air at full airflow
    cold_plate_resistance_k_w: float  # junction to coolant
    immersion_resistance_k_w: float  # junction to bulk fluid
    cold_plate_flow_l_min: float  # coolant flow per GPU cold plate
    capacitance_j_k: float  # package + sink heat capacity per GPU
    base_power_w: float  # CPUs, DRAM, NICs, switches, storage per node (DC side)
    psu_efficiency_frac: float
    fan_rated_power_w: float  # all chassis fans of a node at full speed
    fan_min_speed_frac: float
    fan_temp_low_c: float
    fan_temp_high_c: float
    gpu_heat_to_liquid_frac: float  # liquid nodes: GPU heat into cold plates
    other_heat_to_liquid_frac: float  # liquid nodes: non-GPU heat into cold plates
    r_factor: FloatArray
    inlet_offset_c: FloatArray

    @property
    def gpus(self) -> int:
        return self.nodes * self.gpus_per_node


class Supply(NamedTuple):
    """What the cooling plant delivers to the IT [°C, share of design flow]."""

    air_c: float
    liquid_c: float
    flow_frac: float = 1.0


def coolant_rise_resistance_k_w(flow_l_min: float, flow_frac: float = 1.0) -> float:
    """The coolant's own share of a cold plate's resistance [K/W]: 1 / (2·ṁ·c_p).

    The coolant warms linearly along the plate, so the die sees the mean of inlet and outlet,
    T_in + Q/(2·ṁ·c_p) for the heat Q it carries (an energy balance on the plate; ``flow_l_min``
    is the design flow per plate [L/min] and ``flow_frac`` the loop's share of it). In series with
    the plate's own resistance, behind the package's heat capacity, the coolant carries only the
    heat that leaves the package. With no flow it carries nothing: infinite. The plate's
    convective resistance is held constant when the flow changes, a simplification valid near
    design flow.
    """
    m_dot = flow_l_min / 60e3 * RHO_WATER_KG_M3 * flow_frac
    return math.inf if m_dot <= 0.0 else 0.5 / (m_dot * CP_WATER_J_KGK)


def air_preheat_inlet_c(
    inlet_c: FloatArray, power_w: FloatArray, fan_speed: FloatArray, node: NodeSpec
) -> FloatArray:
    """Air temperature at each GPU of nodes whose GPUs sit in rows along the airflow [°C].

    A GPU's air has picked up the heat of the GPUs upstream of it in its column: ΔT = ΣP_up /
    (ṁ_column·c_p), with the node's airflow (∝ fan speed, fan affinity) split evenly over the
    columns. ``inlet_c`` is each GPU's rack inlet; ``fan_speed`` is per node.
    """
    rows = node.gpu_rows_in_airflow
    if rows <= 1:
        return inlet_c
    cols = node.gpus_per_node // rows
    m_dot = RHO_AIR_KG_M3 * node.airflow_full_speed_m3_s * fan_speed / cols
    p = power_w.reshape(node.nodes, rows, cols)
    upstream = np.cumsum(p, axis=1) - p
    return inlet_c + (upstream / (m_dot[:, None, None] * CP_AIR_J_KGK)).reshape(node.gpus)


def air_sink(
    node: NodeSpec, power_w: FloatArray, fan_speed: FloatArray, supply: Supply
) -> tuple[FloatArray, FloatArray]:
    """Heat sink in the server's airflow: the local air temperature and the sink's resistance,
    which falls with fan speed (:func:`aidc.hardware.gpu.heatsink_resistance_airflow`)."""
    speed = np.repeat(fan_speed, node.gpus_per_node)
    r = heatsink_resistance_airflow(
        node.heatsink_base_resistance_k_w, node.heatsink_convective_resistance_k_w, speed
    )
    inlet = air_preheat_inlet_c(supply.air_c + node.inlet_offset_c, power_w, fan_speed, node)
    return inlet, r * node.r_factor


def cold_plate_sink(
    node: NodeSpec, power_w: FloatArray, fan_speed: FloatArray, supply: Supply
) -> tuple[FloatArray, FloatArray]:
    """Direct-to-chip cold plate: the coolant supply, through the plate's resistance and the
    coolant's rise along it (:func:`coolant_rise_resistance_k_w`; infinite with the pumps stopped)."""
    rise = coolant_rise_resistance_k_w(node.cold_plate_flow_l_min, supply.flow_frac)
    return np.full(node.gpus, supply.liquid_c), node.cold_plate_resistance_k_w * node.r_factor + rise


def immersion_sink(
    node: NodeSpec, power_w: FloatArray, fan_speed: FloatArray, supply: Supply
) -> tuple[FloatArray, FloatArray]:
    """Single-phase immersion: the fluid warming past the GPU is taken as a cold plate's at the
    same per-GPU flow (a simplification: tank flow is not resolved), a fixed resistance."""
    rise = coolant_rise_resistance_k_w(node.cold_plate_flow_l_min, supply.flow_frac)
    return np.full(node.gpus, supply.liquid_c), node.immersion_resistance_k_w * node.r_factor + rise


def liquid_none_w(gpu_w: float, other_w: float, it_w: float, node: NodeSpec) -> float:
    return 0.0


def liquid_cold_plates_w(gpu_w: float, other_w: float, it_w: float, node: NodeSpec) -> float:
    return gpu_w * node.gpu_heat_to_liquid_frac + other_w * node.other_heat_to_liquid_frac


def liquid_all_w(gpu_w: float, other_w: float, it_w: float, node: NodeSpec) -> float:
    return it_w


Sink = Callable[[NodeSpec, FloatArray, FloatArray, Supply], tuple[FloatArray, FloatArray]]
LiquidShare = Callable[[float, float, float, NodeSpec], float]


@dataclass(frozen=True)
class ThermalPath:
    """One way of cooling a node: its GPUs' sink, whether it has fans, the heat its liquid takes
    from (GPU power, other DC power, wall power) [W]; the rest goes to room air."""

    sink: Sink
    node_fans: bool
    heat_to_liquid_w: LiquidShare


THERMAL_PATHS: dict[str, ThermalPath] = {
    "air": ThermalPath(air_sink, node_fans=True, heat_to_liquid_w=liquid_none_w),
    "liquid": ThermalPath(cold_plate_sink, node_fans=True, heat_to_liquid_w=liquid_cold_plates_w),
    "immersion": ThermalPath(immersion_sink, node_fans=False, heat_to_liquid_w=liquid_all_w),
}
"""Thermal paths by the scenario's ``cooling.type``."""


def node_wall_power_w(gpu_w: FloatArray, fans_w: FloatArray | float, node: NodeSpec) -> FloatArray:
    """Wall power of each node [W]: GPUs, fans and the rest of the board through the power supplies."""
    return (gpu_w + fans_w + node.base_power_w) / node.psu_efficiency_frac


def design_heat_w(path: ThermalPath, node: NodeSpec, gpu_tdp_w: float) -> tuple[float, float]:
    """Design heat of all nodes to liquid and to air [W]: every GPU at TDP, fans at full speed
    (what the cooling plant and the power chain are sized for)."""
    gpu = node.gpus_per_node * gpu_tdp_w
    fans = node.fan_rated_power_w if path.node_fans else 0.0
    wall = float(node_wall_power_w(gpu, fans, node))
    liquid = path.heat_to_liquid_w(gpu, node.base_power_w, wall, node)
    return node.nodes * liquid, node.nodes * (wall - liquid)
