"""How long a serving step takes on a GPU group, and how busy it keeps the GPUs.

A *step* is one forward pass of a continuous-batching engine over a mixed batch: chunks of
prompts being prefilled and sequences decoding one token (or verifying ``q`` speculative tokens).
Its cost comes from the model core's accounting (:mod:`aidc.model.accounting`): matmul FLOPs,
weight and KV-cache bytes. This module turns them into time on a :class:`Deployment` with a
roofline per part of the step:

    t_step = max(C_lin / R, M_lin / B) + max(C_att / R, M_att / B) + t_comm + t_overhead
    R = peak(precision) · f / f_max · compute_frac      B = HBM peak · memory_frac

``lin`` is every weight matmul (weights read once per step, FLOPs ∝ tokens), ``att`` the
attention over the cache (FLOPs and KV bytes ∝ context). Tensor throughput follows the core clock
the hardware model sets (a throttled GPU takes longer); HBM bandwidth and the interconnect do not.
The GPU and the link come in as objects (the hardware catalog's, or any with the same fields):
the workload layer does not import the hardware layer.
Communication is not overlapped with compute (conservative; DeepSeek overlaps it with two
micro-batches). Per GPU, with ``G`` GPUs in the group running attention tensor-parallel and the
experts tensor- or expert-parallel:

* weights and FLOPs are split over ``G``; under expert parallelism the most loaded expert rank
  carries ``1 + max_violation`` times the mean (MaxVio, DeepSeek-V3 §4.5.2, or measured by the
  model core's router), and sets the step;
* an MLA latent cache is *replicated* on every tensor-parallel rank (one latent serves all heads;
  what vLLM does, and why SGLang added data-parallel attention for DeepSeek); a GQA cache is split
  over ``min(G, kv_heads)`` ranks;
* tensor parallelism costs two ring all-reduces of the activations per dense layer and one per
  MoE layer; expert parallelism an all-to-all dispatch (FP8 when the GEMMs are FP8) and combine
  (BF16) per MoE layer (:mod:`aidc.hardware.interconnect`);
* the LM head runs only for the tokens that are sampled (the last of each prompt and every
  decode token), as in vLLM.

Power: the step's *activity* (what the hardware model's dynamic power scales with) is the
time-weighted mix of tensor-core and HBM streaming activity, a linear utilization model in the
spirit of Hong & Kim (ISCA 2010): ``a = (a_tc·Σ C/R + a_hbm·Σ M/B + a_wait·t_comm) / t_step``,
clipped to 1.

Validity: batch shapes where the roofline holds (kernels large enough to reach the fractions
below); it ignores norms, sampling, and the activation traffic of very small models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from aidc.model.accounting import (
    BYTES_PER_ELEMENT,
    expected_experts_touched,
    forward_flops,
    kv_bytes_per_token,
    parameter_counts,
    weight_bytes,
)
from aidc.model.config import ModelConfig

GIB = 2**30


class Device(Protocol):
    """What the step-time model needs of a GPU (:class:`aidc.hardware.catalog.GPUSpec` is one)."""

    name: str
    hbm_gb: float  # capacity [GiB, as nvidia-smi counts it]
    hbm_bandwidth_tb_s: float
    clock_max_mhz: float

    def peak_tflops(self, precision: str) -> float: ...


class Interconnect(Protocol):
    """A GPU-to-GPU path (:class:`aidc.hardware.interconnect.Link` is one)."""

    name: str
    latency_s: float

    def all_reduce_s(self, nbytes: float, ranks: int) -> float: ...

    def all_to_all_s(self, nbytes: float, ranks: int) -> float: ...


# Achievable fractions of peak: named assumptions, checked together by the ML.ENERGY validation
# (tests/validation/test_ml_energy.py) rather than each on its own.
# - Large BF16/FP8 GEMMs of LLM shapes sustain roughly 65–80 % of the dense tensor peak on
#   Hopper (cuBLAS/CUTLASS; MLPerf Inference prefill-heavy results imply the same range).
COMPUTE_FRAC = 0.7
# - Streaming kernels reach ~90 % of HBM3 peak on H100; decode GEMV and paged attention with
#   64-token blocks less. 0.8 is the middle of the 70–90 % range.
MEMORY_FRAC = 0.8
# - CPU work per step that the GPU waits on (scheduling, input preparation, sampling); vLLM V1
#   with CUDA graphs and asynchronous scheduling hides most of it. Assumption.
STEP_OVERHEAD_S = 3e-4
# - vLLM's default gpu_memory_utilization: the share of HBM the engine may use.
GPU_MEMORY_UTILIZATION = 0.9
# - Activation workspace vLLM's profiling run reserves at a 8,192-token step, per GPU. Assumption
#   of the order vLLM logs for 8B–70B models ("activation memory" of 1–5 GiB).
ACTIVATION_RESERVE_GIB = 2.0

# Switching activity of the hardware power model (aidc.hardware.gpu) while each unit is busy.
# Tensor cores at full tilt: the TrainingJob compute phase default (scenario.TrainingJob).
ACTIVITY_TENSOR = 0.9
# HBM streaming with the SMs mostly waiting on memory: calibrated on one ML.ENERGY point (Llama-3.1-8B,
# H100, batch 8: ~486 W); the batch-256 point is then a prediction.
ACTIVITY_HBM = 0.55
# Waiting on the interconnect or the CPU: the TrainingJob communication phase default.
ACTIVITY_WAIT = 0.25


@dataclass(frozen=True)
class Deployment:
    """One model replica on a group of identical GPUs."""

    model: ModelConfig
    gpu: Device
    tp: int = 1
    """Tensor-parallel degree = GPUs in the replica."""
    expert_parallel: bool = False
    """Experts spread whole over the ``tp`` GPUs (EP = TP) instead of each expert split over them."""
    precision: str = "bf16"
    """GEMM precision (a key of the GPU's peak table: bf16, fp8, fp4)."""
    weight_precision: str | None = None
    """Weight storage; ``None`` follows the model (its FP8 recipe if ``model.fp8``, else BF16)."""
    kv_bits: int = 16
    link: Interconnect | None = None
    """The path between the replica's GPUs (required when ``tp`` > 1)."""
    max_violation: float = 0.0
    """Expert load imbalance (MaxVio): the hottest expert rank carries 1 + this times the mean."""
    compute_frac: float = COMPUTE_FRAC
    memory_frac: float = MEMORY_FRAC
    step_overhead_s: float = STEP_OVERHEAD_S
    gpu_memory_utilization: float = GPU_MEMORY_UTILIZATION
    activation_reserve_gib: float = ACTIVATION_RESERVE_GIB
    block_tokens: int = 64

    def __post_init__(self) -> None:
        if self.tp < 1:
            raise ValueError(f"tp must be >= 1 GPU, got {self.tp}")
        if self.tp > 1 and self.link is None:
            raise ValueError(f"tp={self.tp} needs the link between the GPUs (e.g. NVLink)")
        if self.expert_parallel and not self.model.is_moe:
            raise ValueError(f"expert_parallel needs an MoE model; {self.model.name} is dense")
        if self.model.is_moe and self.expert_parallel and self.model.n_routed_experts % self.tp:
            raise ValueError(
                f"expert parallelism over tp={self.tp} GPUs needs n_routed_experts "
                f"({self.model.n_routed_experts}) divisible by it"
            )
        self.gpu.peak_tflops(self.precision)  # ValueError naming the supported precisions
        for name in ("compute_frac", "memory_frac", "gpu_memory_utilization"):
            v = getattr(self, name)
            if not 0.0 < v <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        if self.max_violation < 0.0:
            raise ValueError(f"max_violation must be >= 0, got {self.max_violation}")
        if self.kv_bits not in (4, 8, 16, 32):
            raise ValueError(f"kv_bits must be 4, 8, 16 or 32, got {self.kv_bits}")

    # -- memory ----------------------------------------------------------------------------------
    @property
    def weight_bytes_per_gpu(self) -> float:
        return weight_bytes(self.model, self.weight_precision) / self.tp

    @property
    def kv_bytes_per_token_per_gpu(self) -> float:
        """KV bytes one token occupies on each GPU [B]: an MLA latent is replicated over TP ranks."""
        full = kv_bytes_per_token(self.model, self.kv_bits)
        if self.model.is_mla:
            return full
        return full / min(self.tp, self.model.resolved_num_kv_heads)

    @property
    def kv_budget_bytes_per_gpu(self) -> float:
        """HBM left for the KV cache on each GPU [B] (negative when the weights do not fit)."""
        usable = self.gpu.hbm_gb * GIB * self.gpu_memory_utilization
        return usable - self.weight_bytes_per_gpu - self.activation_reserve_gib * GIB

    @property
    def kv_blocks(self) -> int:
        """KV blocks of ``block_tokens`` tokens that fit (the same count on every GPU of the replica)."""
        return max(0, math.floor(self.kv_budget_bytes_per_gpu / self.block_bytes_per_gpu))

    @property
    def block_bytes_per_gpu(self) -> float:
        return self.block_tokens * self.kv_bytes_per_token_per_gpu

    def kv_handover_bytes_per_gpu(self, tokens: float) -> float:
        """Bytes of a ``tokens``-long cache each GPU sends to a decode replica (every GPU sends its
        share at once; an MLA latent is replicated, so each GPU holds all of it)."""
        per_token = self.kv_bytes_per_token_per_gpu * (1 if self.model.is_mla else self.tp)
        return tokens * per_token / self.tp

    def check_fits(self) -> None:
        """``ValueError`` saying how much memory the model needs and how much there is, if it does not fit."""
        if self.kv_blocks >= 1:
            return
        need = (
            self.weight_bytes_per_gpu + self.activation_reserve_gib * GIB + self.block_bytes_per_gpu
        ) / GIB
        have = self.gpu.hbm_gb * self.gpu_memory_utilization
        raise ValueError(
            f"{self.model.name} does not fit {self.tp}× {self.gpu.name}: each GPU needs {need:.1f} GiB "
            f"(weights {self.weight_bytes_per_gpu / GIB:.1f}, activations {self.activation_reserve_gib:.1f}, "
            f"one KV block {self.block_bytes_per_gpu / GIB:.3f}) but has {have:.1f} GiB "
            f"({self.gpu.hbm_gb:g} GiB × gpu_memory_utilization {self.gpu_memory_utilization:g}); "
            f"use more GPUs (tp), lower-precision weights, or a GPU with more HBM"
        )


class StepCost(NamedTuple):
    """Time and activity of one step on each GPU of the replica (a named tuple: the serving
    simulator makes one or two per event)."""

    time_s: float
    compute_s: float  # tensor-core busy time (at the given clock)
    memory_s: float  # HBM busy time
    comm_s: float
    overhead_s: float
    activity: float  # switching activity for the hardware power model [0–1]
    flop: float = 0.0  # matmul FLOPs each GPU executes in the step


_IDLE = StepCost(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


class StepTimeModel:
    """Step time of a :class:`Deployment` for a batch described by sums (no per-request loops).

    The batch is given as: ``prefill_tokens`` (prompt tokens in this step), ``prefill_pairs``
    (attention query–key pairs of those chunks), ``prefill_context`` (cached + new tokens of each
    chunk, summed: what a chunk reads and, for naive MLA, re-expands), ``prefill_done`` (chunks
    that finish their prompt and sample a token), ``decode_seqs`` and ``decode_context`` (their
    cached tokens, summed), and ``q`` tokens per decode sequence (1, or 1 + drafts verified).
    Prefill uses naive MLA and decode absorbed MLA, as DeepSeek serves (V2 §2.1.3, V3 §3.4).
    """

    def __init__(self, dep: Deployment):
        self.dep = dep
        cfg, g = dep.model, dep.tp
        pc = parameter_counts(cfg)
        head = 2.0 * cfg.hidden_size * cfg.vocab_size
        lin = forward_flops(cfg, 1, 0).linear - head  # per token, body only
        routed = (
            2.0 * cfg.n_activated_experts * pc.routed_experts / cfg.n_routed_experts if cfg.is_moe else 0.0
        )
        imbalance = 1.0 + dep.max_violation if dep.expert_parallel else 1.0
        self.lin_flops_per_token = ((lin - routed) + routed * imbalance) / g
        self.head_flops_per_sample = head / g
        self.att_flops_per_pair_decode = self._pair_flops("absorbed") / g
        self.att_flops_per_pair_prefill = self._pair_flops("naive" if cfg.is_mla else "absorbed") / g
        one = forward_flops(cfg, 1, 0, mla_mode="naive").latent_expansion
        self.expansion_flops_per_latent = (
            forward_flops(cfg, 1, 1, mla_mode="naive").latent_expansion - one
        ) / g
        per_weight = weight_bytes(cfg, dep.weight_precision) / pc.total
        self.dense_weight_bytes = (pc.total - pc.embedding - pc.routed_experts) * per_weight / g
        per_expert = pc.routed_experts / (cfg.n_routed_experts * cfg.num_moe_layers) if cfg.is_moe else 0.0
        self.expert_bytes = per_expert * per_weight  # one expert of one layer [B]
        self.expert_rank_share = imbalance / g
        self.kv_bytes = dep.kv_bytes_per_token_per_gpu
        self._decode_fixed: dict[tuple, tuple[float, float, float, float]] = {}
        self.moe = cfg.is_moe
        peak = dep.gpu.peak_tflops(dep.precision) * 1e12 * dep.compute_frac
        self.flop_s_at_max = peak
        self.byte_s = dep.gpu.hbm_bandwidth_tb_s * 1e12 * dep.memory_frac
        # communication per token [B]
        act = BYTES_PER_ELEMENT["bf16"] * cfg.hidden_size
        dense_layers = cfg.num_layers - cfg.num_moe_layers
        if dep.expert_parallel:
            self.allreduce_bytes_per_token = act * (2 * dense_layers + cfg.num_moe_layers)
            dispatch = BYTES_PER_ELEMENT["fp8" if dep.precision == "fp8" else "bf16"] * cfg.hidden_size
            self.a2a_bytes_per_token = cfg.num_moe_layers * cfg.n_activated_experts * (dispatch + act) / g
        else:
            self.allreduce_bytes_per_token = act * 2 * cfg.num_layers
            self.a2a_bytes_per_token = 0.0
        self.collectives_per_step = (
            (2 * dense_layers + cfg.num_moe_layers * (3 if dep.expert_parallel else 2)) if g > 1 else 0
        )

    def _pair_flops(self, mode: str) -> float:
        cfg = self.dep.model
        return float(
            forward_flops(cfg, 1, 1, mla_mode=mode).attention
            - forward_flops(cfg, 1, 0, mla_mode=mode).attention
        )

    def weight_bytes_per_step(self, tokens: int) -> float:
        """Weights read by one step over ``tokens`` tokens on the busiest GPU [B]."""
        cfg = self.dep.model
        experts = 0.0
        if self.moe and tokens > 0:
            touched = expected_experts_touched(cfg, tokens) * cfg.num_moe_layers
            experts = min(
                touched * self.expert_rank_share, cfg.num_moe_layers * cfg.n_routed_experts / self.dep.tp
            )
            experts *= self.expert_bytes
        return self.dense_weight_bytes + experts

    def decode(self, seqs: int, context: float, q: int = 1, clock_mhz: float | None = None) -> StepCost:
        """A decode-only step: ``seqs`` sequences, ``context`` cached tokens; the same arithmetic as
        :meth:`step` without the prefill terms."""
        return self.decode_span(seqs, context, context, q, clock_mhz)[0]

    def decode_span(
        self, seqs: int, context_first: float, context_last: float, q: int = 1, clock_mhz: float | None = None
    ) -> tuple[StepCost, StepCost]:
        """The first and the last step of a span of decode-only steps (what fused spans evaluate),
        at their contexts; the terms that do not depend on the context are computed once."""
        if seqs <= 0:
            return _IDLE, _IDLE
        tokens = seqs * q
        key = (seqs, q, clock_mhz)
        fixed = self._decode_fixed.get(key)
        if fixed is None:  # what does not depend on the context, for this batch and clock
            rate = self._rate(clock_mhz)
            lin_c = tokens * (self.lin_flops_per_token + self.head_flops_per_sample) / rate
            fixed = (rate, lin_c, self.weight_bytes_per_step(tokens) / self.byte_s, self._comm(tokens))
            if len(self._decode_fixed) >= 4096:
                self._decode_fixed.clear()
            self._decode_fixed[key] = fixed
        rate, lin_c, lin_m, comm = fixed
        new_pairs = seqs * q * (q + 1) / 2
        costs = []
        for context in (context_first, context_last):
            att_c = (q * context + new_pairs) * self.att_flops_per_pair_decode / rate
            att_m = (context + tokens) * self.kv_bytes / self.byte_s
            costs.append(self._cost(lin_c, lin_m, att_c, att_m, comm, rate))
        return costs[0], costs[1]

    def _rate(self, clock_mhz: float | None) -> float:
        f_max = self.dep.gpu.clock_max_mhz
        return self.flop_s_at_max * (min(clock_mhz, f_max) / f_max if clock_mhz else 1.0)

    def _comm(self, tokens: int) -> float:
        dep = self.dep
        if dep.tp <= 1:
            return 0.0
        comm = dep.link.all_reduce_s(tokens * self.allreduce_bytes_per_token, dep.tp)
        if self.a2a_bytes_per_token:
            comm += dep.link.all_to_all_s(tokens * self.a2a_bytes_per_token, dep.tp)
        # the fixed cost of every collective beyond the two charged above
        return comm + max(0, self.collectives_per_step - 2) * dep.link.latency_s

    def _cost(
        self, lin_c: float, lin_m: float, att_c: float, att_m: float, comm: float, rate: float
    ) -> StepCost:
        overhead = self.dep.step_overhead_s
        compute = lin_c + att_c
        memory = lin_m + att_m
        t = (lin_c if lin_c > lin_m else lin_m) + (att_c if att_c > att_m else att_m) + comm + overhead
        activity = min(1.0, (ACTIVITY_TENSOR * compute + ACTIVITY_HBM * memory + ACTIVITY_WAIT * comm) / t)
        # tuple.__new__ skips the named tuple's Python-level constructor (one per step)
        return tuple.__new__(StepCost, (t, compute, memory, comm, overhead, activity, compute * rate))

    def step(
        self,
        prefill_tokens: int = 0,
        prefill_pairs: float = 0.0,
        prefill_context: float = 0.0,
        prefill_done: int = 0,
        decode_seqs: int = 0,
        decode_context: float = 0.0,
        q: int = 1,
        clock_mhz: float | None = None,
    ) -> StepCost:
        tokens = prefill_tokens + decode_seqs * q
        if tokens <= 0:
            return _IDLE
        rate = self._rate(clock_mhz)
        sampled = prefill_done + decode_seqs * q
        lin_c = (tokens * self.lin_flops_per_token + sampled * self.head_flops_per_sample) / rate
        lin_m = self.weight_bytes_per_step(tokens) / self.byte_s
        decode_pairs = q * decode_context + decode_seqs * q * (q + 1) / 2
        att_c = (
            prefill_pairs * self.att_flops_per_pair_prefill
            + prefill_context * self.expansion_flops_per_latent
            + decode_pairs * self.att_flops_per_pair_decode
        ) / rate
        att_m = (prefill_context + decode_context + decode_seqs * q) * self.kv_bytes / self.byte_s
        return self._cost(lin_c, lin_m, att_c, att_m, self._comm(tokens), rate)
