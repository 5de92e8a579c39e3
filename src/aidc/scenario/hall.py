"""Scenario halls: rows of racks of nodes of GPUs, their thermal paths, cooling and jobs."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from aidc.hardware.catalog import GPU_CATALOG
from aidc.scenario.common import FrozenModel, known_name
from aidc.scenario.facility import AirCoolingConfig, CoolingConfig
from aidc.scenario.jobs import JobConfig


class NodeConfig(FrozenModel):
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
    fan_min_speed_frac: float = Field(
        0.3,
        ge=0.2,
        le=1.0,
        description="the heat-sink and fan-affinity models hold from 20 % of full speed (hardware.gpu)",
    )
    fan_temp_low_c: float = Field(45.0, ge=0.0, le=100.0)
    fan_temp_high_c: float = Field(85.0, ge=0.0, le=120.0)
    airflow_full_speed_m3_s: float = Field(
        0.47, ge=0.01, le=10.0, description="through the GPU zone at full fan speed"
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


class ThermalConfig(FrozenModel):
    """Junction-to-sink thermal path of each GPU.

    The lower bounds keep the arithmetic finite (a resistance of 5e-324 K/W divides to infinity)
    and lie far below any real part: 1 mK/W, 1 J/K, 0.1 L/min.

    Defaults are the values calibrated on the 8×H100 liquid/air pair of arXiv 2507.16781 (README,
    "Calibration"); they fall in the ranges published for such parts: cold plates 0.02–0.05 K/W
    junction to coolant, forced-air heat sinks 0.04–0.07 K/W junction to inlet at full airflow.
    """

    cold_plate_resistance_k_w: float = Field(0.032, ge=0.001, le=1.0, description="junction to coolant")
    heatsink_base_resistance_k_w: float = Field(
        0.024, ge=0.001, le=1.0, description="junction to fins (conduction)"
    )
    heatsink_convective_resistance_k_w: float = Field(
        0.020, ge=0.001, le=1.0, description="fins to air at full airflow"
    )
    immersion_resistance_k_w: float = Field(0.045, ge=0.001, le=1.0, description="junction to bulk fluid")
    capacitance_j_k: float = Field(600.0, ge=1.0, le=1e5, description="package + sink heat capacity")
    resistance_spread_frac: float = Field(0.15, ge=0.0, le=0.5, description="GPU-to-GPU spread (uniform ±)")
    cold_plate_flow_l_min: float = Field(1.5, ge=0.1, le=50.0, description="coolant flow per GPU cold plate")


class HallConfig(FrozenModel):
    name: str = "hall"
    rows: int = Field(1, ge=1, le=1000)
    racks_per_row: int = Field(1, ge=1, le=1000)
    nodes_per_rack: int = Field(1, ge=1, le=128)
    gpu: str = "H100-SXM"
    gpu_parameters: str | None = Field(
        None, description="an aidc calibrate parameter file (relative to the scenario): fitted GPU physics"
    )
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
        return known_name(v, GPU_CATALOG, "GPU")

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
        return self

    def job_gpus(self) -> list[slice]:
        """The hall's GPUs each job runs on, in order: its ``gpus``, or all that remain."""
        out, first = [], 0
        for job in self.jobs:
            count = job.gpus if job.gpus is not None else self.gpu_count - first
            out.append(slice(first, first + count))
            first += count
        return out

    @property
    def node_count(self) -> int:
        return self.rows * self.racks_per_row * self.nodes_per_rack

    @property
    def gpu_count(self) -> int:
        return self.node_count * self.node.gpus_per_node
