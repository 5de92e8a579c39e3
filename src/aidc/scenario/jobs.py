"""Scenario jobs: what the GPUs of a hall are asked to do."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from aidc.hardware.catalog import PRECISIONS
from aidc.hardware.interconnect import LINKS, MEMORY_TIERS
from aidc.model.presets import PRESETS
from aidc.scenario.common import TEN_YEARS_S, FrozenModel, known_name


class _Job(FrozenModel):
    name: str = "job"
    gpus: int | None = Field(None, ge=1, description="GPUs the job uses; all remaining if omitted")
    start_s: float = Field(0.0, ge=0.0, le=TEN_YEARS_S)
    end_s: float | None = Field(None, gt=0.0, le=TEN_YEARS_S)
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
    compute_s_at_max_clock: float = Field(
        4.0, ge=1e-3, le=3600.0, description="a step shorter than 1 ms is none"
    )
    comm_s: float = Field(1.0, ge=0.0, le=3600.0)
    compute_activity_frac: float = Field(0.9, ge=0.0, le=1.0)
    comm_activity_frac: float = Field(0.25, ge=0.0, le=1.0)
    mfu_compute_frac: float = Field(
        0.5, gt=0.0, le=1.0, description="fraction of peak during the compute phase"
    )
    flexible: bool = Field(False, description="may be paused and resumed by a site controller")
    checkpoint_s: float = Field(
        60.0, ge=0.0, le=86_400.0, description="writing a checkpoint before a pause (assumption)"
    )
    restore_s: float = Field(120.0, ge=0.0, le=86_400.0, description="reading it back on resume (assumption)")
    work_pflop: float | None = Field(
        None, gt=0.0, le=1e15, description="flexible jobs: the work it must deliver; it ends then"
    )

    @model_validator(mode="after")
    def _work_needs_flexible(self) -> TrainingJob:
        if self.work_pflop is not None and not self.flexible:
            raise ValueError("work_pflop is for flexible jobs (flexible = true)")
        return self


class IdleJob(_Job):
    type: Literal["idle"] = "idle"


class SharedPrefixConfig(FrozenModel):
    """A share of requests starts with one of ``groups`` common prefixes (system prompts, documents)."""

    groups: int = Field(8, ge=1, le=1_000_000)
    tokens: int = Field(1024, ge=1, le=1_000_000, description="prefix length [tokens]")
    share: float = Field(0.5, ge=0.0, le=1.0, description="share of requests with a shared prefix")


class ServingJob(_Job):
    """LLM serving: replicas of a model on groups of GPUs, driven by a request trace
    (:mod:`aidc.workload.serving`). The GPUs of the job are split into replicas of
    ``gpus_per_replica`` consecutive GPUs (tensor-parallel groups); the split and the fit of the
    model in the GPUs' memory are checked when the scenario is built (:mod:`aidc.sim.build`)."""

    type: Literal["serving"] = "serving"
    model: str = Field("llama-3.1-8b", description="a preset of aidc.model.presets")
    gpus_per_replica: int = Field(1, ge=1, le=1024, description="tensor-parallel degree")
    expert_parallel: bool = False
    kv_bits: Literal[8, 16] = 16
    link: str = Field("nvlink4", description="GPU-to-GPU path, aidc.hardware.interconnect.LINKS")
    max_violation: float = Field(0.0, ge=0.0, le=10.0, description="expert load imbalance (MaxVio)")
    trace: str = Field(
        "azure-conv",
        description="a bundled trace (azure-conv, azure-code) or a CSV file (relative: to the scenario file)",
    )
    trace_start_s: float = Field(
        0.0, ge=0.0, le=TEN_YEARS_S, description="offset into the trace (checked against it when built)"
    )
    rate_per_s: float | None = Field(
        None, ge=1e-6, le=1e6, description="rescale the trace to this mean rate of requests"
    )
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
        catalog, what = {
            "model": (PRESETS, "model"),
            "small_model": (PRESETS, "model"),
            "link": (LINKS, "link"),
            "kv_transfer_link": (LINKS, "link"),
            "swap_tier": (MEMORY_TIERS, "swap tier"),
        }[info.field_name]
        return known_name(v, catalog, what)

    @model_validator(mode="after")
    def _consistent(self) -> ServingJob:
        if self.slo_tpot_s is not None and self.slo_e2e_s is not None and self.slo_tpot_s > self.slo_e2e_s:
            raise ValueError(
                f"slo_tpot_s = {self.slo_tpot_s:g} s per token is longer than slo_e2e_s = "
                f"{self.slo_e2e_s:g} s for the whole request"
            )
        if self.slo_ttft_s is not None and self.slo_e2e_s is not None and self.slo_ttft_s > self.slo_e2e_s:
            raise ValueError(
                f"slo_ttft_s = {self.slo_ttft_s:g} s is longer than slo_e2e_s = {self.slo_e2e_s:g} s"
            )
        if (self.router == "tiered") != (self.small_model is not None):
            raise ValueError("the tiered router and small_model go together")
        if self.router == "tiered" and self.prefill_replicas is not None:
            raise ValueError("the tiered router does not combine with prefill_replicas")
        return self


JobConfig = Annotated[BurnJob | TrainingJob | IdleJob | ServingJob, Field(discriminator="type")]
