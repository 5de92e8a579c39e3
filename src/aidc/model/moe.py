"""DeepSeekMoE: shared experts always on, fine-grained routed experts chosen by a top-K gate.

Routing (DeepSeek-V3, arXiv 2412.19437, §2.1.2, eq. 12–16; DeepSeek-V2 §2.2.2 for groups):

1. affinities ``s = sigmoid(u·e)`` (V3) or ``softmax(u·e)`` (V2) over the routed experts, in FP32;
2. selection scores ``s + b``: the per-expert bias ``b`` steers *which* experts are picked and never
   enters the combine weights (auxiliary-loss-free balancing);
3. group-limited routing: experts are split into ``n_expert_groups`` groups (one per node in V3);
   a group scores the max (V2) or the sum of its top-2 (V3) selection scores; only the best
   ``n_limited_groups`` groups stay, the rest are masked with −inf before the top-K;
4. combine weights are the *original* affinities of the chosen experts, renormalised to sum to 1
   when ``norm_topk_prob`` (V3's sigmoid gate), times ``route_scale``.

Options beyond the reference model, each off by default: Gaussian router noise while training
(exploration; Shazeer et al. 2017, arXiv 1701.06538 §2.1); adaptive K by top-p (Huang et al. 2024,
arXiv 2403.07652: add experts by decreasing probability until their sum reaches p); a capacity
factor with token dropping, lowest affinity first (DeepSeek-V2 §3.2.3) — a dropped token still
passes through the shared experts, its backup path.

Balancing: the auxiliary-loss-free bias update ``b_i += u·sign(mean_load − load_i)`` after each
step (V3 §2.1.2) and the sequence-wise auxiliary loss ``α Σ_i f_i P_i`` (V3 eq. 17–20).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from aidc.model.config import ModelConfig
from aidc.model.layers import MLP


@dataclass
class Routing:
    """Routing of N tokens to K experts each."""

    indices: torch.Tensor  # (N, K) expert ids, in decreasing selection score
    weights: torch.Tensor  # (N, K) combine weights; 0 where inactive
    active: torch.Tensor  # (N, K) bool: computed (False: cut by adaptive K or dropped by capacity)
    scores: torch.Tensor  # (N, E) affinities before the bias, FP32


def max_violation(tokens_per_expert: torch.Tensor) -> float:
    """MaxVio = (max load − mean load) / mean load (Wang et al. 2024, arXiv 2408.15664, eq. 5)."""
    load = tokens_per_expert.double()
    mean = load.mean()
    return float((load.max() - mean) / mean) if mean > 0 else 0.0


class Gate(nn.Module):
    """The router: affinities, bias-steered group-limited top-K, combine weights."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.weight = nn.Parameter(torch.empty(cfg.n_routed_experts, cfg.hidden_size))
        nn.init.normal_(self.weight, std=cfg.hidden_size**-0.5)
        # e_score_correction_bias in the released checkpoints; FP32, updated outside autograd
        self.register_buffer("bias", torch.zeros(cfg.n_routed_experts, dtype=torch.float32))
        self.generator: torch.Generator | None = None  # router noise source; None → torch's default

    def forward(self, x: torch.Tensor) -> Routing:
        cfg = self.cfg
        n, e, k = x.shape[0], cfg.n_routed_experts, cfg.n_activated_experts
        dtype = torch.promote_types(x.dtype, torch.float32)
        logits = F.linear(x.to(dtype), self.weight.to(dtype))  # (N, E)
        if self.training and cfg.router_noise_std > 0:
            noise = torch.randn(logits.shape, generator=self.generator, dtype=dtype, device=logits.device)
            logits = logits + cfg.router_noise_std * noise
        scores = logits.softmax(dim=-1) if cfg.score_func == "softmax" else logits.sigmoid()
        choice = scores + self.bias.to(dtype)
        if cfg.n_expert_groups > 1:
            grouped = choice.view(n, cfg.n_expert_groups, -1)
            if cfg.group_score == "max":
                group_scores = grouped.amax(dim=-1)
            else:
                group_scores = grouped.topk(2, dim=-1).values.sum(dim=-1)
            kept = group_scores.topk(cfg.n_limited_groups, dim=-1).indices  # (N, groups kept)
            keep = torch.zeros_like(group_scores, dtype=torch.bool).scatter_(1, kept, True)
            choice = choice.masked_fill(~keep.repeat_interleave(e // cfg.n_expert_groups, dim=1), -math.inf)
        indices = choice.topk(k, dim=-1).indices  # (N, K), sorted by selection score
        weights = scores.gather(1, indices)
        active = torch.ones_like(indices, dtype=torch.bool)
        if cfg.adaptive_top_p is not None:
            active = self._top_p(scores, indices)
        weights = weights * active
        if cfg.norm_topk_prob:
            weights = weights / (weights.sum(dim=-1, keepdim=True) + 1e-20)
        return Routing(indices, weights * cfg.route_scale, active, scores)

    def _top_p(self, scores: torch.Tensor, indices: torch.Tensor) -> torch.Tensor:
        """Keep chosen experts by decreasing probability until their cumulative sum reaches p."""
        probs = scores / scores.sum(dim=-1, keepdim=True)
        p_sel = probs.gather(1, indices)
        order = p_sel.argsort(dim=-1, descending=True)
        cum_before = p_sel.gather(1, order).cumsum(dim=-1) - p_sel.gather(1, order)
        keep_sorted = cum_before < self.cfg.adaptive_top_p  # the first expert is always kept
        return torch.zeros_like(keep_sorted).scatter_(1, order, keep_sorted)


def capacity_mask(routing: Routing, n_experts: int, capacity: int) -> torch.Tensor:
    """Active assignments that fit: each expert keeps its ``capacity`` highest-affinity tokens."""
    n, k = routing.indices.shape
    flat_expert = routing.indices.flatten()
    flat_active = routing.active.flatten()
    affinity = routing.scores.gather(1, routing.indices).flatten().masked_fill(~flat_active, -math.inf)
    by_affinity = affinity.argsort(descending=True, stable=True)
    order = by_affinity[flat_expert[by_affinity].argsort(stable=True)]  # grouped by expert, best first
    counts = torch.bincount(flat_expert, minlength=n_experts)
    starts = torch.cumsum(counts, 0) - counts
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=order.device) - starts[flat_expert[order]]
    return (flat_active & (rank < capacity)).view(n, k)


class MoE(nn.Module):
    """Shared experts plus routed experts; records the load of the last batch for balancing."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.gate = Gate(cfg)
        self.experts = nn.ModuleList(
            MLP(cfg, cfg.hidden_size, cfg.moe_intermediate_size) for _ in range(cfg.n_routed_experts)
        )
        self.shared_experts = (
            MLP(cfg, cfg.hidden_size, cfg.n_shared_experts * cfg.moe_intermediate_size)
            if cfg.n_shared_experts
            else None
        )
        self.register_buffer("last_load", torch.zeros(cfg.n_routed_experts), persistent=False)
        self.dropped_assignments = 0
        self.aux_loss: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cfg = self.cfg
        shape = x.shape
        flat = x.reshape(-1, shape[-1])  # (N, D)
        routing = self.gate(flat)
        if cfg.capacity_factor is not None:
            n, k = routing.indices.shape
            capacity = math.ceil(cfg.capacity_factor * n * k / cfg.n_routed_experts)
            kept = capacity_mask(routing, cfg.n_routed_experts, capacity)
            self.dropped_assignments = int((routing.active & ~kept).sum())
            routing.active = kept
            routing.weights = routing.weights * kept
        out = self._routed(flat, routing)
        if self.shared_experts is not None:
            out = out + self.shared_experts(flat).to(out.dtype)
        with torch.no_grad():
            self.last_load = torch.bincount(
                routing.indices[routing.active], minlength=cfg.n_routed_experts
            ).float()
        self.aux_loss = (
            self.sequence_balance_loss(routing, shape[0])
            if self.training and cfg.aux_loss_alpha > 0
            else None
        )
        return out.view(shape)

    def _routed(self, flat: torch.Tensor, routing: Routing) -> torch.Tensor:
        """Run each expert once on the tokens routed to it and scatter-add the weighted outputs."""
        k = routing.indices.shape[1]
        token = torch.arange(flat.shape[0], device=flat.device).repeat_interleave(k)
        expert = routing.indices.flatten()
        weight = routing.weights.flatten()
        live = routing.active.flatten()
        token, expert, weight = token[live], expert[live], weight[live]
        order = expert.argsort(stable=True)
        token, expert, weight = token[order], expert[order], weight[order]
        counts = torch.bincount(expert, minlength=self.cfg.n_routed_experts).tolist()
        out = torch.zeros_like(flat)
        start = 0
        for e, count in enumerate(counts):
            if count == 0:
                continue
            idx = token[start : start + count]
            y = self.experts[e](flat[idx]) * weight[start : start + count, None].to(flat.dtype)
            out.index_add_(0, idx, y.to(out.dtype))
            start += count
        return out

    def sequence_balance_loss(self, routing: Routing, batch: int) -> torch.Tensor:
        """α Σ_i f_i P_i averaged over sequences (DeepSeek-V3 eq. 17–20)."""
        cfg = self.cfg
        e, k = cfg.n_routed_experts, cfg.n_activated_experts
        scores = routing.scores.view(batch, -1, e)  # (B, T, E)
        t = scores.shape[1]
        p = (scores / scores.sum(dim=-1, keepdim=True)).mean(dim=1)  # (B, E): P_i
        chosen = F.one_hot(routing.indices, e).sum(dim=1).view(batch, t, e).float()
        f = chosen.sum(dim=1) * e / (k * t)  # (B, E): f_i, no gradient
        return cfg.aux_loss_alpha * (f * p).sum(dim=-1).mean()

    @torch.no_grad()
    def update_bias(self, speed: float | None = None) -> None:
        """Auxiliary-loss-free step on the last batch's load: ``b_i += u·sign(mean − load_i)``."""
        u = self.cfg.bias_update_speed if speed is None else speed
        load = self.last_load
        self.gate.bias += u * torch.sign(load.mean() - load)
