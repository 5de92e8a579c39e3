"""Exact analytic accounting of a :class:`ModelConfig`: parameters, matmul FLOPs, bytes moved, KV memory.

These functions are what the twin charges a GPU for a token; they need no torch and run in
microseconds. ``tests/model/test_accounting.py`` checks the FLOPs against
``torch.utils.flop_counter.FlopCounterMode`` on the real modules (matmul FLOPs exactly) and the
parameter counts against the modules' own ``numel``.

Conventions:

* FLOPs count matrix multiplications only, 2 per multiply-accumulate; norms, softmax, RoPE and
  activations are left out (they are < 1 % of a large model's work and run on other units).
* ``active`` parameters are those a token's forward pass multiplies by: everything except the
  routed experts it is not sent to, and except the embedding table (a row lookup). This is how
  DeepSeek reports "activated" parameters (37B for V3).
* Attention pairs: a forward pass over ``new`` tokens with ``cached`` tokens already in the cache
  scores query i against ``cached + i + 1`` keys (``causal="triangle"``, what causal kernels such
  as FlashAttention compute); ``causal="full"`` counts the whole masked rectangle
  ``new · (cached + new)`` that a plain masked matmul computes (aidc's and HF's eager modules).
* MLA ``"absorbed"`` folds ``W_UK``/``W_UV`` into the query and output (per query token); MLA
  ``"naive"`` expands every visible latent through ``W_UKV`` once per forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aidc.model.config import ModelConfig

CausalCount = Literal["triangle", "full"]
MLAMode = Literal["naive", "absorbed"]

BYTES_PER_ELEMENT: dict[str, float] = {"fp32": 4.0, "bf16": 2.0, "fp16": 2.0, "fp8": 1.0, "fp4": 0.5}


@dataclass(frozen=True)
class ParameterCounts:
    """Parameter counts [parameters]; ``total``/``active`` exclude the MTP modules (reported apart)."""

    embedding: int
    head: int
    attention: int
    dense_ffn: int
    routed_experts: int
    shared_experts: int
    gates: int
    norms: int
    mtp: int  # MTP modules without the embedding and head they share
    active: int

    @property
    def total(self) -> int:
        return (
            self.embedding
            + self.head
            + self.attention
            + self.dense_ffn
            + self.routed_experts
            + self.shared_experts
            + self.gates
            + self.norms
        )


def _attention_params(cfg: ModelConfig) -> tuple[int, int]:
    """(matmul weights + biases, norm weights) of one attention layer."""
    d, h = cfg.hidden_size, cfg.num_heads
    if cfg.is_mla:
        qk, c, r = cfg.qk_head_dim, cfg.kv_lora_rank, cfg.qk_rope_head_dim
        if cfg.q_lora_rank is None:
            q, q_norm = d * h * qk, 0
        else:
            q, q_norm = d * cfg.q_lora_rank + cfg.q_lora_rank * h * qk, cfg.q_lora_rank
        kv = d * (c + r) + c * h * (cfg.qk_nope_head_dim + cfg.v_head_dim)
        return q + kv + h * cfg.v_head_dim * d, q_norm + c
    hd, kvh = cfg.resolved_head_dim, cfg.resolved_num_kv_heads
    weights = d * h * hd + 2 * d * kvh * hd + h * hd * d
    bias = (h * hd + 2 * kvh * hd) if cfg.qkv_bias else 0
    return weights + bias, 0


def _ffn_params(cfg: ModelConfig, inter: int) -> int:
    return 3 * cfg.hidden_size * inter


def parameter_counts(cfg: ModelConfig) -> ParameterCounts:
    """Total and active parameters by component, as the aidc modules (and the HF checkpoints) hold them."""
    d = cfg.hidden_size
    attn, attn_norms = _attention_params(cfg)
    n_moe = cfg.num_moe_layers
    n_dense = cfg.num_layers - n_moe
    expert = _ffn_params(cfg, cfg.moe_intermediate_size) if cfg.is_moe else 0
    shared = _ffn_params(cfg, cfg.n_shared_experts * cfg.moe_intermediate_size) if cfg.is_moe else 0
    gate = cfg.n_routed_experts * d
    layer_norms = 2 * d + attn_norms
    embedding = cfg.vocab_size * d
    head = 0 if cfg.tie_word_embeddings else cfg.vocab_size * d
    counts = dict(
        embedding=embedding,
        head=head,
        attention=cfg.num_layers * attn,
        dense_ffn=n_dense * _ffn_params(cfg, cfg.intermediate_size),
        routed_experts=n_moe * cfg.n_routed_experts * expert,
        shared_experts=n_moe * shared,
        gates=n_moe * gate,
        norms=cfg.num_layers * layer_norms + d,
    )
    mtp_ffn = (
        (gate + cfg.n_routed_experts * expert + shared)
        if cfg.is_moe
        else _ffn_params(cfg, cfg.intermediate_size)
    )
    mtp = cfg.mtp_depth * (2 * d * d + 3 * d + attn + layer_norms + mtp_ffn)  # eh_proj, enorm/hnorm/norm
    active = (
        cfg.vocab_size * d  # the head (tied or not, it multiplies every token)
        + counts["attention"]
        + counts["dense_ffn"]
        + counts["shared_experts"]
        + counts["gates"]
        + counts["norms"]
        + n_moe * cfg.n_activated_experts * expert
    )
    return ParameterCounts(**counts, mtp=mtp, active=active)


# --- FLOPs --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ForwardFlops:
    """Matmul FLOPs of one forward pass, by part [FLOP]."""

    linear: int  # projections, FFN/experts, gate, head: proportional to the new tokens
    attention: int  # query·key scores and probability·value sums: grow with the context
    latent_expansion: int  # naive MLA only: W_UKV applied to every visible latent

    @property
    def total(self) -> int:
        return self.linear + self.attention + self.latent_expansion


def _attention_pairs(new: int, cached: int, causal: CausalCount) -> int:
    if causal == "full":
        return new * (cached + new)
    return new * cached + new * (new + 1) // 2


def _linear_macs_per_token(cfg: ModelConfig, layers: int, moe_layers: int, mla_mode: MLAMode) -> int:
    """Multiply-accumulates per token of every weight matmul of ``layers`` blocks (head excluded)."""
    attn, _ = _attention_params(cfg)
    if cfg.qkv_bias and not cfg.is_mla:
        attn -= cfg.num_heads * cfg.resolved_head_dim + 2 * cfg.resolved_num_kv_heads * cfg.resolved_head_dim
    if cfg.is_mla and mla_mode == "naive":  # W_UKV runs on the latents instead (latent_expansion)
        attn -= cfg.kv_lora_rank * cfg.num_heads * (cfg.qk_nope_head_dim + cfg.v_head_dim)
    macs = layers * attn + (layers - moe_layers) * _ffn_params(cfg, cfg.intermediate_size)
    if moe_layers:
        routed = cfg.n_activated_experts * _ffn_params(cfg, cfg.moe_intermediate_size)
        shared = _ffn_params(cfg, cfg.n_shared_experts * cfg.moe_intermediate_size)
        macs += moe_layers * (cfg.n_routed_experts * cfg.hidden_size + routed + shared)
    return macs


def _attention_macs_per_pair(cfg: ModelConfig, mla_mode: MLAMode) -> int:
    """MACs per (query, key) pair per layer, all heads: scores plus the weighted sum."""
    h = cfg.num_heads
    if cfg.is_mla:
        c, r = cfg.kv_lora_rank, cfg.qk_rope_head_dim
        if mla_mode == "absorbed":
            return h * ((c + r) + c)
        return h * ((cfg.qk_nope_head_dim + r) + cfg.v_head_dim)
    return h * 2 * cfg.resolved_head_dim


def forward_flops(
    cfg: ModelConfig,
    new_tokens: int,
    cached_tokens: int = 0,
    *,
    batch: int = 1,
    mla_mode: MLAMode = "absorbed",
    causal: CausalCount = "triangle",
    include_mtp: bool = False,
) -> ForwardFlops:
    """Matmul FLOPs of one forward pass over ``new_tokens`` per sequence with ``cached_tokens`` cached.

    ``include_mtp`` adds the MTP modules (their block, ``eh_proj`` and the shared head) as they run
    in training and in speculative drafting.
    """
    if new_tokens < 0 or cached_tokens < 0 or batch < 1:
        raise ValueError(
            f"need new_tokens >= 0, cached_tokens >= 0, batch >= 1; got {new_tokens}, "
            f"{cached_tokens}, {batch}"
        )
    layers, moe_layers = cfg.num_layers, cfg.num_moe_layers
    linear = _linear_macs_per_token(cfg, layers, moe_layers, mla_mode) + cfg.hidden_size * cfg.vocab_size
    pairs = _attention_pairs(new_tokens, cached_tokens, causal)
    attention = layers * pairs * _attention_macs_per_pair(cfg, mla_mode)
    expansion = 0
    if cfg.is_mla and mla_mode == "naive":
        per_latent = cfg.kv_lora_rank * cfg.num_heads * (cfg.qk_nope_head_dim + cfg.v_head_dim)
        expansion = layers * (cached_tokens + new_tokens) * per_latent
    if include_mtp and cfg.mtp_depth:
        d = cfg.hidden_size
        mtp_moe = cfg.mtp_depth if cfg.is_moe else 0
        linear += cfg.mtp_depth * (2 * d * d + d * cfg.vocab_size)
        linear += _linear_macs_per_token(cfg, cfg.mtp_depth, mtp_moe, mla_mode)
        attention += cfg.mtp_depth * pairs * _attention_macs_per_pair(cfg, mla_mode)
        if cfg.is_mla and mla_mode == "naive":
            expansion += cfg.mtp_depth * (cached_tokens + new_tokens) * per_latent
    return ForwardFlops(
        linear=2 * batch * new_tokens * linear,
        attention=2 * batch * attention,
        latent_expansion=2 * batch * expansion,
    )


def prefill_flops_per_token(cfg: ModelConfig, prompt_tokens: int, *, mla_mode: MLAMode = "naive") -> float:
    """Average matmul FLOPs per prompt token of a causal prefill [FLOP/token] (naive MLA by default,
    as DeepSeek prefills: compute-bound, and no per-step re-expansion)."""
    return forward_flops(cfg, prompt_tokens, 0, mla_mode=mla_mode).total / prompt_tokens


# --- memory ---------------------------------------------------------------------------------------
def kv_elements_per_token(cfg: ModelConfig, *, include_mtp: bool = False) -> int:
    """Cached values per token over all layers: (c + r) per layer for MLA, 2·K·d otherwise."""
    layers = cfg.num_layers + (cfg.mtp_depth if include_mtp else 0)
    return layers * cfg.kv_cache_width


def kv_bytes_per_token(cfg: ModelConfig, bits_per_element: float = 16) -> float:
    """KV-cache bytes per token [B/token] at ``bits_per_element`` (16 = BF16, 8 = FP8)."""
    return kv_elements_per_token(cfg) * bits_per_element / 8


def equivalent_kv_elements_per_token(
    cfg: ModelConfig, kind: Literal["mha", "gqa", "mqa"], kv_heads: int = 8
) -> int:
    """KV values per token if the model's heads cached full keys and values (MHA), ``kv_heads`` groups
    (GQA) or one head (MQA) — the comparison of DeepSeek-V2 Table 1."""
    per_head = cfg.qk_head_dim + cfg.value_head_dim
    heads = {"mha": cfg.num_heads, "gqa": min(kv_heads, cfg.num_heads), "mqa": 1}[kind]
    return cfg.num_layers * heads * per_head


def weight_bytes(cfg: ModelConfig, precision: str | None = None, *, include_mtp: bool = False) -> float:
    """Bytes of the weights [B].

    ``precision=None`` follows the config: with ``cfg.fp8`` the block-scaled linears take 1 byte per
    weight plus one FP32 scale per 128×128 block, and embedding, head, norms and gates stay BF16
    (DeepSeek-V3 §3.3.1); otherwise BF16. Any key of :data:`BYTES_PER_ELEMENT` applies that width
    to every weight.
    """
    p = parameter_counts(cfg)
    total = p.total + (p.mtp if include_mtp else 0)
    if precision is not None:
        return total * BYTES_PER_ELEMENT[precision]
    if not cfg.fp8:
        return total * BYTES_PER_ELEMENT["bf16"]
    high = p.embedding + p.head + p.norms + p.gates
    if include_mtp and cfg.mtp_depth:
        d = cfg.hidden_size
        _, attn_norms = _attention_params(cfg)
        # eh_proj, the three MTP norms, the block's norms and gate stay high precision
        high += cfg.mtp_depth * (2 * d * d + 3 * d + 2 * d + attn_norms + cfg.n_routed_experts * d)
    low = total - high
    scales = low / cfg.fp8_block_size**2 * BYTES_PER_ELEMENT["fp32"]
    return low * BYTES_PER_ELEMENT["fp8"] + scales + high * BYTES_PER_ELEMENT["bf16"]


def expected_experts_touched(cfg: ModelConfig, tokens: int) -> float:
    """Distinct routed experts a layer reads for ``tokens`` tokens, if routing is uniform and independent:
    ``E · (1 − (1 − K/E)^tokens)``. Real routers are skewed, so this is an upper bound on locality."""
    if not cfg.is_moe:
        return 0.0
    e, k = cfg.n_routed_experts, cfg.n_activated_experts
    return e * (1.0 - (1.0 - k / e) ** tokens)


@dataclass(frozen=True)
class StepBytes:
    """Bytes moved through HBM in one forward pass [B]."""

    weights: float
    kv_read: float
    kv_write: float

    @property
    def total(self) -> float:
        return self.weights + self.kv_read + self.kv_write


def forward_bytes(
    cfg: ModelConfig,
    batch: int,
    new_tokens: int,
    cached_tokens: int,
    *,
    weight_precision: str | None = None,
    kv_bits: float = 16,
) -> StepBytes:
    """Weights read (each matrix once per pass, routed experts only if some token uses them) and KV
    cache read and written by one forward pass of ``batch`` sequences."""
    p = parameter_counts(cfg)
    per_weight = weight_bytes(cfg, weight_precision) / p.total
    dense_part = p.total - p.embedding - p.routed_experts
    tokens = batch * new_tokens
    experts = (
        cfg.num_moe_layers
        * expected_experts_touched(cfg, tokens)
        * _ffn_params(cfg, cfg.moe_intermediate_size)
    )
    rows = min(tokens, cfg.vocab_size) * cfg.hidden_size  # embedding rows looked up
    kv = kv_bytes_per_token(cfg, kv_bits)
    return StepBytes(
        weights=(dense_part + experts + rows) * per_weight,
        kv_read=batch * cached_tokens * kv,
        kv_write=batch * new_tokens * kv,
    )


def kv_cache_reduction(
    cfg: ModelConfig, baseline: ModelConfig, bits: float = 16, baseline_bits: float = 16
) -> float:
    """Fractional KV-cache saving per token of ``cfg`` against ``baseline`` (0.933 = 93.3 % smaller)."""
    return 1.0 - kv_bytes_per_token(cfg, bits) / kv_bytes_per_token(baseline, baseline_bits)
