"""Primitives shared by every block: RMSNorm, the SwiGLU MLP, and the linear-layer factory."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from aidc.model.config import ModelConfig
from aidc.model.fp8 import Fp8Linear, Linear


def make_linear(cfg: ModelConfig, in_features: int, out_features: int, bias: bool = False) -> Linear:
    """A projection that follows the config's precision: :class:`Fp8Linear` when ``cfg.fp8``."""
    cls = Fp8Linear if cfg.fp8 else Linear
    return cls(in_features, out_features, bias=bias, block_size=cfg.fp8_block_size)


class RMSNorm(nn.Module):
    """Root-mean-square norm (Zhang & Sennrich 2019, arXiv 1910.07467), math in FP32 or wider."""

    def __init__(self, dim: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xf = x.to(torch.promote_types(x.dtype, torch.float32))
        xf = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + self.eps)
        return self.weight * xf.to(x.dtype)


class MLP(nn.Module):
    """SwiGLU feed-forward ``w2(silu(w1·x) ⊙ w3·x)`` (Shazeer 2020, arXiv 2002.05202).

    ``w1`` is the gate, ``w3`` the up projection and ``w2`` the down projection, as in DeepSeek's
    and Meta's reference code; the same module serves dense layers, routed and shared experts.
    """

    def __init__(self, cfg: ModelConfig, hidden: int, inter: int) -> None:
        super().__init__()
        self.w1 = make_linear(cfg, hidden, inter)
        self.w2 = make_linear(cfg, inter, hidden)
        self.w3 = make_linear(cfg, hidden, inter)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w2(F.silu(self.w1(x)) * self.w3(x))
