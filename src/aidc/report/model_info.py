"""``aidc model info``: a model's parameters, KV cache, FLOPs and bytes as rich tables."""

from __future__ import annotations

from rich.table import Table

from aidc.model.accounting import (
    equivalent_kv_elements_per_token,
    forward_bytes,
    forward_flops,
    kv_elements_per_token,
    parameter_counts,
    prefill_flops_per_token,
    weight_bytes,
)
from aidc.model.config import ModelConfig

CONTEXTS = (1024, 4096, 16384, 131072)


def _b(n: float) -> str:
    return f"{n / 1e9:,.2f} B" if n >= 1e8 else f"{n / 1e6:,.3f} M"


def _bytes(n: float) -> str:
    for unit, div in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= div:
            return f"{n / div:,.2f} {unit}"
    return f"{n:,.0f} B"


def architecture_table(cfg: ModelConfig) -> Table:
    p = parameter_counts(cfg)
    t = Table(title=f"{cfg.name}", show_header=False)
    t.add_column("field")
    t.add_column("value", justify="right")
    attn = {"mla": "MLA (latent KV)", "gqa": "GQA", "mha": "MHA", "mqa": "MQA"}[cfg.attention_kind]
    t.add_row("attention", attn)
    t.add_row("layers × hidden", f"{cfg.num_layers} × {cfg.hidden_size}")
    heads = f"{cfg.num_heads}" + (f" (KV heads {cfg.resolved_num_kv_heads})" if not cfg.is_mla else "")
    t.add_row("heads", heads)
    if cfg.is_mla:
        t.add_row("kv_lora_rank + qk_rope_head_dim", f"{cfg.kv_lora_rank} + {cfg.qk_rope_head_dim}")
    if cfg.is_moe:
        t.add_row(
            "experts (routed / shared / active)",
            f"{cfg.n_routed_experts} / {cfg.n_shared_experts} / {cfg.n_activated_experts}",
        )
    t.add_row("parameters, total", _b(p.total))
    t.add_row("parameters, active per token", _b(p.active))
    if cfg.mtp_depth:
        t.add_row(f"MTP modules ({cfg.mtp_depth})", _b(p.mtp))
    t.add_row("weights, BF16", _bytes(weight_bytes(cfg, "bf16")))
    if cfg.fp8:
        t.add_row("weights, FP8 recipe (V3 §3.3)", _bytes(weight_bytes(cfg)))
    t.add_row("source", cfg.source)
    return t


def kv_table(cfg: ModelConfig, gqa_groups: int = 8) -> Table:
    """KV cache of the model's own attention beside MHA, GQA and MQA with the same heads and head dims."""
    t = Table(title="KV cache per token (all layers)")
    t.add_column("attention")
    t.add_column("values/token", justify="right")
    t.add_column("BF16 [B/token]", justify="right")
    t.add_column("FP8 [B/token]", justify="right")
    t.add_column("128k context, BF16", justify="right")
    t.add_column("vs this model", justify="right")
    own = kv_elements_per_token(cfg)
    rows = [(f"this model ({cfg.attention_kind.upper()})", own)]
    for kind in ("mha", "gqa", "mqa"):
        if not cfg.is_mla and kind == cfg.attention_kind:
            continue
        label = {"mha": "MHA equivalent", "gqa": f"GQA-{gqa_groups} equivalent", "mqa": "MQA equivalent"}[
            kind
        ]
        rows.append((label, equivalent_kv_elements_per_token(cfg, kind, gqa_groups)))
    for label, n in rows:
        t.add_row(label, f"{n:,}", f"{2 * n:,}", f"{n:,}", _bytes(2 * n * 131072), f"{n / own:,.2f}×")
    return t


def flops_table(cfg: ModelConfig) -> Table:
    t = Table(title="Compute and traffic per token (matmul FLOPs; weights BF16, or FP8 recipe if set)")
    t.add_column("context [tokens]", justify="right")
    t.add_column("prefill [GFLOP/token]", justify="right")
    if cfg.is_mla:
        t.add_column("decode, absorbed [GFLOP]", justify="right")
        t.add_column("decode, naive [GFLOP]", justify="right")
    else:
        t.add_column("decode [GFLOP]", justify="right")
    t.add_column("decode bytes, batch 1", justify="right")
    t.add_column("FLOP/byte, batch 1", justify="right")
    for ctx in CONTEXTS:
        if ctx > cfg.max_seq_len:
            continue
        dec = forward_flops(cfg, 1, ctx).total
        row = [f"{ctx:,}", f"{prefill_flops_per_token(cfg, ctx) / 1e9:,.2f}", f"{dec / 1e9:,.2f}"]
        if cfg.is_mla:
            row.append(f"{forward_flops(cfg, 1, ctx, mla_mode='naive').total / 1e9:,.2f}")
        moved = forward_bytes(cfg, 1, 1, ctx).total
        row += [_bytes(moved), f"{dec / moved:,.2f}"]
        t.add_row(*row)
    return t


def model_info_tables(cfg: ModelConfig) -> list[Table]:
    return [architecture_table(cfg), kv_table(cfg), flops_table(cfg)]
