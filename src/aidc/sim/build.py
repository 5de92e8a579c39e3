"""The composition root: the one place a validated scenario becomes components.

:func:`build_simulation` reads the weather, lays out each hall's nodes and jobs, builds every serving
deployment and its trace, sizes the cooling plants and the power chain. Whatever cannot be built
(a weather file that does not parse, a model that does not fit its GPUs, replicas that do not tile a
job's GPUs, a trace that does not load or whose prompts cannot run, halls too big for this machine's
memory) is collected as a :class:`ScenarioError` naming the field path, before anything runs: the
CLI reports it with exit status 2 and writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from aidc.facility.chillers import CHILLER_CURVES
from aidc.facility.cooling import PLANTS, CoolingPlant
from aidc.facility.equipment import HeatRejection
from aidc.facility.grid import load_grid_signals, read_grid_csv
from aidc.facility.power import PowerChain
from aidc.facility.site import Site
from aidc.facility.solar import PVPlant, PVSpec, load_solar_climate, read_tmy_solar
from aidc.facility.storage import Battery, BatterySpec
from aidc.facility.thermal_mass import ROOM_FLOOR_M2_PER_RACK, ROOM_HEIGHT_M, SERVER_CONTENTS_J_K_PER_KW
from aidc.facility.weather import Weather, constant_weather, load_climate, load_tmy
from aidc.hardware.catalog import GPUSpec, get_gpu
from aidc.hardware.interconnect import LINKS, MEMORY_TIERS
from aidc.hardware.node import THERMAL_PATHS, NodeSpec
from aidc.scenario import CoolingConfig, HallConfig, Scenario, ScenarioError, ServingJob
from aidc.scenario.gpu_parameters import load_gpu_parameters
from aidc.sim.build_faults import build_backup, build_timeline
from aidc.sim.engine import Simulation, supply_of
from aidc.sim.hall import HallSim
from aidc.sim.site_cap import CapEvent, SiteCapFollower
from aidc.workload.jobs import HallWorkload
from aidc.workload.serving.deploy import JobFieldError, ServingRun, build_serving_run

T = TypeVar("T")

# Memory a run holds [B], measured with tracemalloc over build_simulation and three steps of
# api.run_scenario on a 10,240-GPU hall (demo_hall.toml's hall with 32 rows): a peak of 317 B per
# GPU for air, liquid and immersion alike (the hall's per-GPU arrays, a step's temporaries, the
# metrics), 418 B with telemetry.per_gpu; each serving replica adds 4.1 kB (tp 1) to 4.8 kB (tp 8).
# Rounded up for the interpreter and the allocator.
RUN_BYTES_PER_GPU = 400
RUN_BYTES_PER_GPU_TELEMETRY = 150  # more per GPU with telemetry.per_gpu
RUN_BYTES_PER_REPLICA = 6_000


class _Problems:
    """Collects build errors under their scenario field paths."""

    def __init__(self) -> None:
        self.items: list[str] = []

    def attempt(self, path: str, build: Callable[[], T]) -> T | None:
        try:
            return build()
        except JobFieldError as e:  # "field = value unit: rule"
            self.items.append(f"{path}.{e}")
        except (ValueError, OSError, KeyError) as e:
            self.items.append(f"{path}: {e.args[0] if isinstance(e, KeyError) and e.args else e}")
        return None


def machine_memory_bytes() -> int | None:
    """Physical memory of this machine [B], or None where the OS does not say."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None


def run_memory_bytes(scenario: Scenario) -> int:
    """What simulating ``scenario`` holds in memory at its peak, estimated [B]: per GPU and per
    serving replica (see ``RUN_BYTES_PER_GPU``); serving traces and the store's buffers not counted."""
    total = 0
    per_gpu = _bytes_per_gpu(scenario)
    for hall in scenario.halls:
        total += hall.gpu_count * per_gpu
        for job, gpus in zip(hall.jobs, hall.job_gpus(), strict=True):
            if isinstance(job, ServingJob):
                small = job.small_replicas if job.small_model is not None else 0
                large = max(gpus.stop - gpus.start - small * job.small_gpus_per_replica, 0)
                total += (small + large // job.gpus_per_replica) * RUN_BYTES_PER_REPLICA
    return total


def check_memory(scenario: Scenario, available_bytes: int | None) -> None:
    """``ValueError`` if the run would not fit in ``available_bytes`` of memory (None: no check)."""
    need = run_memory_bytes(scenario)
    if available_bytes is not None and need > available_bytes:
        gpus = sum(h.gpu_count for h in scenario.halls)
        raise ValueError(
            f"{gpus:,} GPUs need about {_size(need)} of memory to simulate "
            f"({_bytes_per_gpu(scenario)} B per GPU, {RUN_BYTES_PER_REPLICA:,} B per serving replica); "
            f"this machine has {_size(available_bytes)}"
        )


def _bytes_per_gpu(scenario: Scenario) -> int:
    return RUN_BYTES_PER_GPU + (RUN_BYTES_PER_GPU_TELEMETRY if scenario.telemetry.per_gpu else 0)


def _size(nbytes: float) -> str:
    for unit, scale in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if nbytes >= scale:
            return f"{nbytes / scale:,.1f} {unit}"
    return f"{nbytes:,.0f} B"


def build_weather(scenario: Scenario) -> Weather:
    w = scenario.weather
    if w.climate is not None:
        return load_climate(w.climate)
    if w.file is not None:
        return load_tmy(str(w.file), w.format)
    assert w.dry_bulb_c is not None and w.relative_humidity_pct is not None  # checked by the schema
    return constant_weather(w.dry_bulb_c, w.relative_humidity_pct / 100.0)


def node_spec(cfg: HallConfig, rng: np.random.Generator) -> NodeSpec:
    """The hall's nodes, with the GPU-to-GPU spread of the thermal path and each rack's inlet
    offset drawn from ``rng`` (in that order: the draws are part of the seed's contract)."""
    node, th = cfg.node, cfg.thermal
    s = th.resistance_spread_frac
    r_factor = rng.uniform(1.0 - s, 1.0 + s, cfg.gpu_count)
    racks = cfg.rows * cfg.racks_per_row
    rack_offset = rng.normal(cfg.inlet_offset_mean_c, cfg.inlet_offset_std_c, racks)
    return NodeSpec(
        nodes=cfg.node_count,
        gpus_per_node=node.gpus_per_node,
        gpu_rows_in_airflow=node.gpu_rows_in_airflow,
        airflow_full_speed_m3_s=node.airflow_full_speed_m3_s,
        heatsink_base_resistance_k_w=th.heatsink_base_resistance_k_w,
        heatsink_convective_resistance_k_w=th.heatsink_convective_resistance_k_w,
        cold_plate_resistance_k_w=th.cold_plate_resistance_k_w,
        immersion_resistance_k_w=th.immersion_resistance_k_w,
        cold_plate_flow_l_min=th.cold_plate_flow_l_min,
        capacitance_j_k=th.capacitance_j_k,
        base_power_w=node.base_power_w,
        psu_efficiency_frac=node.psu_efficiency_frac,
        fan_rated_power_w=node.fan_rated_power_w,
        fan_min_speed_frac=node.fan_min_speed_frac,
        fan_temp_low_c=node.fan_temp_low_c,
        fan_temp_high_c=node.fan_temp_high_c,
        gpu_heat_to_liquid_frac=node.gpu_heat_to_liquid_frac,
        other_heat_to_liquid_frac=node.other_heat_to_liquid_frac,
        r_factor=r_factor,
        inlet_offset_c=np.repeat(rack_offset, cfg.nodes_per_rack * node.gpus_per_node),
    )


def build_plant(
    cfg: CoolingConfig,
    design_liquid_heat_w: float,
    design_air_heat_w: float,
    racks: int = 0,
    hall_heat_w: float | None = None,
) -> CoolingPlant:
    """The plant a hall's cooling config names, sized for its design heat loads [W].

    A liquid plant's loop is sized on the heat to liquid and its residual air plant on the heat to
    air; air and immersion plants take it all. The room of an air plant (or a liquid plant's
    residual air) is the hall's: ``racks`` racks' floor (when the scenario does not give its
    volume) and the servers of the whole hall (``hall_heat_w``, design heat; this plant's if
    omitted). Every other field passes through by name.
    """
    extra: dict[str, object] = {}
    design = design_liquid_heat_w + design_air_heat_w
    if cfg.type == "liquid":
        design = max(design_liquid_heat_w, 1.0)  # nodes may send (almost) nothing to the liquid
        extra["residual_air"] = build_plant(
            cfg.residual_air,
            0.0,
            max(design_air_heat_w, 1.0),
            racks,
            design_liquid_heat_w + design_air_heat_w,
        )
    rej = cfg.heat_rejection
    skip = ("type", "chiller", "heat_rejection", "residual_air", "chiller_restart_s", "room_volume_m3")
    fields = {k: getattr(cfg, k) for k in type(cfg).model_fields if k not in skip}
    if cfg.type == "air":
        room = cfg.room_volume_m3
        extra["room_volume_m3"] = room if room is not None else racks * ROOM_FLOOR_M2_PER_RACK * ROOM_HEIGHT_M
        servers_w = design if hall_heat_w is None else hall_heat_w
        extra["servers_j_k"] = SERVER_CONTENTS_J_K_PER_KW * servers_w / 1e3
    return PLANTS[cfg.type](
        design_heat_w=design,
        chiller=CHILLER_CURVES[cfg.chiller],
        heat_rejection=HeatRejection(
            rej.type, design, rej.design_approach_k, rej.specific_fan_power_w_per_kw
        ),
        **fields,
        **extra,
    )


def _serving_runs(
    i: int, cfg: HallConfig, spec: GPUSpec, seed: int, problems: _Problems
) -> dict[int, ServingRun]:
    runs = {}
    for j, (job, gpus) in enumerate(zip(cfg.jobs, cfg.job_gpus(), strict=True)):
        if isinstance(job, ServingJob):
            run = problems.attempt(
                f"halls.{i}.jobs.{j}",
                lambda job=job, gpus=gpus: build_serving_run(job, spec, gpus, LINKS, MEMORY_TIERS, seed),
            )
            if run is not None:
                runs[j] = run
    return runs


def hall_device(cfg: HallConfig) -> tuple[GPUSpec, HallConfig]:
    """The hall's GPU and its config, with its ``gpu_parameters`` file applied: the file's power
    split replaces the catalog's, its thermal path the hall's defaults. ``ValueError`` when the
    file cannot be read, refines another GPU, or sets a thermal field the hall sets too."""
    if cfg.gpu_parameters is None:
        return get_gpu(cfg.gpu), cfg
    params = load_gpu_parameters(cfg.gpu_parameters)
    if params.gpu != cfg.gpu:
        raise ValueError(f"{cfg.gpu_parameters} was fitted for {params.gpu}, the hall has {cfg.gpu}")
    thermal = params.thermal_overrides()
    both = sorted(set(thermal) & cfg.thermal.model_fields_set)
    if both:
        raise ValueError(
            f"{cfg.gpu_parameters} and halls.thermal both set {', '.join(both)}: remove one of them"
        )
    return params.spec(), cfg.model_copy(update={"thermal": cfg.thermal.model_copy(update=thermal)})


def _hall(
    cfg: HallConfig, spec: GPUSpec, rng: np.random.Generator, serving: dict[int, ServingRun]
) -> HallSim:
    node = node_spec(cfg, rng)
    path = THERMAL_PATHS[cfg.cooling.type]
    workload = HallWorkload(cfg, spec, serving)
    return HallSim(
        cfg.name, spec, node, path, workload, power_cap_w=cfg.power_cap_w, cooling=cfg.cooling.type
    )


def build_simulation(scenario: Scenario, weather: Weather | None = None) -> Simulation:
    """Every component of ``scenario``; ``ScenarioError`` lists what cannot be built, by field."""
    problems = _Problems()
    problems.attempt("halls", lambda: check_memory(scenario, machine_memory_bytes()))
    if problems.items:  # nothing bigger is built
        raise ScenarioError(problems.items, scenario.name)
    if weather is None:
        weather = problems.attempt("weather", lambda: build_weather(scenario))
    devices = [
        problems.attempt(f"halls.{i}.gpu_parameters", lambda cfg=cfg: hall_device(cfg))
        for i, cfg in enumerate(scenario.halls)
    ]
    serving = [
        _serving_runs(i, d[1], d[0], scenario.seed, problems) if d else {} for i, d in enumerate(devices)
    ]
    site = None
    if scenario.site and weather is not None:  # PV reads the weather's file: only once it parsed
        site = problems.attempt("site", lambda: build_site(scenario))
    if problems.items:
        raise ScenarioError(problems.items, scenario.name)
    rng = np.random.default_rng(scenario.seed)
    halls = [_hall(cfg, spec, rng, runs) for (spec, cfg), runs in zip(devices, serving, strict=True)]
    plants = []
    for hall, cfg in zip(halls, scenario.halls, strict=True):
        plant = build_plant(cfg.cooling, *hall.design_heat_w(), cfg.rows * cfg.racks_per_row)
        hall.init_temperatures(supply_of(plant.state()))
        plants.append(plant)
    pc = scenario.power_chain
    chain = PowerChain(
        design_it_w=sum(sum(h.design_heat_w()) for h in halls),
        distribution=pc.distribution,
        pdu_efficiency=pc.pdu_efficiency_frac,
        other_loads_w=pc.lighting_w + pc.other_loads_w,
    )
    follower = None
    if scenario.site and scenario.site.demand_response:
        events = [CapEvent(e.start_s, e.end_s, e.cap_kw * 1e3) for e in scenario.site.demand_response]
        follower = SiteCapFollower(events, halls)
    backup = build_backup(scenario, chain.rated_it_w)
    return Simulation(
        scenario, weather, halls, plants, chain, site, follower, build_timeline(scenario), backup
    )


def build_site(scenario: Scenario) -> Site:
    """PV on the same weather file the cooling reads, and the battery, at the meter."""
    cfg, w = scenario.site, scenario.weather
    assert cfg is not None  # called only for a scenario with a site
    pv = None
    if cfg.pv is not None:
        resource = load_solar_climate(w.climate) if w.climate else read_tmy_solar(str(w.file), w.format)
        pv = PVPlant(PVSpec(**cfg.pv.model_dump()), resource, w.start_hour_of_year())
    battery = None
    if (b := cfg.battery) is not None:
        given = {k: getattr(b, k) for k in ("soc_min_frac", "soc_max_frac", "initial_soc_frac")}
        chosen = {k: v for k, v in given.items() if v is not None}
        if b.round_trip_efficiency_frac is not None:
            one_way = b.round_trip_efficiency_frac**0.5
            chosen |= {"charge_efficiency": one_way, "discharge_efficiency": one_way}
        spec = BatterySpec.for_chemistry(
            b.chemistry, b.capacity_kwh, b.max_charge_kw, b.max_discharge_kw, **chosen
        )
        battery = Battery(spec)
    limit_w = cfg.grid_limit_kw * 1e3 if cfg.grid_limit_kw is not None else float("inf")
    signals = read_grid_csv(cfg.grid_signals_file) if cfg.grid_signals_file else None
    if cfg.grid_signals is not None:
        signals = load_grid_signals(cfg.grid_signals)
    return Site(pv, battery, cfg.dispatch, limit_w, cfg.export_allowed, signals, w.start_hour_of_year())
