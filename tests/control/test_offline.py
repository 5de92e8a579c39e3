import numpy as np
import pytest
import torch

from aidc.control.offline import IQLConfig, IQLPolicy, OfflineDataset, expectile_loss, train_iql


def test_expectile_loss_weights_positive_errors_by_tau():
    u = torch.tensor([1.0, -1.0])
    assert float(expectile_loss(u[:1], 0.7)) == pytest.approx(0.7)
    assert float(expectile_loss(u[1:], 0.7)) == pytest.approx(0.3)


def _bandit(n=4000, seed=0) -> OfflineDataset:
    """One-step problem: reward −(a − 0.5·s)², logged actions uniform in [−1, 1]."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(-1, 1, (n, 1))
    a = rng.uniform(-1, 1, (n, 1))
    r = -((a - 0.5 * s) ** 2).sum(-1)
    return OfflineDataset(s, a, r, s, np.ones(n))


def test_iql_recovers_the_best_logged_action():
    policy = train_iql(_bandit(), IQLConfig(steps=1500, hidden=64, batch_size=256, beta=10.0))
    for s in (-0.8, 0.0, 0.8):
        assert policy(np.array([s]))[0] == pytest.approx(0.5 * s, abs=0.15)


def test_policy_file_round_trips(tmp_path):
    policy = train_iql(_bandit(500), IQLConfig(steps=50, hidden=16))
    path = policy.save(tmp_path / "p.pt")
    again = IQLPolicy.load(path)
    x = np.array([0.3])
    np.testing.assert_allclose(again(x), policy(x))
    bad = tmp_path / "bad.pt"
    torch.save({"format": "other"}, bad)
    with pytest.raises(ValueError, match="not an aidc IQL policy"):
        IQLPolicy.load(bad)
