"""Model configuration: one dataclass that describes MHA, GQA, MQA and MLA transformers, dense or MoE.

Field names follow DeepSeek-V3's ``ModelArgs`` and the Hugging Face configs (``kv_lora_rank``,
``qk_rope_head_dim``, ``n_routed_experts`` …), so a preset can be checked line by line against the
published ``config.json``. The attention kind is derived, not declared: a config with
``kv_lora_rank`` is Multi-head Latent Attention; otherwise ``num_kv_heads`` decides between MHA
(= ``num_heads``), MQA (= 1) and GQA (anything in between).

Validation happens in ``__post_init__`` and raises ``ValueError`` naming the field, the value and
what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Literal

AttentionKind = Literal["mha", "gqa", "mqa", "mla"]


@dataclass(frozen=True)
class RopeScaling:
    """Context-extension scaling of the rotary frequencies.

    ``type="yarn"``: YaRN (Peng et al. 2023, arXiv 2309.00071, §3.2–3.4) as used by DeepSeek-V2/V3:
    frequencies between the ``beta_fast`` and ``beta_slow`` rotation counts are blended from
    interpolated (÷ ``factor``) to original, and attention logits are scaled by ``mscale²`` with
    ``mscale = 0.1·mscale_all_dim·ln(factor) + 1``.
    ``type="llama3"``: Llama 3.1's piecewise wavelength rule (``low_freq_factor``,
    ``high_freq_factor``), from Meta's reference implementation.
    """

    type: Literal["yarn", "llama3"]
    factor: float
    original_max_position_embeddings: int
    beta_fast: float = 32.0
    beta_slow: float = 1.0
    mscale: float = 1.0
    mscale_all_dim: float = 0.0
    low_freq_factor: float = 1.0
    high_freq_factor: float = 4.0

    def __post_init__(self) -> None:
        if self.factor < 1.0:
            raise ValueError(f"rope_scaling.factor must be >= 1, got {self.factor}")
        if self.original_max_position_embeddings <= 0:
            raise ValueError(
                "rope_scaling.original_max_position_embeddings must be positive, "
                f"got {self.original_max_position_embeddings}"
            )
        if self.type == "yarn" and self.beta_fast <= self.beta_slow:
            raise ValueError(
                f"rope_scaling.beta_fast ({self.beta_fast}) must exceed beta_slow ({self.beta_slow})"
            )


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of a decoder-only transformer (dense or MoE; MHA, GQA, MQA or MLA).

    Sizes are counts of elements, never bytes. ``source`` cites where a preset's numbers come from.
    """

    name: str
    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int  # FFN width of the dense layers
    # --- GQA / MHA / MQA (ignored by MLA) ---
    num_kv_heads: int | None = None  # None → num_heads (MHA)
    head_dim: int | None = None  # None → hidden_size // num_heads
    qkv_bias: bool = False  # Qwen2.5 has biases on q, k, v
    # --- MLA (DeepSeek-V2 §2.1) ---
    q_lora_rank: int | None = None  # None → queries are not compressed (V2-Lite)
    kv_lora_rank: int | None = None  # set → the model uses MLA
    qk_nope_head_dim: int = 0
    qk_rope_head_dim: int = 0
    v_head_dim: int = 0
    # --- MoE (DeepSeekMoE, DeepSeek-V3 §2.1.2) ---
    n_routed_experts: int = 0  # 0 → every FFN is dense
    n_shared_experts: int = 0
    n_activated_experts: int = 0  # top-K routed experts per token
    moe_intermediate_size: int = 0
    n_expert_groups: int = 1
    n_limited_groups: int = 1  # groups kept per token (topk_group)
    score_func: Literal["softmax", "sigmoid"] = "softmax"
    group_score: Literal["max", "top2_sum"] = "max"  # V2: max of a group; V3: sum of its top-2
    route_scale: float = 1.0  # routed_scaling_factor
    norm_topk_prob: bool = False  # renormalise the K selected weights to sum to 1
    n_dense_layers: int = 0  # first_k_dense_replace
    capacity_factor: float | None = None  # None → no token dropping
    router_noise_std: float = 0.0  # Gaussian noise on router logits while training
    adaptive_top_p: float | None = None  # None → fixed K; else add experts until Σp ≥ p (≤ K)
    aux_loss_alpha: float = 0.0  # sequence-wise balance loss weight (V3 eq. 17)
    bias_update_speed: float = 0.0  # auxiliary-loss-free bias step u (V3 §2.1.2)
    # --- multi-token prediction (DeepSeek-V3 §2.2) ---
    mtp_depth: int = 0
    mtp_loss_weight: float = 0.3  # λ; V3 used 0.3 for the first 10T tokens
    # --- position, norms, head ---
    rope_theta: float = 10000.0
    rope_scaling: RopeScaling | None = None
    max_seq_len: int = 4096
    rms_norm_eps: float = 1e-6
    tie_word_embeddings: bool = False
    # --- precision ---
    fp8: bool = False  # FP8 E4M3 block-scaled linears (aidc.model.fp8); the rest stays high precision
    fp8_block_size: int = 128
    source: str = ""

    def __post_init__(self) -> None:
        _positive(
            self,
            "vocab_size",
            "hidden_size",
            "num_layers",
            "num_heads",
            "intermediate_size",
            "max_seq_len",
            "fp8_block_size",
        )
        if self.kv_lora_rank is not None:
            self._check_mla()
        else:
            self._check_gqa()
        if self.n_routed_experts < 0:
            raise ValueError(f"n_routed_experts must be >= 0, got {self.n_routed_experts}")
        if self.n_routed_experts > 0:
            self._check_moe()
        for name in ("router_noise_std", "aux_loss_alpha", "bias_update_speed", "route_scale"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.mtp_depth < 0:
            raise ValueError(f"mtp_depth must be >= 0, got {self.mtp_depth}")
        if self.rms_norm_eps <= 0:
            raise ValueError(f"rms_norm_eps must be positive, got {self.rms_norm_eps}")

    def _check_mla(self) -> None:
        _positive(self, "kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
        if self.q_lora_rank is not None:
            _positive(self, "q_lora_rank")
        if self.qk_rope_head_dim % 2:
            raise ValueError(f"qk_rope_head_dim must be even for RoPE, got {self.qk_rope_head_dim}")

    def _check_gqa(self) -> None:
        if self.q_lora_rank is not None:
            raise ValueError("q_lora_rank is only meaningful with MLA (set kv_lora_rank)")
        kv = self.num_kv_heads if self.num_kv_heads is not None else self.num_heads
        if kv <= 0 or self.num_heads % kv:
            raise ValueError(
                f"num_kv_heads must be a positive divisor of num_heads ({self.num_heads}), got {kv}"
            )
        if self.head_dim is None and self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) is not divisible by num_heads ({self.num_heads}); "
                "set head_dim"
            )
        if self.head_dim is not None:
            _positive(self, "head_dim")
        if self.resolved_head_dim % 2:
            raise ValueError(f"head_dim must be even for RoPE, got {self.resolved_head_dim}")

    def _check_moe(self) -> None:
        _positive(self, "n_activated_experts", "moe_intermediate_size", "n_expert_groups", "n_limited_groups")
        if self.n_activated_experts > self.n_routed_experts:
            raise ValueError(
                f"n_activated_experts (top-K = {self.n_activated_experts}) must not exceed "
                f"n_routed_experts ({self.n_routed_experts})"
            )
        if self.n_routed_experts % self.n_expert_groups:
            raise ValueError(
                f"n_expert_groups ({self.n_expert_groups}) must divide n_routed_experts "
                f"({self.n_routed_experts})"
            )
        if self.n_limited_groups > self.n_expert_groups:
            raise ValueError(
                f"n_limited_groups (topk_group = {self.n_limited_groups}) must not exceed "
                f"n_expert_groups ({self.n_expert_groups})"
            )
        kept = self.n_limited_groups * self.n_routed_experts // self.n_expert_groups
        if self.n_activated_experts > kept:
            raise ValueError(
                f"n_activated_experts ({self.n_activated_experts}) exceeds the experts left in the "
                f"{self.n_limited_groups} kept group(s) ({kept})"
            )
        if self.group_score == "top2_sum" and self.n_routed_experts // self.n_expert_groups < 2:
            raise ValueError("group_score 'top2_sum' needs at least 2 experts per group")
        if self.capacity_factor is not None and self.capacity_factor <= 0:
            raise ValueError(f"capacity_factor must be positive or None, got {self.capacity_factor}")
        if self.adaptive_top_p is not None and not 0.0 < self.adaptive_top_p <= 1.0:
            raise ValueError(f"adaptive_top_p must be in (0, 1], got {self.adaptive_top_p}")
        if not 0 <= self.n_dense_layers <= self.num_layers:
            raise ValueError(
                f"n_dense_layers must be in [0, num_layers={self.num_layers}], got {self.n_dense_layers}"
            )
        if self.n_shared_experts < 0:
            raise ValueError(f"n_shared_experts must be >= 0, got {self.n_shared_experts}")

    # --- derived sizes ------------------------------------------------------------------------
    @property
    def attention_kind(self) -> AttentionKind:
        if self.kv_lora_rank is not None:
            return "mla"
        kv = self.resolved_num_kv_heads
        if kv == self.num_heads:
            return "mha"
        return "mqa" if kv == 1 else "gqa"

    @property
    def is_mla(self) -> bool:
        return self.kv_lora_rank is not None

    @property
    def resolved_num_kv_heads(self) -> int:
        return self.num_kv_heads if self.num_kv_heads is not None else self.num_heads

    @property
    def resolved_head_dim(self) -> int:
        return self.head_dim if self.head_dim is not None else self.hidden_size // self.num_heads

    @property
    def qk_head_dim(self) -> int:
        """Query/key width per head: nope + rope for MLA, head_dim otherwise."""
        return self.qk_nope_head_dim + self.qk_rope_head_dim if self.is_mla else self.resolved_head_dim

    @property
    def value_head_dim(self) -> int:
        return self.v_head_dim if self.is_mla else self.resolved_head_dim

    @property
    def rope_dim(self) -> int:
        return self.qk_rope_head_dim if self.is_mla else self.resolved_head_dim

    @property
    def kv_cache_width(self) -> int:
        """Cached values per token per layer: c_KV + k_R for MLA, K and V of every KV head otherwise."""
        if self.is_mla:
            return self.kv_lora_rank + self.qk_rope_head_dim
        return 2 * self.resolved_num_kv_heads * self.resolved_head_dim

    @property
    def is_moe(self) -> bool:
        return self.n_routed_experts > 0

    def is_moe_layer(self, layer: int) -> bool:
        return self.is_moe and layer >= self.n_dense_layers

    @property
    def num_moe_layers(self) -> int:
        return self.num_layers - self.n_dense_layers if self.is_moe else 0

    @property
    def softmax_scale(self) -> float:
        """Attention logit scale: 1/√d_qk, times mscale² under YaRN (DeepSeek-V2 reference code)."""
        scale = self.qk_head_dim**-0.5
        rs = self.rope_scaling
        if rs is not None and rs.type == "yarn" and rs.mscale_all_dim:
            m = yarn_mscale(rs.factor, rs.mscale_all_dim)
            scale *= m * m
        return scale

    def replace(self, **changes) -> ModelConfig:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)


def yarn_mscale(factor: float, mscale: float = 1.0) -> float:
    """YaRN attention temperature ``0.1·mscale·ln(s) + 1`` for scale ``s > 1`` (arXiv 2309.00071 eq. 22)."""
    return 1.0 if factor <= 1.0 else 0.1 * mscale * math.log(factor) + 1.0


def _positive(cfg: ModelConfig, *names: str) -> None:
    for name in names:
        value = getattr(cfg, name)
        if value is None or value <= 0:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
