"""FP8 (E4M3) mixed precision with fine-grained block scaling, as in DeepSeek-V3 §3.3.

What DeepSeek-V3 does (arXiv 2412.19437, §3.3.1–3.3.2) and what this module reproduces:

* **E4M3 for every tensor** of the covered GEMMs (activations, weights, and in training the
  output gradients), with the range kept by *fine-grained* scales instead of a per-tensor one:
  activations in 1×128 tiles (per token, per 128 channels), weights in 128×128 blocks. Each scale
  is ``amax / FP8_E4M3_MAX``; values are clamped to ±448 before the cast so rounding can never
  overflow to NaN (E4M3FN has no infinity).
* **FP32 accumulation promoted every 128 elements of K** (N_C = 128): the partial sum of each
  128-wide slice of the reduction is multiplied by its two scales and added to an FP32 accumulator.
* **BF16 output** of the GEMM.
* **What stays in high precision** is :data:`FP8_HIGH_PRECISION_COMPONENTS`.

.. warning::
   On the CPU the block-scaled GEMM is *emulated*: the FP8 operands are real ``float8_e4m3fn``
   tensors (so quantization error is exact), but each 128-slice product is computed in FP32 from
   them. PyTorch's CPU ``torch._scaled_mm`` accepts only per-tensor or row-wise scales, not
   1×128 × 128×128 block scales, so it cannot run this recipe. The emulation sums each slice in
   FP32, so it does *not* model the ≈14-bit accumulator inside an H800 tensor-core slice that
   DeepSeek-V3 measured (§3.3.2); it is the numerics of the recipe after the promotion fix.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

FP8_E4M3_MAX = 448.0  # largest finite float8_e4m3fn value (OCP FP8 spec, 2023)
FP8_DTYPE = torch.float8_e4m3fn
FP8_BLOCK = 128  # activation tile width, weight block side and accumulation interval N_C (V3 §3.3.2)
_SCALE_FLOOR = 1e-12  # an all-zero tile gets this scale instead of 0 (avoids 0/0)

FP8_HIGH_PRECISION_COMPONENTS: dict[str, str] = {
    # DeepSeek-V3 §3.3.1: "we maintain the original precision (e.g., BF16 or FP32) for the
    # following components: the embedding module, the output head, MoE gating modules,
    # normalization operators, and attention operators."
    "embedding": "BF16",
    "output head": "BF16",
    "MoE gate (router)": "FP32 logits and scores",
    "RMSNorm": "FP32 math",
    "attention core (scores, softmax, weighted sum)": "BF16 inputs, FP32 softmax",
    "RoPE": "FP32 math",
    "master weights, weight gradients, optimizer state": "FP32",
}


def _pad_last(x: torch.Tensor, multiple: int) -> torch.Tensor:
    pad = -x.shape[-1] % multiple
    return F.pad(x, (0, pad)) if pad else x


def quantize_tiles(x: torch.Tensor, tile: int = FP8_BLOCK) -> tuple[torch.Tensor, torch.Tensor]:
    """E4M3 quantization of ``x`` (…, K) in 1×``tile`` tiles along the last dimension.

    Returns ``(q, scale)``: ``q`` float8_e4m3fn (…, K rounded up to a multiple of ``tile``, zero
    padded) and ``scale`` FP32 (…, ⌈K/tile⌉) with ``x ≈ q · scale`` tile by tile.
    """
    xp = _pad_last(x.float(), tile)
    tiles = xp.unflatten(-1, (-1, tile))  # (..., nK, tile)
    scale = tiles.abs().amax(dim=-1).clamp(min=_SCALE_FLOOR) / FP8_E4M3_MAX  # (..., nK)
    q = (tiles / scale[..., None]).clamp(-FP8_E4M3_MAX, FP8_E4M3_MAX).to(FP8_DTYPE)
    return q.flatten(-2), scale


def dequantize_tiles(q: torch.Tensor, scale: torch.Tensor, k: int, tile: int = FP8_BLOCK) -> torch.Tensor:
    """Inverse of :func:`quantize_tiles`, cropped back to ``k`` channels, FP32."""
    return (q.float().unflatten(-1, (-1, tile)) * scale[..., None]).flatten(-2)[..., :k]


def quantize_blocks(w: torch.Tensor, block: int = FP8_BLOCK) -> tuple[torch.Tensor, torch.Tensor]:
    """E4M3 quantization of a weight (N, K) in ``block``×``block`` blocks.

    Returns ``(q, scale)``: ``q`` float8_e4m3fn (N_pad, K_pad) and ``scale`` FP32
    (⌈N/block⌉, ⌈K/block⌉), the layout of DeepSeek-V3's ``weight_scale_inv``.
    """
    n, k = w.shape
    wp = F.pad(w.float(), (0, -k % block, 0, -n % block))
    blocks = wp.unflatten(0, (-1, block)).unflatten(-1, (-1, block))  # (nN, b, nK, b)
    scale = blocks.abs().amax(dim=(1, 3)).clamp(min=_SCALE_FLOOR) / FP8_E4M3_MAX  # (nN, nK)
    q = (blocks / scale[:, None, :, None]).clamp(-FP8_E4M3_MAX, FP8_E4M3_MAX).to(FP8_DTYPE)
    return q.flatten(2).flatten(0, 1), scale


def dequantize_blocks(
    q: torch.Tensor, scale: torch.Tensor, shape: tuple[int, int], block: int = FP8_BLOCK
) -> torch.Tensor:
    """Inverse of :func:`quantize_blocks`, cropped to ``shape``, FP32."""
    full = q.float().unflatten(0, (-1, block)).unflatten(-1, (-1, block)) * scale[:, None, :, None]
    return full.flatten(2).flatten(0, 1)[: shape[0], : shape[1]]


def scaled_gemm_fp32_promoted(
    a_q: torch.Tensor, a_scale: torch.Tensor, b_q: torch.Tensor, b_scale: torch.Tensor, block: int = FP8_BLOCK
) -> torch.Tensor:
    """``A · Bᵀ`` from FP8 operands with per-(row, K-slice) scales, accumulated in FP32.

    ``a_q`` (M, K_pad) with ``a_scale`` (M, nK); ``b_q`` (N, K_pad) with ``b_scale`` (N, nK); K_pad is a
    multiple of ``block``. Each ``block``-wide slice of K is multiplied out, scaled by its two scales
    and promoted into the FP32 accumulator (DeepSeek-V3 §3.3.2, N_C = 128). Returns FP32 (M, N).
    """
    m, n = a_q.shape[0], b_q.shape[0]
    acc = torch.zeros(m, n, dtype=torch.float32, device=a_q.device)
    for j in range(a_scale.shape[1]):
        ks = slice(j * block, (j + 1) * block)
        part = a_q[:, ks].float() @ b_q[:, ks].float().T  # (M, N): one accumulation interval
        acc += part * (a_scale[:, j, None] * b_scale[None, :, j])
    return acc


def _row_scales(block_scale: torch.Tensor, rows: int, block: int) -> torch.Tensor:
    """Expand block scales (nN, nK) to one scale per row (rows, nK)."""
    return block_scale.repeat_interleave(block, dim=0)[:rows]


def fp8_matmul(x: torch.Tensor, weight: torch.Tensor, block: int = FP8_BLOCK) -> torch.Tensor:
    """``x · weightᵀ`` with 1×block activation tiles and block×block weight blocks; FP32 result."""
    k = x.shape[-1]
    xq, xs = quantize_tiles(x.reshape(-1, k), block)
    wq, ws = quantize_blocks(weight, block)
    y = scaled_gemm_fp32_promoted(xq, xs, wq, _row_scales(ws, wq.shape[0], block), block)
    return y[:, : weight.shape[0]].reshape(*x.shape[:-1], weight.shape[0])


class _Fp8LinearFunction(torch.autograd.Function):
    """FP8 forward (Fprop) and backward (Dgrad, Wgrad), each a block-scaled FP8 GEMM (V3 Fig. 6).

    Backward quantizes the output gradient in 1×128 tiles for Dgrad and both operands in 128×1
    tiles along the token dimension for Wgrad, as DeepSeek-V3 §3.3.2 describes.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, weight: torch.Tensor, block: int) -> torch.Tensor:
        with torch.autocast(x.device.type, enabled=False):
            y = fp8_matmul(x, weight, block)
        ctx.save_for_backward(x, weight)
        ctx.block = block
        return y.to(torch.bfloat16)

    @staticmethod
    def backward(ctx, grad_out: torch.Tensor):
        x, weight = ctx.saved_tensors
        block = ctx.block
        n, k = weight.shape
        with torch.autocast(x.device.type, enabled=False):
            g = grad_out.reshape(-1, n).float()
            grad_x = grad_w = None
            if ctx.needs_input_grad[0]:
                # Dgrad: (M, N)·(N, K); the reduction runs over N, so W is blocked along N.
                grad_x = fp8_matmul(g, weight.T.contiguous(), block).reshape(x.shape).to(x.dtype)
            if ctx.needs_input_grad[1]:
                # Wgrad: (N, M)·(M, K); both operands tiled along the token dimension M.
                xf = x.reshape(-1, k).float()
                gq, gs = quantize_tiles(g.T, block)
                xq, xs = quantize_tiles(xf.T, block)
                grad_w = scaled_gemm_fp32_promoted(gq, gs, xq, xs, block).to(weight.dtype)
        return grad_x, grad_w, None


class Linear(nn.Module):
    """A bias-optional linear layer whose matmul goes through :func:`linear`.

    Weights are stored in the module's dtype (FP32 master weights when training); ``fp8=True``
    makes the matmul an FP8 block-scaled GEMM (:class:`Fp8Linear`).
    """

    fp8: bool = False

    def __init__(
        self, in_features: int, out_features: int, bias: bool = False, block_size: int = FP8_BLOCK
    ) -> None:
        super().__init__()
        self.in_features, self.out_features, self.block_size = in_features, out_features, block_size
        self.weight = nn.Parameter(torch.empty(out_features, in_features))
        self.bias = nn.Parameter(torch.zeros(out_features)) if bias else None
        nn.init.normal_(self.weight, std=in_features**-0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return linear(x, self.weight, self.bias, fp8=self.fp8, block_size=self.block_size)

    def extra_repr(self) -> str:
        return f"{self.in_features} → {self.out_features}, bias={self.bias is not None}, fp8={self.fp8}"


class Fp8Linear(Linear):
    """:class:`Linear` whose GEMM runs in FP8 E4M3 with 1×128 / 128×128 scaling and BF16 output."""

    fp8 = True


def linear(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    *,
    fp8: bool = False,
    block_size: int = FP8_BLOCK,
) -> torch.Tensor:
    """The one dispatch point for every projection: high-precision ``F.linear`` or the FP8 GEMM."""
    if not fp8:
        return F.linear(x, weight, bias)
    y = _Fp8LinearFunction.apply(x, weight, block_size)
    return y if bias is None else y + bias.to(y.dtype)
