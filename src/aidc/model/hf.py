"""Hugging Face ``DeepseekV3`` ↔ aidc: config conversion and a state-dict name mapping both ways.

Only the name mapping and tensor reshapes live here; ``transformers`` is optional (it is a test
dependency): the mapping works on checkpoints without it, :func:`to_hf_config` needs it. HF stores
the routed experts of a layer as two stacked tensors, ``experts.gate_up_proj`` (E, 2I, D) with
the gate rows first and ``experts.down_proj`` (E, D, I); aidc keeps one SwiGLU module per expert
(``w1`` gate, ``w3`` up, ``w2`` down) as DeepSeek's reference code does. RoPE weights need no
permutation: HF's ``rope_interleave=True`` uses DeepSeek's interleaved layout, like aidc.
"""

from __future__ import annotations

import re

import torch

from aidc.model.config import ModelConfig

try:
    from transformers import DeepseekV3Config
except ImportError:  # optional: pip install 'transformers>=5'
    DeepseekV3Config = None

# aidc suffix inside a layer ↔ HF suffix inside ``model.layers.{i}``
_LAYER_NAMES: dict[str, str] = {
    "attn_norm.weight": "input_layernorm.weight",
    "ffn_norm.weight": "post_attention_layernorm.weight",
    "attn.wq.weight": "self_attn.q_proj.weight",
    "attn.wq_a.weight": "self_attn.q_a_proj.weight",
    "attn.q_norm.weight": "self_attn.q_a_layernorm.weight",
    "attn.wq_b.weight": "self_attn.q_b_proj.weight",
    "attn.wkv_a.weight": "self_attn.kv_a_proj_with_mqa.weight",
    "attn.kv_norm.weight": "self_attn.kv_a_layernorm.weight",
    "attn.wkv_b.weight": "self_attn.kv_b_proj.weight",
    "attn.wo.weight": "self_attn.o_proj.weight",
    "ffn.w1.weight": "mlp.gate_proj.weight",
    "ffn.w3.weight": "mlp.up_proj.weight",
    "ffn.w2.weight": "mlp.down_proj.weight",
    "ffn.gate.weight": "mlp.gate.weight",
    "ffn.gate.bias": "mlp.gate.e_score_correction_bias",
    "ffn.shared_experts.w1.weight": "mlp.shared_experts.gate_proj.weight",
    "ffn.shared_experts.w3.weight": "mlp.shared_experts.up_proj.weight",
    "ffn.shared_experts.w2.weight": "mlp.shared_experts.down_proj.weight",
}
_TOP_NAMES: dict[str, str] = {
    "embed.weight": "model.embed_tokens.weight",
    "norm.weight": "model.norm.weight",
    "head.weight": "lm_head.weight",
}
_EXPERT = re.compile(r"ffn\.experts\.(\d+)\.(w[123])\.weight")


def to_hf_config(cfg: ModelConfig, **overrides):
    """A ``transformers.DeepseekV3Config`` with the same architecture (MLA + sigmoid MoE models).

    Raises ``ValueError`` for what HF's DeepseekV3 cannot express (GQA, softmax gate, max group score).
    """
    if DeepseekV3Config is None:
        raise ImportError("to_hf_config needs transformers: pip install 'transformers>=5'")
    if not cfg.is_mla:
        raise ValueError(f"{cfg.name}: HF DeepseekV3 needs MLA (kv_lora_rank), got {cfg.attention_kind}")
    if cfg.is_moe and (
        cfg.score_func != "sigmoid" or (cfg.n_expert_groups > 1 and cfg.group_score != "top2_sum")
    ):
        raise ValueError(f"{cfg.name}: HF DeepseekV3 routes with a sigmoid gate and top-2-sum group scores")
    rope = {"rope_type": "default", "rope_theta": cfg.rope_theta}
    if cfg.rope_scaling is not None and cfg.rope_scaling.type == "yarn":
        rs = cfg.rope_scaling
        rope = {
            "rope_type": "yarn",
            "rope_theta": cfg.rope_theta,
            "factor": rs.factor,
            "original_max_position_embeddings": rs.original_max_position_embeddings,
            "beta_fast": rs.beta_fast,
            "beta_slow": rs.beta_slow,
            "mscale": rs.mscale,
            "mscale_all_dim": rs.mscale_all_dim,
        }
    moe = cfg.is_moe
    kwargs = dict(
        vocab_size=cfg.vocab_size,
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        moe_intermediate_size=cfg.moe_intermediate_size if moe else 1,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_heads,
        n_shared_experts=cfg.n_shared_experts,
        n_routed_experts=cfg.n_routed_experts if moe else 1,
        routed_scaling_factor=cfg.route_scale,
        kv_lora_rank=cfg.kv_lora_rank,
        q_lora_rank=cfg.q_lora_rank,
        qk_rope_head_dim=cfg.qk_rope_head_dim,
        v_head_dim=cfg.v_head_dim,
        qk_nope_head_dim=cfg.qk_nope_head_dim,
        n_group=cfg.n_expert_groups,
        topk_group=cfg.n_limited_groups,
        num_experts_per_tok=cfg.n_activated_experts if moe else 1,
        first_k_dense_replace=cfg.n_dense_layers if moe else cfg.num_layers,
        norm_topk_prob=cfg.norm_topk_prob,
        max_position_embeddings=cfg.max_seq_len,
        rms_norm_eps=cfg.rms_norm_eps,
        tie_word_embeddings=cfg.tie_word_embeddings,
        rope_parameters=rope,
        rope_interleave=True,
        num_mtp_layers=0,
    )
    kwargs.update(overrides)
    return DeepseekV3Config(**kwargs)


def aidc_to_hf_state_dict(state: dict[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """Rename and stack an aidc ``Transformer`` state dict into HF ``DeepseekV3ForCausalLM`` names.

    MTP modules are left out (HF's DeepseekV3 ignores checkpoint layers past ``num_hidden_layers``).
    """
    out: dict[str, torch.Tensor] = {}
    experts: dict[int, dict[tuple[int, str], torch.Tensor]] = {}
    for name, t in state.items():
        if name in _TOP_NAMES:
            out[_TOP_NAMES[name]] = t
            continue
        m = re.fullmatch(r"layers\.(\d+)\.(.+)", name)
        if m is None:
            continue  # mtp.*, rope tables
        layer, rest = int(m.group(1)), m.group(2)
        e = _EXPERT.fullmatch(rest)
        if e:
            experts.setdefault(layer, {})[(int(e.group(1)), e.group(2))] = t
        elif rest in _LAYER_NAMES:
            out[f"model.layers.{layer}.{_LAYER_NAMES[rest]}"] = t
        else:
            raise KeyError(f"no HF name for aidc parameter {name}")
    for layer, ws in experts.items():
        n = cfg.n_routed_experts
        prefix = f"model.layers.{layer}.mlp.experts"
        out[f"{prefix}.gate_up_proj"] = torch.stack([torch.cat((ws[i, "w1"], ws[i, "w3"])) for i in range(n)])
        out[f"{prefix}.down_proj"] = torch.stack([ws[i, "w2"] for i in range(n)])
    return out


def hf_to_aidc_state_dict(state: dict[str, torch.Tensor], cfg: ModelConfig) -> dict[str, torch.Tensor]:
    """The inverse of :func:`aidc_to_hf_state_dict`: HF ``DeepseekV3ForCausalLM`` names → aidc."""
    top = {v: k for k, v in _TOP_NAMES.items()}
    per_layer = {v: k for k, v in _LAYER_NAMES.items()}
    out: dict[str, torch.Tensor] = {}
    for name, t in state.items():
        if name in top:
            out[top[name]] = t
            continue
        m = re.fullmatch(r"model\.layers\.(\d+)\.(.+)", name)
        if m is None:
            raise KeyError(f"no aidc name for HF parameter {name}")
        layer, rest = int(m.group(1)), m.group(2)
        if rest == "mlp.experts.gate_up_proj":
            gate, up = t.split(cfg.moe_intermediate_size, dim=1)
            for i in range(t.shape[0]):
                out[f"layers.{layer}.ffn.experts.{i}.w1.weight"] = gate[i]
                out[f"layers.{layer}.ffn.experts.{i}.w3.weight"] = up[i]
        elif rest == "mlp.experts.down_proj":
            for i in range(t.shape[0]):
                out[f"layers.{layer}.ffn.experts.{i}.w2.weight"] = t[i]
        elif rest in per_layer:
            out[f"layers.{layer}.{per_layer[rest]}"] = t
        else:
            raise KeyError(f"no aidc name for HF parameter {name}")
    return out
