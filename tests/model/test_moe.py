"""DeepSeekMoE routing options and balancing, on hand-made gates."""

import math

import pytest
import torch

from aidc.model import get_preset
from aidc.model.moe import MoE, Routing, capacity_mask, max_violation


def _moe(**changes) -> MoE:
    torch.manual_seed(0)
    return MoE(get_preset("tiny-mla-moe").replace(**changes)).eval()


def test_group_limited_routing_only_uses_kept_groups():
    moe = _moe()
    x = torch.randn(200, 64)
    r = moe.gate(x)
    groups = r.indices // (8 // 4)
    assert (torch.tensor([len(set(g.tolist())) for g in groups]) <= 2).all()  # n_limited_groups = 2


def test_bias_selects_but_does_not_weight():
    moe = _moe()
    x = torch.randn(100, 64)
    moe.gate.bias.fill_(0.0)
    moe.gate.bias[3] = 10.0  # expert 3 always chosen
    r = moe.gate(x)
    assert (r.indices == 3).any(dim=1).all()
    # weights are the original affinities renormalised, times route_scale: the bias is not in them
    w = r.scores.gather(1, r.indices)
    torch.testing.assert_close(r.weights, w / w.sum(-1, keepdim=True) * 2.5)


def test_aux_loss_free_update_moves_bias_against_load():
    moe = _moe()
    moe.last_load = torch.tensor([10.0, 0, 0, 0, 0, 0, 0, 6])  # mean 2
    moe.update_bias(0.001)
    assert moe.gate.bias[0] == pytest.approx(-0.001) and moe.gate.bias[7] == pytest.approx(-0.001)
    assert moe.gate.bias[1] == pytest.approx(0.001)


def test_bias_updates_reduce_max_violation():
    moe = _moe(bias_update_speed=0.01)
    moe.gate.weight.data[0] += 0.5  # a router that prefers expert 0
    x = torch.randn(512, 64)
    with torch.no_grad():
        moe(x)
        before = max_violation(moe.last_load)
        for _ in range(200):
            moe(x)
            moe.update_bias()
        after = max_violation(moe.last_load)
    assert after < 0.5 * before


def test_max_violation_hand_value():
    assert max_violation(torch.tensor([4.0, 2, 2, 0])) == pytest.approx(1.0)  # (4 − 2) / 2


def test_capacity_drops_lowest_affinity_and_keeps_shared_path():
    scores = torch.tensor([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3]])
    r = Routing(
        indices=torch.tensor([[0], [0], [0]]),
        weights=torch.ones(3, 1),
        active=torch.ones(3, 1, dtype=torch.bool),
        scores=scores,
    )
    kept = capacity_mask(r, 2, capacity=2)
    assert kept.flatten().tolist() == [True, True, False]  # 0.7 is the lowest affinity for expert 0
    moe = _moe(capacity_factor=0.25)  # capacity = ceil(0.25 · N · 2 / 8)
    x = torch.randn(64, 64)
    with torch.no_grad():
        y = moe(x)
        shared = moe.shared_experts(x)
    assert moe.dropped_assignments > 0
    assert moe.last_load.max() <= math.ceil(0.25 * 64 * 2 / 8)
    # a token that lost every routed expert still gets the shared experts' output
    assert torch.isfinite(y).all() and y.shape == shared.shape


def test_adaptive_top_p_uses_fewer_experts_for_confident_tokens():
    moe = _moe(adaptive_top_p=0.3, n_activated_experts=4, n_limited_groups=4)
    x = torch.randn(300, 64) * 5
    r = moe.gate(x)
    used = r.active.sum(-1)
    assert used.min() >= 1 and used.max() <= 4 and used.float().mean() < 4
    assert (r.weights[~r.active] == 0).all()


def test_sequence_wise_aux_loss_is_minimal_when_balanced():
    moe = _moe(aux_loss_alpha=1.0)
    b, t, e, k = 1, 8, 8, 2
    uniform = Routing(
        indices=torch.arange(t * k).remainder(e).view(t, k),
        weights=torch.ones(t, k),
        active=torch.ones(t, k, dtype=torch.bool),
        scores=torch.full((t, e), 0.5),
    )
    # balanced: f_i = 1 and P_i = 1/E, so α Σ f_i P_i = α
    assert float(moe.sequence_balance_loss(uniform, b)) == pytest.approx(1.0)
    skewed = Routing(
        indices=torch.tensor([[0, 1]] * t),
        weights=torch.ones(t, k),
        active=torch.ones(t, k, dtype=torch.bool),
        scores=torch.tensor([[0.9, 0.9] + [0.1] * 6] * t),
    )
    assert float(moe.sequence_balance_loss(skewed, b)) > 2.0


def test_router_noise_only_in_training_and_seeded():
    moe = _moe(router_noise_std=1.0)
    x = torch.randn(50, 64)
    assert torch.equal(moe.gate(x).indices, moe.gate(x).indices)  # eval: deterministic
    moe.train()
    moe.gate.generator = torch.Generator().manual_seed(7)
    a = moe.gate(x).indices
    moe.gate.generator = torch.Generator().manual_seed(7)
    assert torch.equal(a, moe.gate(x).indices)
    moe.gate.generator = torch.Generator().manual_seed(8)
    assert not torch.equal(a, moe.gate(x).indices)
