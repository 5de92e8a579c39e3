"""Rotary position embedding (RoPE) with YaRN and Llama-3.1 frequency scaling; all math in FP32.

RoPE (Su et al. 2021, arXiv 2104.09864) rotates pairs of channels by ``position · θ_i`` with
``θ_i = base^(−2i/d)``. aidc pairs *adjacent* channels ``(x0, x1), (x2, x3), …`` as DeepSeek's
reference code does (``torch.view_as_complex`` on the last dimension). Hugging Face's DeepseekV3
computes the same rotation but returns the rotated channels de-interleaved (evens, then odds);
q·k is unchanged because both sides share the layout, and :func:`deinterleave` maps ours onto it.
"""

from __future__ import annotations

import math

import torch

from aidc.model.config import ModelConfig, RopeScaling, yarn_mscale


def yarn_correction_dim(num_rotations: float, dim: int, base: float, max_positions: int) -> float:
    """Channel index whose wavelength fits ``num_rotations`` turns in ``max_positions`` (YaRN eq. 17)."""
    return dim * math.log(max_positions / (num_rotations * 2 * math.pi)) / (2 * math.log(base))


def yarn_inv_freq(inv_freq: torch.Tensor, dim: int, base: float, rs: RopeScaling) -> torch.Tensor:
    """YaRN "NTK-by-parts" blend (arXiv 2309.00071 §3.2): interpolate slow channels, keep fast ones."""
    low = math.floor(yarn_correction_dim(rs.beta_fast, dim, base, rs.original_max_position_embeddings))
    high = math.ceil(yarn_correction_dim(rs.beta_slow, dim, base, rs.original_max_position_embeddings))
    low, high = max(low, 0), min(high, dim - 1)
    if low == high:
        high += 0.001  # avoid a zero-width ramp
    ramp = ((torch.arange(dim // 2, dtype=torch.float32) - low) / (high - low)).clamp(0.0, 1.0)
    keep = 1.0 - ramp  # 1 → original frequency (extrapolate), 0 → interpolated
    return inv_freq / rs.factor * (1.0 - keep) + inv_freq * keep


def llama3_inv_freq(inv_freq: torch.Tensor, rs: RopeScaling) -> torch.Tensor:
    """Llama 3.1 scaling: long wavelengths ÷ factor, short ones kept, a smooth blend in between."""
    low_wavelen = rs.original_max_position_embeddings / rs.low_freq_factor
    high_wavelen = rs.original_max_position_embeddings / rs.high_freq_factor
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_wavelen, inv_freq / rs.factor, inv_freq)
    smooth = (rs.original_max_position_embeddings / wavelen - rs.low_freq_factor) / (
        rs.high_freq_factor - rs.low_freq_factor
    )
    blended = (1 - smooth) * scaled / rs.factor + smooth * scaled
    medium = (wavelen >= high_wavelen) & (wavelen <= low_wavelen)
    return torch.where(medium, blended, scaled)


def rope_inv_freq(dim: int, base: float, scaling: RopeScaling | None = None) -> torch.Tensor:
    """Inverse frequencies θ_i [rad/position], shape ``(dim // 2,)``, FP32."""
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    if scaling is None:
        return inv_freq
    if scaling.type == "yarn":
        return yarn_inv_freq(inv_freq, dim, base, scaling)
    return llama3_inv_freq(inv_freq, scaling)


def rope_amplitude(scaling: RopeScaling | None) -> float:
    """Factor on cos/sin: ``mscale(s, mscale) / mscale(s, mscale_all_dim)`` under YaRN, else 1.

    DeepSeek-V2's released modelling code applies it to the rotary table; with
    ``mscale == mscale_all_dim`` (V2, V3) it is exactly 1 and the temperature lives in the softmax
    scale instead (:attr:`ModelConfig.softmax_scale`).
    """
    if scaling is None or scaling.type != "yarn":
        return 1.0
    return yarn_mscale(scaling.factor, scaling.mscale) / yarn_mscale(scaling.factor, scaling.mscale_all_dim)


class RotaryTable(torch.nn.Module):
    """cos/sin of ``position · θ_i`` for positions ``[0, max_seq_len)``, FP32, as a non-persistent buffer."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        dim = cfg.rope_dim
        inv_freq = rope_inv_freq(dim, cfg.rope_theta, cfg.rope_scaling)
        angles = torch.outer(torch.arange(cfg.max_seq_len, dtype=torch.float32), inv_freq)  # (T, dim/2)
        amp = rope_amplitude(cfg.rope_scaling)
        self.register_buffer("cos", angles.cos() * amp, persistent=False)
        self.register_buffer("sin", angles.sin() * amp, persistent=False)

    def forward(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if int(positions.max()) >= self.cos.shape[0]:
            raise ValueError(f"position {int(positions.max())} is beyond max_seq_len ({self.cos.shape[0]})")
        return self.cos[positions], self.sin[positions]


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate adjacent channel pairs of ``x`` (…, S, H, d) by the angles in ``cos``/``sin`` (S, d/2).

    Computed in FP32 (FP64 if ``x`` is FP64) and returned in ``x``'s dtype: DeepSeek-V3 keeps RoPE
    out of low precision.
    """
    dtype = x.dtype
    math_dtype = torch.promote_types(dtype, torch.float32)
    xf = x.to(math_dtype).unflatten(-1, (-1, 2))  # (..., S, H, d/2, 2)
    x0, x1 = xf[..., 0], xf[..., 1]
    c = cos.to(math_dtype)[:, None, :]  # (S, 1, d/2) broadcasts over heads
    s = sin.to(math_dtype)[:, None, :]
    out = torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)
    return out.to(dtype)


def deinterleave(x: torch.Tensor) -> torch.Tensor:
    """Reorder the last dimension from pairs (x0, x1, x2, x3, …) to (x0, x2, …, x1, x3, …)."""
    return torch.cat((x[..., 0::2], x[..., 1::2]), dim=-1)
