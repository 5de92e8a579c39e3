"""The IT side of one hall as a component: its GPUs, nodes and their thermal paths, vectorized.

``step`` follows the step order of :mod:`aidc.sim.engine` for the IT: clock limits → workload demand
(the coupling contract, :mod:`aidc.workload.demand`) → GPU power → junction temperature → node
fans and heat split. The physics is in
:mod:`aidc.hardware.gpu` and :mod:`aidc.hardware.node`; this class holds the state between steps
and routes one step through those functions. ``state()`` is what telemetry and controllers read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

import aidc.sim.hall_kernel as hk
from aidc.hardware import gpu, kernels
from aidc.hardware.catalog import GPUSpec
from aidc.hardware.clocks import ClockLimits, OffIntervals
from aidc.hardware.node import (
    THERMAL_PATHS,
    NodeSpec,
    Supply,
    ThermalPath,
    coolant_rise_resistance_k_w,
    design_heat_w,
    node_wall_power_w,
)
from aidc.workload.demand import Demand, off_share
from aidc.workload.jobs import HallWorkload
from aidc.workload.serving.deploy import ServingState

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
_NO_OFF = np.zeros(0)  # the compiled step's off shares when no GPU is off


@dataclass(frozen=True)
class HallStep:
    """Scalars one hall hands to the plant, the power chain and the metrics after a step."""

    gpu_w: float  # all GPUs' board power
    node_fans_w: float
    it_w: float  # wall power of all nodes
    heat_to_liquid_w: float
    heat_to_air_w: float
    server_airflow_m3_s: float
    tflops_sum: float  # delivered, all GPUs
    active_gpus: float  # GPUs with a job resident, weighted by the share of the step [GPU]
    power_capped_gpus: float  # of those, running below their boost ceiling for the power limit [GPU]
    thermal_gpus: float  # of those, at or above their slowdown temperature [GPU]
    shutdown_gpus: int
    gpu_static_w: float = 0.0  # of gpu_w: the static part (HBM refresh, I/O, fixed losses)
    gpu_leakage_w: float = 0.0  # of gpu_w: leakage at the step's temperatures (the rest is dynamic)


@dataclass(frozen=True)
class HallState:
    """The hall after a step: per-GPU arrays (one element per GPU, in node order) and scalars.

    Arrays are the hall's own and are replaced, never changed in place, at the next step: a state
    kept from an earlier step stays as it was.
    """

    name: str
    gpus_per_node: int
    temp_c: FloatArray  # junction temperature
    clock_mhz: FloatArray
    power_w: FloatArray  # board power
    tflops: FloatArray  # delivered
    resident: FloatArray  # share of the step a job was resident [0–1]
    node_wall_w: FloatArray  # per node
    shutdown: BoolArray
    power_capped: BoolArray  # the power limit held the clock down for part of the step
    thermal: BoolArray  # at or above slowdown temperature with work
    supply_air_c: float  # room supply air the step saw
    inlet_max_c: float  # the hottest rack inlet the step saw
    serving: tuple[ServingState, ...]  # one per serving job, in job order
    trip_s: float | None = None  # run time the step's first thermal shutdown tripped [s]; None: none
    leakage_w: FloatArray | None = None  # of power_w: each GPU's leakage over the step
    static_share: FloatArray | float = 1.0  # of the step, each GPU's share drawing static power


class HallSim:
    """One hall's GPUs and nodes: ``config()``, ``state()``, ``step()``."""

    def __init__(
        self,
        name: str,
        spec: GPUSpec,
        node: NodeSpec,
        path: ThermalPath,
        workload: HallWorkload,
        *,
        power_cap_w: float | None = None,
        cooling: str = "",
    ):
        self.name, self.spec, self.node, self.path, self.workload = name, spec, node, path, workload
        self.cooling = cooling
        self.n = node.gpus
        self.power_cap_w = power_cap_w if power_cap_w is not None else spec.tdp_w
        self.inlet_offset_max_c = float(node.inlet_offset_c.max())
        self.clock_mhz = np.full(self.n, spec.clock_idle_mhz)
        self.resident = np.zeros(self.n)
        self.limited = np.zeros(self.n)
        self.power_w = np.full(self.n, spec.idle_power_w or spec.static_power_w)
        self.temp_c = np.full(self.n, np.nan)  # set by init_temperatures once the plant is known
        self.fan_speed = np.full(node.nodes, node.fan_min_speed_frac)
        self.supply_air_c = np.nan
        self.tflops = np.zeros(self.n)
        self.node_wall_w = np.zeros(node.nodes)
        self.shutdown = np.zeros(self.n, dtype=bool)
        self.shutdown_gpus = 0
        self.leakage_w = np.zeros(self.n)
        self.static_share: FloatArray | float = 1.0
        self.trip_s: float | None = None  # when the first GPU tripped at shutdown in the last step [s]
        self.power_capped = np.zeros(self.n, dtype=bool)
        self.thermal = np.zeros(self.n, dtype=bool)
        # the compiled step (aidc.sim.hall_kernel) for the catalog's thermal paths
        kind = next((k for k, p in THERMAL_PATHS.items() if p is path), None)
        self._path_index = hk.PATH_INDEX.get(kind, -1)
        self._constants = hk.constants(spec, node, kind) if kind else None
        self._inv_r_factor = 1.0 / node.r_factor

    def design_heat_w(self) -> tuple[float, float]:
        """Design heat to liquid and to air [W]: every GPU at TDP, fans at full speed."""
        return design_heat_w(self.path, self.node, self.spec.tdp_w)

    def config(self) -> dict[str, object]:
        return {
            "name": self.name,
            "gpu": self.spec.name,
            "gpus": self.n,
            "nodes": self.node.nodes,
            "power_cap_w": self.power_cap_w,
            "cooling": self.cooling,
            "workload": self.workload.config(),
        }

    def state(self) -> HallState:
        return HallState(
            name=self.name,
            gpus_per_node=self.node.gpus_per_node,
            temp_c=self.temp_c,
            clock_mhz=self.clock_mhz,
            power_w=self.power_w,
            tflops=self.tflops,
            resident=self.resident,
            node_wall_w=self.node_wall_w,
            shutdown=self.shutdown,
            trip_s=self.trip_s,
            power_capped=self.power_capped,
            thermal=self.thermal,
            supply_air_c=self.supply_air_c,
            inlet_max_c=self.supply_air_c + self.inlet_offset_max_c,
            serving=tuple(run.state() for run in self.workload.serving),
            leakage_w=self.leakage_w,
            static_share=self.static_share,
        )

    def init_temperatures(self, supply: Supply) -> None:
        """Junctions at steady state with the initial power under the plant's initial supply; a
        GPU whose steady state is at or past its shutdown temperature starts there, shut down
        (a thermal path that cannot carry even idle power: found by the fuzzing of issue 13)."""
        sink, r = self.path.sink(self.node, self.power_w, self.fan_speed, supply)
        steady = sink + self.power_w * r
        self.shutdown = steady >= self.spec.shutdown_temp_c
        self.shutdown_gpus = int(np.count_nonzero(self.shutdown))
        self.temp_c = np.minimum(steady, self.spec.shutdown_temp_c)

    def step(self, t_s: float, dt_s: float, supply: Supply, off: OffIntervals | None = None) -> HallStep:
        """One step. ``off``: each GPU's off interval within the step (a fault, an outage), run
        time [s]; a GPU still shut down for heat is off for the whole step."""
        spec = self.spec
        if self.shutdown_gpus:
            empty = np.full(self.n, t_s + dt_s)
            start, end = off if off is not None else (empty, empty)
            off = (np.where(self.shutdown, t_s, start), np.where(self.shutdown, t_s + dt_s, end))
        off_frac = off_share(off, t_s, dt_s) if off is not None else None
        # 1–2. workload demand at the clocks the junction temperatures and the power cap allow
        limits = ClockLimits.at(spec, self.power_cap_w, self.temp_c, off)
        d = self.workload.demand(t_s, dt_s, limits)
        if self._constants is not None and kernels.enabled():
            return self._step_compiled(t_s, dt_s, supply, d, off_frac)
        resident, limited = d.resident_frac, d.limited_frac
        running = resident > 0.0
        self.power_capped = limited > 0.0
        self.thermal = running & (self.temp_c >= spec.slowdown_temp_c)
        # 3. power: the resident share at the work's activity and clock, the rest idle
        power, leakage = gpu.gpu_power_and_leakage(d.activity, d.clock_mhz, self.temp_c, spec)
        clock, tflops = d.clock_mhz, d.tflops
        static_share = 1.0  # the share of the step each GPU draws static power
        partial = running & (resident < 1.0) if d.partial or off_frac is not None else None
        if partial is not None and partial.any():
            # the share neither resident nor off idles; an off GPU draws nothing
            on = 1.0 if off_frac is None else 1.0 - off_frac
            idle = np.maximum(on - resident, 0.0)
            idle_w, idle_leakage = gpu.gpu_power_and_leakage(0.0, spec.clock_idle_mhz, self.temp_c, spec)
            power = np.where(partial, resident * power + idle * idle_w, power)
            leakage = np.where(partial, resident * leakage + idle * idle_leakage, leakage)
            clock = np.where(partial, resident * clock + idle * spec.clock_idle_mhz, clock)
            static_share = np.where(partial, resident + idle, static_share)
        if off_frac is not None:  # GPUs off for the whole step (and idle ones off for part of it)
            dark = ~running & (off_frac > 0.0)
            power, leakage, clock = (np.where(dark, (1.0 - off_frac) * x, x) for x in (power, leakage, clock))
            static_share = np.where(dark, (1.0 - off_frac) * static_share, static_share)
            gone = off_frac >= 1.0
            tflops, resident, limited = (np.where(gone, 0.0, x) for x in (tflops, resident, limited))
            self.power_capped &= ~gone
            self.thermal &= ~gone
        self.power_w, self.clock_mhz, self.tflops, self.resident = power, clock, tflops, resident
        self.limited = limited
        # 4. junction temperature, with the leakage following it within the step (while the power
        # limit holds a GPU, its power stays at the cap)
        trip = self._junctions(dt_s, supply, leakage * (1.0 - limited))
        self.trip_s = None if trip is None else t_s + dt_s * trip
        # the junction step changed the power by the leakage's change only
        self.static_share = static_share
        shares = float(np.sum(static_share)) if np.ndim(static_share) else float(self.n)
        self.static_w = spec.static_power_w * shares
        self.leakage_w = leakage + (self.power_w - power)
        self.leakage_sum_w = float(np.sum(self.leakage_w))
        # 5. nodes: fans follow the hottest GPU; heat split to liquid and air
        return self._nodes(off_frac)

    def _step_compiled(
        self, t_s: float, dt_s: float, supply: Supply, d: Demand, off_frac: FloatArray | None
    ) -> HallStep:
        """Steps 3–5 as one compiled pass (:func:`aidc.sim.hall_kernel.hall_physics`), the same
        physics as the numpy lines of :meth:`step`, :meth:`_junctions` and :meth:`_nodes`."""
        n, node = self.n, self.node
        x, flags = np.empty((8, n)), np.empty((3, n), dtype=np.bool_)
        x[hk.TFLOPS], x[hk.RESIDENT], x[hk.LIMITED] = d.tflops, d.resident_frac, d.limited_frac
        fan_speed, node_wall = self.fan_speed.copy(), np.empty(node.nodes)
        has_off = off_frac is not None
        rise = coolant_rise_resistance_k_w(node.cold_plate_flow_l_min, supply.flow_frac)
        trip, sums = hk.hall_physics(
            self._constants, x, flags, dt_s, np.asarray(d.activity, dtype=np.float64),
            np.asarray(d.clock_mhz, dtype=np.float64), off_frac if has_off else _NO_OFF, has_off,
            d.partial or has_off, self.temp_c, self.shutdown, fan_speed, node_wall, self._path_index,
            supply.air_c, supply.liquid_c, node.inlet_offset_c, node.r_factor, self._inv_r_factor, rise,
        )  # fmt: skip
        self.power_w, self.leakage_w, self.clock_mhz = x[hk.POWER], x[hk.LEAKAGE], x[hk.CLOCK]
        self.tflops, self.resident, self.limited = x[hk.TFLOPS], x[hk.RESIDENT], x[hk.LIMITED]
        self.temp_c, self.static_share = x[hk.TEMP], x[hk.SHARE]
        self.shutdown, self.power_capped = flags[hk.SHUTDOWN], flags[hk.CAPPED]
        self.thermal = flags[hk.THERMAL]
        self.fan_speed, self.node_wall_w, self.supply_air_c = fan_speed, node_wall, supply.air_c
        self.shutdown_gpus = int(np.count_nonzero(self.shutdown))
        self.trip_s = None if trip > 1.0 else t_s + dt_s * trip
        gpu_w, fans_w, it_w, speeds, tflops, active, capped, thermal, shares, leakage_w = sums.tolist()
        self.static_w = self.spec.static_power_w * shares
        self.leakage_sum_w = leakage_w
        liquid = self.path.heat_to_liquid_w(gpu_w, node.nodes * node.base_power_w, it_w, node)
        return HallStep(
            gpu_w=gpu_w,
            node_fans_w=fans_w,
            it_w=it_w,
            heat_to_liquid_w=liquid,
            heat_to_air_w=it_w - liquid,
            server_airflow_m3_s=speeds * node.airflow_full_speed_m3_s,
            tflops_sum=tflops,
            active_gpus=active,
            power_capped_gpus=capped,
            thermal_gpus=thermal,
            shutdown_gpus=self.shutdown_gpus,
            gpu_static_w=self.static_w,
            gpu_leakage_w=self.leakage_sum_w,
        )

    def _junctions(self, dt_s: float, supply: Supply, leakage_w: FloatArray) -> float | None:
        """Junctions over the step; the power becomes the step's mean (leakage follows the
        temperature within the step, so the step's energy does not depend on its length). Returns
        when in the step the first GPU tripped at shutdown, as a share of it (linear in the
        temperature), or None when none did.

        ``leakage_w`` is the leakage that follows the temperature (zero where the power limit
        holds a GPU at its cap). The integrator takes it linearized at the step's start; the
        step's power takes the exponential itself at the mean temperature, which is never below
        the linearization (2^x ≥ 1 + x·ln 2), so a junction cooling fast within a long step cannot
        book a negative leakage (found by the fuzzing of issue 12); its temperature is taken at
        most at the shutdown threshold, where a running-away GPU trips."""
        spec = self.spec
        sink, r = self.path.sink(self.node, self.power_w, self.fan_speed, supply)
        self.supply_air_c = supply.air_c
        slope_w_k = gpu.leakage_slope_w_k(leakage_w, spec)
        temp, mean = gpu.junction_temperature_rc(
            self.temp_c, sink, self.power_w, r, self.node.capacitance_j_k, dt_s, slope_w_k
        )
        # a junction running away (g > 1/R, past ~75 °C with the single exponential: issue 11)
        # trips at shutdown, so its leakage goes no further
        hot = np.minimum(mean, spec.shutdown_temp_c)
        self.power_w = (
            self.power_w + gpu.leakage_at_temperature(leakage_w, self.temp_c, hot, spec) - leakage_w
        )
        # Thermal shutdown trips the moment a junction reaches the threshold, not at the end of
        # the step: hold a GPU crossing it at the threshold (it is off from the next step on).
        tripped = (temp >= spec.shutdown_temp_c) & ~self.shutdown
        trip = None
        if tripped.any():
            before, after = self.temp_c[tripped], temp[tripped]
            rise = np.maximum(after - before, 1e-12)
            trip = float(np.clip((spec.shutdown_temp_c - before) / rise, 0.0, 1.0).min())
        self.temp_c = np.where(tripped, spec.shutdown_temp_c, temp)
        self.shutdown = tripped | (self.shutdown & (self.temp_c > spec.max_operating_temp_c))
        self.shutdown_gpus = int(np.count_nonzero(self.shutdown))
        return trip

    def _nodes(self, off_frac: FloatArray | None) -> HallStep:
        """Fans, node power and the heat split; a node is off for the share of the step all its
        GPUs are (a lost power path, a failed node, an outage past the UPS)."""
        node = self.node
        hottest = self.temp_c.reshape(node.nodes, node.gpus_per_node).max(axis=1)
        self.fan_speed = gpu.server_fan_speed(
            hottest, node.fan_temp_low_c, node.fan_temp_high_c, node.fan_min_speed_frac
        )
        fans = gpu.fan_power_affinity(node.fan_rated_power_w, self.fan_speed) if self.path.node_fans else 0.0
        node_gpu = self.power_w.reshape(node.nodes, node.gpus_per_node).sum(axis=1)
        self.node_wall_w = node_wall_power_w(node_gpu, fans, node)
        if off_frac is not None:
            node_off = off_frac.reshape(node.nodes, node.gpus_per_node).min(axis=1)
            self.node_wall_w = self.node_wall_w - node_off * node_wall_power_w(0.0, fans, node)
        gpu_w = float(node_gpu.sum())
        it_w = float(self.node_wall_w.sum())
        liquid = self.path.heat_to_liquid_w(gpu_w, node.nodes * node.base_power_w, it_w, node)
        airflow = float(self.fan_speed.sum()) * node.airflow_full_speed_m3_s if self.path.node_fans else 0.0
        return HallStep(
            gpu_w=gpu_w,
            node_fans_w=float(np.sum(fans)),
            it_w=it_w,
            heat_to_liquid_w=liquid,
            heat_to_air_w=it_w - liquid,
            server_airflow_m3_s=airflow,
            tflops_sum=float(self.tflops.sum()),
            active_gpus=float(self.resident.sum()),
            power_capped_gpus=float(np.dot(self.resident, self.limited)),
            thermal_gpus=float(np.dot(self.resident, self.thermal)),
            shutdown_gpus=self.shutdown_gpus,
            gpu_static_w=self.static_w,
            gpu_leakage_w=self.leakage_sum_w,
        )
