"""The scenario file: TOML validated into pydantic models.

Every field name carries its unit (``supply_air_temp_c``, ``power_cap_w``, ``dt_s``) and every
numeric field its allowed range; unknown keys are rejected. :func:`load_scenario` raises
:class:`ScenarioError` whose ``problems`` name the field path, the value, the unit and what is
allowed, before anything runs. Defaults are engineering values with their source in the field's
description.
"""

from __future__ import annotations

import math
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from aidc.hardware.catalog import GPU_CATALOG, PRECISIONS
from aidc.units import unit_of


class ScenarioError(ValueError):
    """A scenario that cannot run; ``problems`` lists one message per bad field."""

    def __init__(self, problems: list[str], source: str = "scenario"):
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- weather -----------------------------------------------------------------------------------


class WeatherConfig(_Model):
    """Either a bundled climate, a TMY file, or constant conditions (a laboratory)."""

    climate: str | None = Field(None, description="bundled climate name, see aidc.facility.weather")
    file: Path | None = Field(None, description="path to a TMY3 or TMY2 file")
    format: Literal["tmy3", "tmy2"] = "tmy3"
    dry_bulb_c: float | None = Field(None, ge=-60.0, le=60.0)
    relative_humidity_pct: float | None = Field(None, ge=0.0, le=100.0)
    start: str = Field("01-01 00:00", description="start in the typical year, 'MM-DD HH:MM'")

    @model_validator(mode="after")
    def _one_source(self) -> WeatherConfig:
        from aidc.facility.weather import BUNDLED_CLIMATES

        chosen = sum(x is not None for x in (self.climate, self.file, self.dry_bulb_c))
        if chosen != 1:
            raise ValueError("give exactly one of climate, file, or dry_bulb_c (constant weather)")
        if self.climate is not None and self.climate not in BUNDLED_CLIMATES:
            raise ValueError(f"unknown climate {self.climate!r}; bundled: {', '.join(BUNDLED_CLIMATES)}")
        if self.file is not None and not Path(self.file).is_file():
            raise ValueError(f"weather file not found: {self.file}")
        if self.dry_bulb_c is not None and self.relative_humidity_pct is None:
            raise ValueError("constant weather needs relative_humidity_pct too")
        self.start_hour_of_year()
        return self

    def start_hour_of_year(self) -> float:
        m = re.fullmatch(r"(\d{2})-(\d{2}) (\d{2}):(\d{2})", self.start)
        if not m:
            raise ValueError(f"start must be 'MM-DD HH:MM', got {self.start!r}")
        month, day, hour, minute = (int(g) for g in m.groups())
        days_in_month = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
        if not (1 <= month <= 12 and 1 <= day <= days_in_month[month - 1] and hour < 24 and minute < 60):
            raise ValueError(f"start {self.start!r} is not a date of a 365-day year")
        return (sum(days_in_month[: month - 1]) + day - 1) * 24.0 + hour + minute / 60.0


# --- cooling -----------------------------------------------------------------------------------


def _known_chiller(v: str) -> str:
    from aidc.facility.cooling import CHILLER_CURVES

    if v not in CHILLER_CURVES:
        raise ValueError(f"unknown chiller {v!r}; known: {', '.join(CHILLER_CURVES)}")
    return v


ChillerName = Annotated[str, AfterValidator(_known_chiller)]


class HeatRejectionConfig(_Model):
    type: Literal["cooling_tower", "dry_cooler"]
    design_approach_k: float = Field(
        4.0,
        gt=0.5,
        le=20.0,
        description="leaving water minus ambient (wet-bulb: towers, dry-bulb: dry coolers) at design heat",
    )
    specific_fan_power_w_per_kw: float = Field(
        12.7,
        gt=0.0,
        le=100.0,
        description="fan power at design per kW rejected; 12.7 = ASHRAE 90.1-2019 Table 6.8.1-7 minimum for "
        "axial open towers (40.2 gpm/hp at 35/29.4/23.9 °C)",
    )


def _tower() -> HeatRejectionConfig:
    return HeatRejectionConfig(type="cooling_tower")


def _dry_cooler() -> HeatRejectionConfig:
    # Dry coolers: 8 K approach and 25 W/kW are typical catalogue design points for adiabatic-free
    # units (assumption; no single published standard value).
    return HeatRejectionConfig(type="dry_cooler", design_approach_k=8.0, specific_fan_power_w_per_kw=25.0)


class AirCoolingConfig(_Model):
    type: Literal["air"] = "air"
    supply_air_temp_c: float = Field(24.0, ge=10.0, le=35.0, description="ASHRAE TC9.9 recommended 18–27 °C")
    chw_supply_temp_c: float = Field(14.0, ge=4.0, le=25.0)
    chw_delta_t_k: float = Field(6.0, gt=1.0, le=20.0)
    crah_coil_approach_k: float = Field(3.0, ge=0.5, le=10.0)
    crah_delta_t_k: float = Field(12.0, gt=2.0, le=30.0, description="air temperature rise at design airflow")
    crah_fan_pressure_pa: float = Field(
        400.0, gt=0.0, le=2000.0, description="total pressure of CRAH fans (assumption)"
    )
    crah_fan_efficiency_frac: float = Field(
        0.6, gt=0.1, le=0.95, description="EC plug fan wire-to-air (assumption)"
    )
    crah_min_airflow_frac: float = Field(0.3, ge=0.0, le=1.0)
    economizer: bool = True
    economizer_hx_approach_k: float = Field(1.5, ge=0.0, le=10.0)
    chiller: ChillerName = "mcquay-pfh-2124kw-6.03cop"
    chiller_units: int = Field(2, ge=1, le=64)
    heat_rejection: HeatRejectionConfig = Field(default_factory=_tower)
    pump_head_kpa: float = Field(250.0, gt=0.0, le=2000.0)
    pump_efficiency_frac: float = Field(0.7, gt=0.1, le=0.95)


class LiquidCoolingConfig(_Model):
    type: Literal["liquid"] = "liquid"
    facility_supply_temp_c: float = Field(32.0, ge=2.0, le=45.0, description="ASHRAE W32 class by default")
    cdu_approach_k: float = Field(3.0, ge=0.5, le=15.0)
    fws_delta_t_k: float = Field(6.0, gt=1.0, le=20.0)
    tcs_delta_t_k: float = Field(8.0, gt=1.0, le=20.0)
    cdu_pump_head_kpa: float = Field(200.0, gt=0.0, le=2000.0)
    fws_pump_head_kpa: float = Field(150.0, gt=0.0, le=2000.0)
    pump_efficiency_frac: float = Field(0.7, gt=0.1, le=0.95)
    heat_rejection: HeatRejectionConfig = Field(default_factory=_dry_cooler)
    chiller: ChillerName = "mcquay-pfh-2124kw-6.03cop"
    chiller_units: int = Field(2, ge=1, le=64)
    residual_air: AirCoolingConfig = Field(default_factory=AirCoolingConfig)


class ImmersionCoolingConfig(_Model):
    type: Literal["immersion"] = "immersion"
    facility_supply_temp_c: float = Field(35.0, ge=2.0, le=50.0)
    hx_approach_k: float = Field(3.0, ge=0.5, le=15.0)
    fluid_delta_t_k: float = Field(8.0, gt=1.0, le=30.0)
    fluid_density_kg_m3: float = Field(
        820.0, gt=500.0, le=2000.0, description="PAO-6 class hydrocarbon near 40 °C"
    )
    fluid_cp_j_kgk: float = Field(
        2200.0, gt=500.0, le=5000.0, description="PAO-6 class hydrocarbon near 40 °C"
    )
    fluid_pump_head_kpa: float = Field(150.0, gt=0.0, le=2000.0)
    fws_delta_t_k: float = Field(6.0, gt=1.0, le=20.0)
    fws_pump_head_kpa: float = Field(150.0, gt=0.0, le=2000.0)
    pump_efficiency_frac: float = Field(0.7, gt=0.1, le=0.95)
    heat_rejection: HeatRejectionConfig = Field(default_factory=_dry_cooler)
    chiller: ChillerName = "mcquay-pfh-2124kw-6.03cop"
    chiller_units: int = Field(2, ge=1, le=64)


CoolingConfig = Annotated[
    AirCoolingConfig | LiquidCoolingConfig | ImmersionCoolingConfig, Field(discriminator="type")
]


# --- nodes and GPUs --------------------------------------------------------------------------


class NodeConfig(_Model):
    """One server: its GPUs, everything else on the board, its power supplies and fans."""

    gpus_per_node: int = Field(8, ge=1, le=72)
    base_power_w: float = Field(
        2000.0,
        ge=0.0,
        le=20000.0,
        description="CPUs, DRAM, NICs, switches and storage under load (DC side, fans excluded)",
    )
    psu_efficiency_frac: float = Field(
        0.96, gt=0.5, le=1.0, description="80 PLUS Titanium at 50 % load: 96 %"
    )
    fan_rated_power_w: float = Field(400.0, ge=0.0, le=10000.0, description="all chassis fans at full speed")
    fan_min_speed_frac: float = Field(0.3, ge=0.05, le=1.0)
    fan_temp_low_c: float = Field(45.0, ge=0.0, le=100.0)
    fan_temp_high_c: float = Field(85.0, ge=0.0, le=120.0)
    airflow_full_speed_m3_s: float = Field(
        0.47, gt=0.0, le=10.0, description="through the GPU zone at full fan speed"
    )
    gpu_rows_in_airflow: int = Field(2, ge=1, le=8, description="GPUs in series along the airflow")
    gpu_heat_to_liquid_frac: float = Field(
        0.95, ge=0.0, le=1.0, description="liquid nodes: GPU heat into cold plates"
    )
    other_heat_to_liquid_frac: float = Field(
        0.5, ge=0.0, le=1.0, description="liquid nodes: non-GPU heat into cold plates"
    )

    @model_validator(mode="after")
    def _check(self) -> NodeConfig:
        if self.fan_temp_high_c <= self.fan_temp_low_c:
            raise ValueError("fan_temp_high_c must be above fan_temp_low_c")
        if self.gpus_per_node % self.gpu_rows_in_airflow:
            raise ValueError("gpu_rows_in_airflow must divide gpus_per_node")
        return self


class ThermalConfig(_Model):
    """Junction-to-sink thermal path of each GPU.

    Defaults are the values calibrated on the 8×H100 liquid/air pair of arXiv 2507.16781 (README,
    "Calibration"); they fall in the ranges published for such parts: cold plates 0.02–0.05 K/W
    junction to coolant, forced-air heat sinks 0.04–0.07 K/W junction to inlet at full airflow.
    """

    cold_plate_resistance_k_w: float = Field(0.032, gt=0.0, le=1.0, description="junction to coolant")
    heatsink_base_resistance_k_w: float = Field(
        0.024, gt=0.0, le=1.0, description="junction to fins (conduction)"
    )
    heatsink_convective_resistance_k_w: float = Field(
        0.020, gt=0.0, le=1.0, description="fins to air at full airflow"
    )
    immersion_resistance_k_w: float = Field(0.045, gt=0.0, le=1.0, description="junction to bulk fluid")
    capacitance_j_k: float = Field(600.0, gt=0.0, le=1e5, description="package + sink heat capacity")
    resistance_spread_frac: float = Field(0.15, ge=0.0, le=0.5, description="GPU-to-GPU spread (uniform ±)")
    cold_plate_flow_l_min: float = Field(1.5, gt=0.0, le=50.0, description="coolant flow per GPU cold plate")


class _Job(_Model):
    name: str = "job"
    gpus: int | None = Field(None, ge=1, description="GPUs the job uses; all remaining if omitted")
    start_s: float = Field(0.0, ge=0.0)
    end_s: float | None = Field(None, gt=0.0)
    precision: str = "bf16"

    @field_validator("precision")
    @classmethod
    def _known_precision(cls, v: str) -> str:
        if v not in PRECISIONS:
            raise ValueError(f"unknown precision {v!r}; known: {', '.join(PRECISIONS)}")
        return v

    @model_validator(mode="after")
    def _order(self) -> _Job:
        if self.end_s is not None and self.end_s <= self.start_s:
            raise ValueError("end_s must be after start_s")
        return self


class BurnJob(_Job):
    """Sustained compute at one precision (a burn-in test, a benchmark, a steady kernel mix)."""

    type: Literal["burn"] = "burn"
    activity_frac: float = Field(
        0.9, ge=0.0, le=1.0, description="switching activity vs the hungriest kernel"
    )
    mfu_frac: float = Field(0.5, gt=0.0, le=1.0, description="achieved fraction of peak at the maximum clock")


class TrainingJob(_Job):
    """LLM training steps: a compute phase that scales with the clock, a communication phase
    (all-reduce / all-to-all) that does not."""

    type: Literal["training"] = "training"
    compute_s_at_max_clock: float = Field(4.0, gt=0.0, le=3600.0)
    comm_s: float = Field(1.0, ge=0.0, le=3600.0)
    compute_activity_frac: float = Field(0.9, ge=0.0, le=1.0)
    comm_activity_frac: float = Field(0.25, ge=0.0, le=1.0)
    mfu_compute_frac: float = Field(
        0.5, gt=0.0, le=1.0, description="fraction of peak during the compute phase"
    )


class IdleJob(_Job):
    type: Literal["idle"] = "idle"


class SharedPrefixConfig(_Model):
    """A share of requests starts with one of ``groups`` common prefixes (system prompts, documents)."""

    groups: int = Field(8, ge=1, le=1_000_000)
    tokens: int = Field(1024, ge=1, le=1_000_000, description="prefix length [tokens]")
    share: float = Field(0.5, ge=0.0, le=1.0, description="share of requests with a shared prefix")


class ServingJob(_Job):
    """LLM serving: replicas of a model on groups of GPUs, driven by a request trace
    (:mod:`aidc.workload.serving`). The GPUs of the job are split into replicas of
    ``gpus_per_replica`` consecutive GPUs (tensor-parallel groups)."""

    type: Literal["serving"] = "serving"
    model: str = Field("llama-3.1-8b", description="a preset of aidc.model.presets")
    gpus_per_replica: int = Field(1, ge=1, le=1024, description="tensor-parallel degree")
    expert_parallel: bool = False
    kv_bits: Literal[8, 16] = 16
    link: str = Field("nvlink4", description="GPU-to-GPU path, aidc.hardware.interconnect.LINKS")
    max_violation: float = Field(0.0, ge=0.0, le=10.0, description="expert load imbalance (MaxVio)")
    trace: str = Field("azure-conv", description="azure-conv, azure-code, or a CSV file")
    trace_start_s: float = Field(0.0, ge=0.0, description="offset into the trace")
    rate_per_s: float | None = Field(None, gt=0.0, le=1e6, description="rescale the trace to this rate")
    shared_prefix: SharedPrefixConfig | None = None
    router: Literal["round-robin", "least-loaded", "tiered"] = "least-loaded"
    small_model: str | None = Field(None, description="tiered router: the smaller model's preset")
    small_replicas: int = Field(1, ge=1, le=100_000, description="tiered router: replicas of the small model")
    small_gpus_per_replica: int = Field(1, ge=1, le=1024)
    tier_threshold_tokens: int = Field(
        1024, ge=1, le=1_048_576, description="tiered router: prompts up to this go to the small model"
    )
    prefill_replicas: int | None = Field(
        None, ge=1, description="disaggregate: this many replicas prefill, the others decode"
    )
    kv_transfer_link: str = Field("ib-ndr", description="path of the KV cache from prefill to decode")
    max_num_seqs: int = Field(256, ge=1, le=65536)
    max_batched_tokens: int = Field(8192, ge=1, le=1_048_576)
    max_tokens: int = Field(4096, ge=1, le=1_048_576, description="worst-case output reserved per request")
    overcommit_ratio: float = Field(4.0, gt=0.0, le=1000.0)
    swap_tier: str | None = Field(
        "host-dram-pcie5", description="aidc.hardware.interconnect.MEMORY_TIERS, or none"
    )
    swap_gb: float | None = Field(None, ge=0.0, le=1e6, description="swap space per GPU [GB]")
    prefix_caching: bool = True
    mtp_acceptance: float | None = Field(None, ge=0.0, le=1.0, description="MTP draft acceptance rate")
    slo_ttft_s: float | None = Field(None, gt=0.0, le=3600.0)
    slo_tpot_s: float | None = Field(None, gt=0.0, le=60.0)
    slo_e2e_s: float | None = Field(None, gt=0.0, le=86400.0)

    @field_validator("model", "small_model", "link", "swap_tier", "kv_transfer_link")
    @classmethod
    def _known_name(cls, v: str | None, info) -> str | None:
        from aidc.hardware.interconnect import LINKS, MEMORY_TIERS
        from aidc.model.presets import PRESETS

        catalog, what = {
            "model": (PRESETS, "model"),
            "small_model": (PRESETS, "model"),
            "link": (LINKS, "link"),
            "kv_transfer_link": (LINKS, "link"),
            "swap_tier": (MEMORY_TIERS, "swap tier"),
        }[info.field_name]
        if v is not None and v not in catalog:
            raise ValueError(f"unknown {what} {v!r}; known: {', '.join(catalog)}")
        return v

    @model_validator(mode="after")
    def _slo_consistent(self) -> ServingJob:
        if self.slo_tpot_s is not None and self.slo_e2e_s is not None and self.slo_tpot_s > self.slo_e2e_s:
            raise ValueError(
                f"slo_tpot_s = {self.slo_tpot_s:g} s per token is longer than slo_e2e_s = "
                f"{self.slo_e2e_s:g} s for the whole request"
            )
        if self.slo_ttft_s is not None and self.slo_e2e_s is not None and self.slo_ttft_s > self.slo_e2e_s:
            raise ValueError(
                f"slo_ttft_s = {self.slo_ttft_s:g} s is longer than slo_e2e_s = {self.slo_e2e_s:g} s"
            )
        return self


JobConfig = Annotated[BurnJob | TrainingJob | IdleJob | ServingJob, Field(discriminator="type")]


class HallConfig(_Model):
    name: str = "hall"
    rows: int = Field(1, ge=1, le=1000)
    racks_per_row: int = Field(1, ge=1, le=1000)
    nodes_per_rack: int = Field(1, ge=1, le=128)
    gpu: str = "H100-SXM"
    power_cap_w: float | None = Field(
        None, gt=0.0, description="per-GPU power limit; the GPU's TDP if omitted"
    )
    inlet_offset_mean_c: float = Field(
        1.0, ge=-5.0, le=20.0, description="rack inlet above supply air (recirculation)"
    )
    inlet_offset_std_c: float = Field(1.0, ge=0.0, le=10.0, description="rack-to-rack spread of that offset")
    node: NodeConfig = Field(default_factory=NodeConfig)
    thermal: ThermalConfig = Field(default_factory=ThermalConfig)
    cooling: CoolingConfig = Field(default_factory=AirCoolingConfig)
    jobs: list[JobConfig] = Field(default_factory=list)

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, v: str) -> str:
        if v not in GPU_CATALOG:
            raise ValueError(f"unknown GPU {v!r}; known: {', '.join(GPU_CATALOG)}")
        return v

    @model_validator(mode="after")
    def _check(self) -> HallConfig:
        spec = GPU_CATALOG[self.gpu]
        if self.power_cap_w is not None and not (
            spec.power_cap_min_w <= self.power_cap_w <= spec.power_cap_max_w
        ):
            raise ValueError(
                f"power_cap_w = {self.power_cap_w:g} W is outside the {self.gpu}'s range "
                f"{spec.power_cap_min_w:g}–{spec.power_cap_max_w:g} W"
            )
        for job in self.jobs:
            if job.precision not in spec.peak_dense_tflops:
                raise ValueError(f"job {job.name!r}: {self.gpu} has no {job.precision} throughput")
        asked = sum(j.gpus or 0 for j in self.jobs)
        if asked > self.gpu_count:
            raise ValueError(f"jobs ask for {asked} GPUs but the hall has {self.gpu_count}")
        first = 0
        for job in self.jobs:
            count = job.gpus if job.gpus is not None else self.gpu_count - first
            first += count
            if isinstance(job, ServingJob):
                _check_serving(job, spec, count)
        return self

    @property
    def node_count(self) -> int:
        return self.rows * self.racks_per_row * self.nodes_per_rack

    @property
    def gpu_count(self) -> int:
        return self.node_count * self.node.gpus_per_node


def _check_serving(job: ServingJob, spec, gpus: int) -> None:
    """Before anything runs: the replicas tile the job's GPUs, the model fits them, the trace loads."""
    from aidc.hardware.interconnect import LINKS
    from aidc.workload.jobs import serving_pools
    from aidc.workload.traces import load_trace

    if (job.router == "tiered") != (job.small_model is not None):
        raise ValueError(f"job {job.name!r}: the tiered router and small_model go together")
    if job.router == "tiered" and job.prefill_replicas is not None:
        raise ValueError(f"job {job.name!r}: the tiered router does not combine with prefill_replicas")
    small_gpus = job.small_replicas * job.small_gpus_per_replica if job.small_model else 0
    if gpus - small_gpus < job.gpus_per_replica or (gpus - small_gpus) % job.gpus_per_replica:
        raise ValueError(
            f"job {job.name!r}: its {gpus} GPUs (less {small_gpus} for the small model) do not split into "
            f"replicas of gpus_per_replica = {job.gpus_per_replica}"
        )
    replicas = (gpus - small_gpus) // job.gpus_per_replica
    if job.prefill_replicas is not None and job.prefill_replicas >= replicas:
        raise ValueError(
            f"job {job.name!r}: prefill_replicas = {job.prefill_replicas} leaves none of its {replicas} "
            "replicas to decode"
        )
    for dep, _, _ in serving_pools(job, spec, LINKS, gpus):
        dep.check_fits()
    load_trace(job.trace)


class PowerChainConfig(_Model):
    distribution: Literal["ac", "dc_800v"] = "ac"
    pdu_efficiency_frac: float = Field(0.985, gt=0.8, le=1.0, description="PDU with isolation transformer")
    lighting_w: float = Field(0.0, ge=0.0)
    other_loads_w: float = Field(0.0, ge=0.0, description="offices, security, building loads")


class TelemetryConfig(_Model):
    sample_s: float | None = Field(
        None, gt=0.0, description="keep one sample every sample_s; every step if omitted"
    )
    per_gpu: bool = Field(False, description="also store every GPU's series (small sites only)")
    chunk_rows: int = Field(2048, ge=1, le=1_000_000)


class Scenario(_Model):
    name: str = "scenario"
    description: str = ""
    seed: int = Field(0, ge=0)
    duration_s: float = Field(3600.0, gt=0.0, le=10 * 365 * 86400.0)
    dt_s: float = Field(10.0, ge=1.0, le=900.0, description="time step, 1 s to 15 min")
    warmup_s: float = Field(
        0.0, ge=0.0, description="time kept out of the run's summary metrics while temperatures settle"
    )
    weather: WeatherConfig
    halls: list[HallConfig] = Field(min_length=1)
    power_chain: PowerChainConfig = Field(default_factory=PowerChainConfig)
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if self.dt_s > self.duration_s:
            raise ValueError(f"dt_s = {self.dt_s:g} s is longer than duration_s = {self.duration_s:g} s")
        if self.warmup_s >= self.duration_s:
            raise ValueError(
                f"warmup_s = {self.warmup_s:g} s leaves nothing of duration_s = {self.duration_s:g} s"
            )
        if self.telemetry.sample_s is not None and self.telemetry.sample_s < self.dt_s:
            raise ValueError("telemetry.sample_s must be at least dt_s")
        names = [h.name for h in self.halls]
        if len(set(names)) != len(names):
            raise ValueError(f"hall names must be unique, got {names}")
        return self

    @property
    def steps(self) -> int:
        return math.ceil(self.duration_s / self.dt_s - 1e-9)


def _describe(err: dict[str, Any]) -> str:
    loc = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "tagged-union"))]
    path = ".".join(loc) or "(scenario)"
    field = loc[-1] if loc else ""
    unit = unit_of(field)
    unit_s = f" {unit}" if unit and not unit.startswith(("fraction", "ratio")) else ""
    ctx = err.get("ctx") or {}
    bounds = []
    for key, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
        if key in ctx:
            bounds.append(f"{sym} {ctx[key]}{unit_s}")
    allowed = f" (allowed: {' and '.join(bounds)})" if bounds else ""
    if err["type"] == "extra_forbidden":
        return f"{path}: unknown key"
    if err["type"] == "missing":
        return f"{path}: required"
    value = err.get("input")
    shown = "" if isinstance(value, dict | list) else f" = {value!r}{unit_s}"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{path}{shown}: {msg}{allowed}"


def validate_scenario(data: dict[str, Any], source: str = "scenario") -> Scenario:
    """Validate a parsed scenario; ``ScenarioError`` lists every problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError([_describe(err) for err in e.errors()], source) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file. Relative weather paths resolve against its folder."""
    p = Path(path)
    if not p.is_file():
        raise ScenarioError([f"file not found: {p}"], str(p))
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ScenarioError([f"not valid TOML: {e}"], str(p)) from None
    weather = data.get("weather")
    if isinstance(weather, dict) and isinstance(weather.get("file"), str):
        wf = Path(weather["file"])
        if not wf.is_absolute():
            weather["file"] = str((p.parent / wf).resolve())
    return validate_scenario(data, str(p))
