"""Attention: grouped-query attention (MHA/GQA/MQA) and Multi-head Latent Attention (MLA).

MLA (DeepSeek-V2, arXiv 2405.04434, §2.1) compresses keys and values of a token into one latent
``c_KV = RMSNorm(W_DKV · h)`` of ``kv_lora_rank`` values, and carries position in a separate
*decoupled* RoPE key ``k_R = RoPE(W_KR · h)`` of ``qk_rope_head_dim`` values shared by all heads
(eq. 9–17). Only ``[c_KV ; k_R]`` is cached. Per head ``h``:

    score(t) = q_C,h · (W_UK,h c_KV,t) + q_R,h · k_R,t            out_h = Σ_t p(t) · W_UV,h c_KV,t

Two ways to compute the same thing:

* **naive**: expand every cached latent through ``W_UK``/``W_UV`` into per-head keys and values
  (what training and Hugging Face's DeepseekV3 do), O(L·c·H·(d_nope+d_v)) work per step;
* **absorbed**: fold ``W_UK`` into the query (``q̃_h = W_UK,hᵀ q_C,h``, a vector in latent space)
  and ``W_UV`` after the weighted sum, so attention runs directly over the cached latents
  (DeepSeek-V2 §2.1.2, "absorb"), O(L·H·(c + d_rope)) per step — the decode path.

Shapes: B batch, S new tokens, L = cached + new tokens, H heads, K KV heads, G = H/K, d head dims,
c = kv_lora_rank, r = qk_rope_head_dim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

from aidc.model.cache import CacheSlots, PagedKVCache
from aidc.model.config import ModelConfig
from aidc.model.fp8 import FP8_BLOCK, dequantize_blocks, quantize_blocks
from aidc.model.layers import RMSNorm, make_linear
from aidc.model.rope import apply_rope

MLAMode = Literal["naive", "absorbed"]


@dataclass
class AttentionInputs:
    """What every attention layer of one forward pass shares."""

    cos: torch.Tensor  # (S, d_rope/2)
    sin: torch.Tensor
    mask: torch.Tensor | None  # (S, L) additive, −inf above the causal diagonal; None when all visible
    cache: PagedKVCache | None = None
    slots: CacheSlots | None = None


def _store_and_load(entries: torch.Tensor, layer: int, inp: AttentionInputs) -> torch.Tensor:
    """Write this step's cache entries (B, S, W) and return every visible entry (B, L, W)."""
    if inp.cache is None:
        return entries
    inp.cache.write(layer, inp.slots, entries)
    return inp.cache.read(layer, inp.slots).to(entries.dtype)


def _softmax(scores: torch.Tensor, mask: torch.Tensor | None, scale: float) -> torch.Tensor:
    """Scaled, masked softmax over the last axis in FP32 (or wider), returned in the scores' dtype."""
    s = scores.to(torch.promote_types(scores.dtype, torch.float32)) * scale
    if mask is not None:
        s = s + mask
    return s.softmax(dim=-1).to(scores.dtype)


class GroupedQueryAttention(nn.Module):
    """MHA (K = H), GQA (1 < K < H) or MQA (K = 1) with RoPE on the full head and a paged K/V cache."""

    def __init__(self, cfg: ModelConfig, layer_id: int) -> None:
        super().__init__()
        self.layer_id = layer_id
        self.n_heads, self.n_kv, self.head_dim = (
            cfg.num_heads,
            cfg.resolved_num_kv_heads,
            cfg.resolved_head_dim,
        )
        d, hd = cfg.hidden_size, self.head_dim
        self.wq = make_linear(cfg, d, self.n_heads * hd, bias=cfg.qkv_bias)
        self.wk = make_linear(cfg, d, self.n_kv * hd, bias=cfg.qkv_bias)
        self.wv = make_linear(cfg, d, self.n_kv * hd, bias=cfg.qkv_bias)
        self.wo = make_linear(cfg, self.n_heads * hd, d)
        self.scale = cfg.softmax_scale

    def forward(self, x: torch.Tensor, inp: AttentionInputs) -> torch.Tensor:
        b, s, _ = x.shape
        hd, kvh, g = self.head_dim, self.n_kv, self.n_heads // self.n_kv
        q = apply_rope(self.wq(x).view(b, s, self.n_heads, hd), inp.cos, inp.sin)
        k = apply_rope(self.wk(x).view(b, s, kvh, hd), inp.cos, inp.sin)
        v = self.wv(x).view(b, s, kvh, hd).to(k.dtype)
        entries = _store_and_load(torch.cat((k.flatten(2), v.flatten(2)), dim=-1), self.layer_id, inp)
        k_all, v_all = entries.view(b, -1, 2, kvh, hd).unbind(dim=2)  # (B, L, K, d) each
        q = q.view(b, s, kvh, g, hd)
        scores = torch.einsum("bskgd,btkd->bskgt", q, k_all.to(q.dtype))
        p = _softmax(scores, inp.mask[:, None, None, :] if inp.mask is not None else None, self.scale)
        out = torch.einsum("bskgt,btkd->bskgd", p, v_all.to(p.dtype))  # (B, S, K, G, d)
        return self.wo(out.reshape(b, s, self.n_heads * hd))


class MultiHeadLatentAttention(nn.Module):
    """MLA with a decoupled RoPE key, a latent-only cache, and naive or absorbed attention.

    Projection names follow DeepSeek's reference code: ``wq_a``/``q_norm``/``wq_b`` (or ``wq``
    without query compression), ``wkv_a`` (→ ``[c_KV ; k_R]``), ``kv_norm``, ``wkv_b`` (the stacked
    per-head ``[W_UK ; W_UV]``) and ``wo``.
    """

    def __init__(self, cfg: ModelConfig, layer_id: int, mode: MLAMode = "absorbed") -> None:
        super().__init__()
        self.layer_id, self.mode = layer_id, mode
        self.n_heads = cfg.num_heads
        self.d_nope, self.d_rope, self.d_v = cfg.qk_nope_head_dim, cfg.qk_rope_head_dim, cfg.v_head_dim
        self.kv_rank = cfg.kv_lora_rank
        d, qk = cfg.hidden_size, cfg.qk_head_dim
        if cfg.q_lora_rank is None:
            self.wq = make_linear(cfg, d, self.n_heads * qk)
        else:
            self.wq_a = make_linear(cfg, d, cfg.q_lora_rank)
            self.q_norm = RMSNorm(cfg.q_lora_rank, cfg.rms_norm_eps)
            self.wq_b = make_linear(cfg, cfg.q_lora_rank, self.n_heads * qk)
        self.wkv_a = make_linear(cfg, d, self.kv_rank + self.d_rope)
        self.kv_norm = RMSNorm(self.kv_rank, cfg.rms_norm_eps)
        self.wkv_b = make_linear(cfg, self.kv_rank, self.n_heads * (self.d_nope + self.d_v))
        self.wo = make_linear(cfg, self.n_heads * self.d_v, d)
        self.scale = cfg.softmax_scale

    def latent(self, x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
        """Cache entries ``[c_KV ; k_R]`` of the tokens ``x`` (B, S, D) → (B, S, c + r)."""
        c_kv, k_r = self.wkv_a(x).split([self.kv_rank, self.d_rope], dim=-1)
        k_r = apply_rope(k_r.unsqueeze(2), cos, sin).squeeze(2)  # one RoPE key shared by all heads
        c_kv = self.kv_norm(c_kv)
        return torch.cat((c_kv, k_r.to(c_kv.dtype)), dim=-1)

    def up_projection(self) -> torch.Tensor:
        """``W_UKV`` as (H, d_nope + d_v, c); the FP8 model uses its dequantized FP8 weight."""
        w = self.wkv_b.weight
        if self.wkv_b.fp8:
            q, s = quantize_blocks(w.detach(), FP8_BLOCK)
            w = dequantize_blocks(q, s, tuple(w.shape)).to(w.dtype)
        return w.view(self.n_heads, self.d_nope + self.d_v, self.kv_rank)

    def forward(self, x: torch.Tensor, inp: AttentionInputs) -> torch.Tensor:
        b, s, _ = x.shape
        q = self.wq(x) if hasattr(self, "wq") else self.wq_b(self.q_norm(self.wq_a(x)))
        q_nope, q_rope = q.view(b, s, self.n_heads, -1).split([self.d_nope, self.d_rope], dim=-1)
        q_rope = apply_rope(q_rope, inp.cos, inp.sin)
        entries = _store_and_load(self.latent(x, inp.cos, inp.sin), self.layer_id, inp)
        c_kv, k_r = entries.split([self.kv_rank, self.d_rope], dim=-1)  # (B, L, c), (B, L, r)
        mask = inp.mask[:, None, :] if inp.mask is not None else None  # (S, 1, L) over (B, S, H, L)
        if self.mode == "naive":
            kv = self.wkv_b(c_kv).view(b, -1, self.n_heads, self.d_nope + self.d_v)
            k_nope, v = kv.split([self.d_nope, self.d_v], dim=-1)  # (B, L, H, ·)
            scores = torch.einsum("bshd,bthd->bsht", q_nope, k_nope.to(q_nope.dtype))
            scores = scores + torch.einsum("bshr,btr->bsht", q_rope, k_r.to(q_rope.dtype))
            p = _softmax(scores, mask, self.scale)
            out = torch.einsum("bsht,bthd->bshd", p, v.to(p.dtype))
        else:
            w = self.up_projection().to(q_nope.dtype)
            w_uk, w_uv = w[:, : self.d_nope], w[:, self.d_nope :]  # (H, d_nope, c), (H, d_v, c)
            q_lat = torch.einsum("bshd,hdc->bshc", q_nope, w_uk)  # query absorbed into latent space
            scores = torch.einsum("bshc,btc->bsht", q_lat, c_kv.to(q_lat.dtype))
            scores = scores + torch.einsum("bshr,btr->bsht", q_rope, k_r.to(q_rope.dtype))
            p = _softmax(scores, mask, self.scale)
            o_lat = torch.einsum("bsht,btc->bshc", p, c_kv.to(p.dtype))
            out = torch.einsum("bshc,hdc->bshd", o_lat, w_uv)  # value up-projection after the sum
        return self.wo(out.flatten(2))


def make_attention(cfg: ModelConfig, layer_id: int, mla_mode: MLAMode = "absorbed") -> nn.Module:
    if cfg.is_mla:
        return MultiHeadLatentAttention(cfg, layer_id, mla_mode)
    return GroupedQueryAttention(cfg, layer_id)
