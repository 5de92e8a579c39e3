"""The clock: builds components from a scenario and steps them in a fixed order every ``dt_s``.

Step order (DESIGN.md): workload demand → GPU governor → GPU power → junction temperature →
heat split to liquid and air → cooling plant (its power, and the supply temperatures for the
next step) → power chain → metrics → telemetry. Per-GPU quantities are numpy arrays over a
hall's GPUs; the only Python loop is over halls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from aidc.facility.cooling import CoolingPlant, PlantOutputs, build_plant
from aidc.facility.power import PowerChain, PowerChainOutputs
from aidc.facility.weather import Weather, constant_weather, load_climate, load_tmy
from aidc.hardware import gpu as phys
from aidc.hardware.catalog import GPUSpec, get_gpu
from aidc.hardware.interconnect import LINKS, MEMORY_TIERS
from aidc.scenario import HallConfig, Scenario
from aidc.units import CP_AIR_J_KGK, CP_WATER_J_KGK, RHO_AIR_KG_M3, RHO_WATER_KG_M3
from aidc.workload.jobs import HallWorkload

FloatArray = NDArray[np.float64]


def build_weather(scenario: Scenario) -> Weather:
    w = scenario.weather
    if w.climate is not None:
        return load_climate(w.climate)
    if w.file is not None:
        return load_tmy(str(w.file), w.format)
    assert w.dry_bulb_c is not None and w.relative_humidity_pct is not None  # checked by the schema
    return constant_weather(w.dry_bulb_c, w.relative_humidity_pct / 100.0)


@dataclass
class HallStep:
    """Scalars one hall hands to the plant, the power chain and the metrics after a step."""

    gpu_w: float
    node_fans_w: float
    it_w: float
    heat_to_liquid_w: float
    heat_to_air_w: float
    server_airflow_m3_s: float
    tflops_sum: float
    active_gpus: int
    power_capped_gpus: int
    thermal_gpus: int
    shutdown_gpus: int


class HallSim:
    """The IT side of one hall: its GPUs, nodes and their thermal paths, vectorized."""

    def __init__(self, cfg: HallConfig, rng: np.random.Generator):
        self.cfg = cfg
        self.spec: GPUSpec = get_gpu(cfg.gpu)
        spec, node, th = self.spec, cfg.node, cfg.thermal
        self.cooling_type = cfg.cooling.type
        n, gpn = cfg.gpu_count, node.gpus_per_node
        self.n, self.nodes, self.gpn = n, cfg.node_count, gpn
        self.power_cap_w = cfg.power_cap_w if cfg.power_cap_w is not None else spec.tdp_w
        self.workload = HallWorkload(cfg, spec, links=LINKS, tiers=MEMORY_TIERS)
        # GPU-to-GPU spread of the thermal path (TIM, mounting, heat-sink tolerance).
        s = th.resistance_spread_frac
        self.r_factor = rng.uniform(1.0 - s, 1.0 + s, n)
        racks = cfg.rows * cfg.racks_per_row
        rack_offset = rng.normal(cfg.inlet_offset_mean_c, cfg.inlet_offset_std_c, racks)
        self.inlet_offset_c = np.repeat(rack_offset, cfg.nodes_per_rack * gpn)
        self.node_fans = self.cooling_type != "immersion"
        self.fan_speed = np.full(self.nodes, node.fan_min_speed_frac)
        # Coolant warms along a cold plate: the die sees the mean, supply + P/(2·ṁ·cp).
        m_dot = th.cold_plate_flow_l_min / 60e3 * RHO_WATER_KG_M3
        self.half_rise_k_per_w = 0.5 / (m_dot * CP_WATER_J_KGK)
        # Air heats as it crosses the GPUs in series: rows along the flow, columns across it.
        self.rows_air = node.gpu_rows_in_airflow
        self.cols_air = gpn // self.rows_air
        if self.cooling_type == "air":
            self.r_fixed = None
        elif self.cooling_type == "liquid":
            self.r_fixed = th.cold_plate_resistance_k_w * self.r_factor
        else:
            self.r_fixed = th.immersion_resistance_k_w * self.r_factor
        self.clock_mhz = np.full(n, spec.clock_idle_mhz)
        self._governor_mhz: FloatArray | None = None  # the governor's last solution (warm start)
        self.power_w = np.full(n, spec.idle_power_w or spec.static_power_w)
        self.temp_c = np.full(n, np.nan)  # set by init_temperatures once the plant is known
        self.inlet_offset_max_c = float(self.inlet_offset_c.max())
        self.supply_air_c = np.nan  # room supply air of the last step [°C]
        self.tflops = np.zeros(n)
        self.node_wall_w = np.zeros(self.nodes)  # wall power of every node at the last step [W]
        self.shutdown = np.zeros(n, dtype=bool)
        self.power_capped = np.zeros(n, dtype=bool)
        self.thermal = np.zeros(n, dtype=bool)

    # -- sizing ---------------------------------------------------------------------------------

    def design_heat_w(self) -> tuple[float, float]:
        """Design heat to liquid and to air [W]: every GPU at TDP, fans at full speed."""
        node = self.cfg.node
        gpu = self.gpn * self.spec.tdp_w
        fans = node.fan_rated_power_w if self.node_fans else 0.0
        wall = (gpu + node.base_power_w + fans) / node.psu_efficiency_frac
        if self.cooling_type == "air":
            return 0.0, self.nodes * wall
        if self.cooling_type == "immersion":
            return self.nodes * wall, 0.0
        liquid = gpu * node.gpu_heat_to_liquid_frac + node.base_power_w * node.other_heat_to_liquid_frac
        return self.nodes * liquid, self.nodes * (wall - liquid)

    @property
    def inlet_c(self) -> FloatArray:
        """Rack inlet air of every GPU's rack at the last step: room supply + rack offset [°C]."""
        return self.supply_air_c + self.inlet_offset_c

    @property
    def inlet_max_c(self) -> float:
        """The hottest rack inlet at the last step [°C]."""
        return self.supply_air_c + self.inlet_offset_max_c

    def design_it_w(self) -> float:
        return sum(self.design_heat_w())

    def config(self) -> dict[str, object]:
        return {
            "name": self.cfg.name,
            "gpu": self.spec.name,
            "gpus": self.n,
            "nodes": self.nodes,
            "power_cap_w": self.power_cap_w,
            "cooling": self.cooling_type,
            "workload": self.workload.config(),
        }

    # -- physics --------------------------------------------------------------------------------

    def _sink(
        self, supply_air_c: float, liquid_supply_c: float, flow_frac: float = 1.0
    ) -> tuple[FloatArray, FloatArray]:
        """Sink temperature [°C] and junction-to-sink resistance [K/W] of every GPU.

        ``flow_frac`` scales the cold-plate flow: the coolant's rise along the plate grows as 1/flow
        (the plate's convective resistance is held constant, a simplification).
        """
        th = self.cfg.thermal
        if self.cooling_type != "air":
            sink = liquid_supply_c + self.power_w * self.half_rise_k_per_w / flow_frac
            return sink, self.r_fixed  # type: ignore[return-value]
        speed = np.repeat(self.fan_speed, self.gpn)
        r = (
            phys.heatsink_resistance_airflow(
                th.heatsink_base_resistance_k_w, th.heatsink_convective_resistance_k_w, speed
            )
            * self.r_factor
        )
        inlet = supply_air_c + self.inlet_offset_c
        if self.rows_air > 1:
            # Heat picked up by the rows upstream, over the column's air mass flow.
            m_dot = RHO_AIR_KG_M3 * self.cfg.node.airflow_full_speed_m3_s * self.fan_speed / self.cols_air
            p = self.power_w.reshape(self.nodes, self.rows_air, self.cols_air)
            upstream = np.cumsum(p, axis=1) - p
            inlet = inlet + (upstream / (m_dot[:, None, None] * CP_AIR_J_KGK)).reshape(self.n)
        return inlet, r

    def init_temperatures(self, supply_air_c: float, liquid_supply_c: float) -> None:
        sink, r = self._sink(supply_air_c, liquid_supply_c)
        self.temp_c = sink + self.power_w * r

    def step(
        self, t_s: float, dt_s: float, supply_air_c: float, liquid_supply_c: float, flow_frac: float = 1.0
    ) -> HallStep:
        spec, node = self.spec, self.cfg.node
        # 1. workload demand (at the previous step's clock)
        activity = self.workload.activity(t_s, self.clock_mhz, dt_s)
        running = (activity > 0.0) & ~self.shutdown
        # 2. governor: boost ceiling from temperature, hardware slowdown, power limit
        ceiling = phys.boost_clock_limit(self.temp_c, spec) * phys.hardware_slowdown_factor(self.temp_c, spec)
        clock = phys.power_limit_governor(
            self.power_cap_w, activity, self.temp_c, ceiling, spec, initial_mhz=self._governor_mhz
        )
        self._governor_mhz = clock  # warm start of the next step's solve
        self.power_capped = running & (clock < ceiling - 1.0)
        self.thermal = running & (self.temp_c >= spec.slowdown_temp_c)
        clock = np.where(running, clock, spec.clock_idle_mhz)
        # 3. power (a GPU past its shutdown temperature is off until it cools below max operating)
        power = phys.gpu_power(np.where(running, activity, 0.0), clock, self.temp_c, spec)
        power = np.where(self.shutdown, 0.0, power)
        clock = np.where(self.shutdown, 0.0, clock)
        self.clock_mhz, self.power_w = clock, power
        self.tflops = self.workload.throughput_tflops(t_s, clock) * running
        # 4. junction temperature
        sink, r = self._sink(supply_air_c, liquid_supply_c, flow_frac)
        self.supply_air_c = supply_air_c
        self.temp_c = phys.junction_temperature_rc(
            self.temp_c, sink, power, r, self.cfg.thermal.capacitance_j_k, dt_s
        )
        # Thermal shutdown trips the moment a junction reaches the threshold, not at the end of
        # the step: hold a GPU crossing it at the threshold (it is off from the next step on).
        tripped = (self.temp_c >= spec.shutdown_temp_c) & ~self.shutdown
        self.temp_c = np.where(tripped, spec.shutdown_temp_c, self.temp_c)
        self.shutdown = tripped | (self.shutdown & (self.temp_c > spec.max_operating_temp_c))
        # 5. nodes: fans follow the hottest GPU; heat split to liquid and air
        hottest = self.temp_c.reshape(self.nodes, self.gpn).max(axis=1)
        self.fan_speed = phys.server_fan_speed(
            hottest, node.fan_temp_low_c, node.fan_temp_high_c, node.fan_min_speed_frac
        )
        fans = phys.fan_power_affinity(node.fan_rated_power_w, self.fan_speed) if self.node_fans else 0.0
        node_gpu = power.reshape(self.nodes, self.gpn).sum(axis=1)
        self.node_wall_w = (node_gpu + fans + node.base_power_w) / node.psu_efficiency_frac
        gpu_w = float(node_gpu.sum())
        fans_w = float(np.sum(fans))
        other_w = self.nodes * node.base_power_w
        it_w = float(self.node_wall_w.sum())
        if self.cooling_type == "liquid":
            liquid = gpu_w * node.gpu_heat_to_liquid_frac + other_w * node.other_heat_to_liquid_frac
        elif self.cooling_type == "immersion":
            liquid = it_w
        else:
            liquid = 0.0
        airflow = float(self.fan_speed.sum()) * node.airflow_full_speed_m3_s if self.node_fans else 0.0
        return HallStep(
            gpu_w=gpu_w,
            node_fans_w=fans_w,
            it_w=it_w,
            heat_to_liquid_w=liquid,
            heat_to_air_w=it_w - liquid,
            server_airflow_m3_s=airflow,
            tflops_sum=float(self.tflops.sum()),
            active_gpus=int(running.sum()),
            power_capped_gpus=int(self.power_capped.sum()),
            thermal_gpus=int(self.thermal.sum()),
            shutdown_gpus=int(self.shutdown.sum()),
        )


@dataclass
class StepRecord:
    """Everything one step produced, handed to metrics and telemetry."""

    t_s: float
    dry_bulb_c: float
    wet_bulb_c: float
    halls: list[tuple[HallSim, HallStep, PlantOutputs]]
    chain: PowerChainOutputs


class Simulation:
    """A scenario's components and its clock. Iterate :meth:`run` to step it."""

    def __init__(self, scenario: Scenario, weather: Weather | None = None):
        self.scenario = scenario
        self.rng = np.random.default_rng(scenario.seed)
        self.weather = weather if weather is not None else build_weather(scenario)
        self.start_hour = scenario.weather.start_hour_of_year()
        self.halls = [HallSim(h, self.rng) for h in scenario.halls]
        self.plants: list[CoolingPlant] = []
        for hall in self.halls:
            liquid_w, air_w = hall.design_heat_w()
            plant = build_plant(hall.cfg.cooling, liquid_w, air_w)
            self.plants.append(plant)
            first = plant.last
            hall.init_temperatures(first.supply_air_c, first.liquid_supply_c)
        pc = scenario.power_chain
        self.chain = PowerChain(
            design_it_w=sum(h.design_it_w() for h in self.halls),
            distribution=pc.distribution,
            pdu_efficiency=pc.pdu_efficiency_frac,
            other_loads_w=pc.lighting_w + pc.other_loads_w,
        )

    def config(self) -> dict[str, object]:
        return {
            "weather": self.weather.config(),
            "halls": [h.config() for h in self.halls],
            "plants": [p.config() for p in self.plants],
            "power_chain": self.chain.config(),
        }

    def step(self, t_s: float) -> StepRecord:
        """Advance every hall, its plant and the power chain by one ``dt_s`` starting at ``t_s``."""
        dt = self.scenario.dt_s
        tdb, twb = self.weather.at(self.start_hour + t_s / 3600.0)
        results = []
        it_w = cooling_w = 0.0
        for hall, plant in zip(self.halls, self.plants, strict=True):
            prev = plant.last
            hs = hall.step(t_s, dt, prev.supply_air_c, prev.liquid_supply_c, prev.coolant_flow_frac)
            po = plant.step(dt, hs.heat_to_air_w, hs.heat_to_liquid_w, hs.server_airflow_m3_s, tdb, twb)
            results.append((hall, hs, po))
            it_w += hs.it_w
            cooling_w += po.total_w
        return StepRecord(t_s, tdb, twb, results, self.chain.step(it_w, cooling_w))

    def run(self, progress: Callable[[int], None] | None = None) -> Iterator[StepRecord]:
        """Step the scenario to its end, yielding one :class:`StepRecord` per step."""
        dt = self.scenario.dt_s
        for k in range(self.scenario.steps):
            rec = self.step(k * dt)
            if progress is not None:
                progress(k)
            yield rec
