"""Offline reinforcement learning for cooling: behaviour logs in, a policy out (IQL, in PyTorch).

Implicit Q-Learning (Kostrikov, Nair & Levine, ICLR 2022, arXiv 2110.06169) never queries the
critic on actions outside the data: the value ``V(s)`` is fitted by *expectile* regression
(τ > 0.5) to ``Q(s, a)`` over logged actions only (eq. 5), ``Q`` by TD toward ``r + γ V(s')``
(eq. 6), and the policy by advantage-weighted regression, ``exp(β · (Q − V))``-weighted log
likelihood of the logged actions (eq. 7). That is what makes it suited to learning from a site's
history: the policy stays near actions the plant has actually seen. Hyperparameters default to
the paper's locomotion settings (τ = 0.7, β = 3, γ = 0.99, two Q networks, target Polyak 0.005,
256×2 MLPs, Adam 3e-4) with the advantage weight clipped at 100.

A compact implementation of our own rather than d3rlpy: the algorithm is ~100 lines, and it keeps
the dependency set to the pinned torch.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from aidc.control.env import observation_vector
from aidc.control.shield import OVERRIDES
from aidc.control.spaces import ActionSpec, CoolingObservation, to_normalized, to_physical


@dataclass
class OfflineDataset:
    """Transitions as arrays: observations (N, d), actions in [−1, 1] (N, n), rewards, next observations,
    and terminal flags (1 where the episode ended by termination, not time)."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminals: np.ndarray

    def __len__(self) -> int:
        return len(self.rewards)

    @classmethod
    def concat(cls, parts: list[OfflineDataset]) -> OfflineDataset:
        return cls(
            *(
                np.concatenate([getattr(p, f) for p in parts])
                for f in ("obs", "actions", "rewards", "next_obs", "terminals")
            )
        )


@dataclass(frozen=True)
class IQLConfig:
    expectile: float = 0.7
    beta: float = 3.0
    discount: float = 0.99
    tau_target: float = 0.005
    hidden: int = 256
    lr: float = 3e-4
    batch_size: int = 256
    steps: int = 20_000
    max_weight: float = 100.0
    reward_scale: float = 1.0  # rewards are divided by it (keeps Q near unit scale)
    seed: int = 0
    # PyTorch's intra-op threads while training. Networks this small (256-wide MLPs, batches of 256)
    # gain nothing from more, and on a busy machine every extra thread waits for a core: measured
    # here, 1,000 steps took 185 s at PyTorch's default and 15 s with one thread (issue 12).
    threads: int = 1


def _mlp(inp: int, out: int, hidden: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Linear(inp, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out)
    )


class GaussianPolicy(nn.Module):
    """tanh-mean Gaussian with a state-independent log-std; acts with its mean."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: int) -> None:
        super().__init__()
        self.net = _mlp(obs_dim, act_dim, hidden)
        self.log_std = nn.Parameter(torch.zeros(act_dim))

    def log_prob(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        mean = torch.tanh(self.net(obs))
        std = self.log_std.clamp(-5.0, 2.0).exp()
        return torch.distributions.Normal(mean, std).log_prob(act).sum(-1)

    def act(self, obs: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.net(obs))


def expectile_loss(diff: torch.Tensor, expectile: float) -> torch.Tensor:
    """Asymmetric squared loss |τ − 1(u < 0)| · u² (IQL eq. 5), u = Q − V."""
    weight = torch.where(diff > 0, expectile, 1.0 - expectile)
    return (weight * diff.pow(2)).mean()


@dataclass
class Normalizer:
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Normalizer:
        return cls(x.mean(0), np.maximum(x.std(0), 1e-6))

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return (x - self.mean) / self.std


def train_iql(data: OfflineDataset, cfg: IQLConfig = IQLConfig(), log_every: int = 0) -> IQLPolicy:
    """Fit IQL on ``data`` with ``cfg.threads`` PyTorch threads; returns the policy (with its
    observation normalizer)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(cfg.threads)
    try:
        return _train_iql(data, cfg, log_every)
    finally:
        torch.set_num_threads(previous)


def _train_iql(data: OfflineDataset, cfg: IQLConfig, log_every: int) -> IQLPolicy:
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    norm = Normalizer.fit(data.obs)
    obs = torch.as_tensor(norm(data.obs), dtype=torch.float32)
    nxt = torch.as_tensor(norm(data.next_obs), dtype=torch.float32)
    act = torch.as_tensor(data.actions, dtype=torch.float32)
    rew = torch.as_tensor(data.rewards / cfg.reward_scale, dtype=torch.float32)
    done = torch.as_tensor(data.terminals, dtype=torch.float32)
    d, n = obs.shape[1], act.shape[1]
    q1, q2 = _mlp(d + n, 1, cfg.hidden), _mlp(d + n, 1, cfg.hidden)
    q1_t, q2_t = copy.deepcopy(q1), copy.deepcopy(q2)
    v = _mlp(d, 1, cfg.hidden)
    pi = GaussianPolicy(d, n, cfg.hidden)
    opt_q = torch.optim.Adam([*q1.parameters(), *q2.parameters()], lr=cfg.lr)
    opt_v = torch.optim.Adam(v.parameters(), lr=cfg.lr)
    opt_pi = torch.optim.Adam(pi.parameters(), lr=cfg.lr)
    sched_pi = torch.optim.lr_scheduler.CosineAnnealingLR(opt_pi, cfg.steps)
    for step in range(cfg.steps):
        idx = torch.as_tensor(rng.integers(0, len(data), cfg.batch_size))
        s, a, r, s2, dn = obs[idx], act[idx], rew[idx], nxt[idx], done[idx]
        sa = torch.cat((s, a), -1)
        with torch.no_grad():
            q_target = torch.minimum(q1_t(sa), q2_t(sa)).squeeze(-1)
        # V: expectile of the target Q over logged actions
        adv = q_target - v(s).squeeze(-1)
        loss_v = expectile_loss(adv, cfg.expectile)
        opt_v.zero_grad()
        loss_v.backward()
        opt_v.step()
        # Q: TD toward r + γ V(s')
        with torch.no_grad():
            target = r + cfg.discount * (1.0 - dn) * v(s2).squeeze(-1)
        loss_q = (q1(sa).squeeze(-1) - target).pow(2).mean() + (q2(sa).squeeze(-1) - target).pow(2).mean()
        opt_q.zero_grad()
        loss_q.backward()
        opt_q.step()
        with torch.no_grad():
            for net, tgt in ((q1, q1_t), (q2, q2_t)):
                for p, pt in zip(net.parameters(), tgt.parameters(), strict=True):
                    pt.lerp_(p, cfg.tau_target)
        # policy: advantage-weighted regression on logged actions
        weight = torch.exp(cfg.beta * adv.detach()).clamp(max=cfg.max_weight)
        loss_pi = -(weight * pi.log_prob(s, a)).mean()
        opt_pi.zero_grad()
        loss_pi.backward()
        opt_pi.step()
        sched_pi.step()
        if log_every and (step + 1) % log_every == 0:
            print(
                f"  IQL step {step + 1:>6}: V {loss_v.item():.4f}  Q {loss_q.item():.4f}  "
                f"π {loss_pi.item():.4f}",
                flush=True,
            )
    return IQLPolicy(pi.eval(), norm, cfg)


class IQLPolicy:
    """A trained IQL policy: observation vector → action in [−1, 1]; saved and loaded as one file."""

    def __init__(self, policy: GaussianPolicy, normalizer: Normalizer, cfg: IQLConfig) -> None:
        self.policy, self.normalizer, self.cfg = policy, normalizer, cfg

    @torch.no_grad()
    def __call__(self, obs_vector: np.ndarray) -> np.ndarray:
        x = torch.as_tensor(self.normalizer(np.asarray(obs_vector, dtype=np.float64)), dtype=torch.float32)
        return self.policy.act(x).numpy().astype(np.float64)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(
            {
                "format": "aidc-iql-1",
                "state_dict": self.policy.state_dict(),
                "obs_dim": self.normalizer.mean.shape[0],
                "act_dim": self.policy.log_std.shape[0],
                "mean": self.normalizer.mean.tolist(),
                "std": self.normalizer.std.tolist(),
                "config": asdict(self.cfg),
            },
            path,
        )
        return path

    @classmethod
    def load(cls, path: str | Path) -> IQLPolicy:
        """``ValueError`` naming the file for anything that is not a whole aidc IQL policy file."""
        try:  # a damaged file can fail in any of torch's or pickle's own ways
            blob = torch.load(Path(path), map_location="cpu", weights_only=True)
        except Exception as e:
            cause = f"{type(e).__name__}: {e}"
            raise ValueError(f"{path} is not a readable aidc IQL policy file ({cause})") from None
        fmt = blob.get("format") if isinstance(blob, dict) else None
        if fmt != "aidc-iql-1":
            raise ValueError(f"{path} is not an aidc IQL policy file (format {fmt!r})")
        try:
            cfg = IQLConfig(**blob["config"])
            pi = GaussianPolicy(blob["obs_dim"], blob["act_dim"], cfg.hidden)
            pi.load_state_dict(blob["state_dict"])
            norm = Normalizer(np.array(blob["mean"], dtype=float), np.array(blob["std"], dtype=float))
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise ValueError(f"{path}: a damaged aidc IQL policy file ({type(e).__name__}: {e})") from None
        return cls(pi.eval(), norm, cfg)

    @property
    def dims(self) -> tuple[int, int]:
        """(observation, action) sizes the policy was trained for."""
        return self.normalizer.mean.shape[0], self.policy.log_std.shape[0]


@dataclass
class PolicyController:
    """A learned policy as a :class:`Controller`: it needs the current setpoints for its observation."""

    specs: tuple[ActionSpec, ...]
    policy: IQLPolicy
    current: np.ndarray | None = None  # the plant's setpoints, set by the caller before act()

    def reset(self) -> None:
        self.current = None

    def act(self, obs: CoolingObservation) -> np.ndarray:
        current = self.current if self.current is not None else np.array([s.default for s in self.specs])
        return to_physical(self.policy(observation_vector(obs, current)), self.specs)


def controller_action(env, controller) -> np.ndarray:
    """The controller's action for the env's current state, normalized; a controller with a
    ``current`` attribute (a learned policy, an LLM controller) is told the plant's setpoints first
    (they are part of what it reads)."""
    if hasattr(controller, "current"):  # a learned policy or an LLM controller
        controller.current = env.twin.setpoints()
    return to_normalized(controller.act(env.cooling_observation), env.specs)


def collect(
    env, controller, *, episodes: list[dict], noise_std: float, seed: int
) -> tuple[OfflineDataset, np.ndarray]:
    """Run ``controller`` (physical setpoints) with Gaussian exploration noise of ``noise_std`` in the
    normalized action space through ``env`` (shielded, like a site's history) for each episode's
    reset options; the logged action is what the shield applied, normalized. Returns the
    transitions and the episode index (into ``episodes``) of each."""
    rng = np.random.default_rng(seed)
    parts, ids = [], []
    for k, options in enumerate(episodes):
        obs, _ = env.reset(seed=seed + k, options=options)
        controller.reset()
        rows: dict[str, list] = {"obs": [], "actions": [], "rewards": [], "next_obs": [], "terminals": []}
        done = False
        while not done:
            proposed = controller_action(env, controller)
            action = np.clip(proposed + rng.normal(0.0, noise_std, proposed.shape), -1.0, 1.0)
            nxt, reward, terminated, truncated, info = env.step(action.astype(np.float32))
            rows["obs"].append(obs)
            rows["actions"].append(to_normalized(info["setpoints"], env.specs))
            rows["rewards"].append(reward)
            rows["next_obs"].append(nxt)
            rows["terminals"].append(float(terminated))
            obs, done = nxt, terminated or truncated
        parts.append(OfflineDataset(*(np.asarray(rows[f], dtype=np.float64) for f in rows)))
        ids.append(np.full(len(rows["rewards"]), k))
    return OfflineDataset.concat(parts), np.concatenate(ids)


def evaluate(
    env, controller, *, episodes: list[dict], seed: int = 10_000, trace: list[dict] | None = None
) -> dict[str, float]:
    """Totals of running ``controller`` (no exploration noise) over ``episodes``; with ``trace``, one
    row per control step is appended to it (cooling power, hottest GPU and inlet, setpoints)."""
    totals = {
        "cooling_kwh": 0.0,
        "it_kwh": 0.0,
        "facility_kwh": 0.0,
        "gpu_violation_gpu_h": 0.0,
        "inlet_excess_k_h": 0.0,
        "throttled_gpu_h": 0.0,
        "steps": 0,
        "shield_interventions": 0,
    }
    for k, options in enumerate(episodes):
        env.reset(seed=seed + k, options=options)
        controller.reset()
        done = False
        while not done:
            action = controller_action(env, controller).astype(np.float32)
            _, _, terminated, truncated, info = env.step(action)
            if hasattr(controller, "outcome"):  # an LLM controller: the shield's verdict, the step's outcome
                controller.outcome(info, env.cooling_observation)
            for key in (
                "cooling_kwh",
                "it_kwh",
                "facility_kwh",
                "gpu_violation_gpu_h",
                "inlet_excess_k_h",
                "throttled_gpu_h",
            ):
                totals[key] += info[key]
            totals["steps"] += 1
            if trace is not None:
                o = env.cooling_observation
                trace.append(
                    {
                        "episode": k,
                        "step": totals["steps"],
                        "cooling_kw": info["cooling_kwh"] * 3600.0 / env.control_step_s,
                        "gpu_temp_max_c": o.gpu_temp_max_c,
                        "inlet_temp_max_c": o.inlet_temp_max_c,
                        **{s.name: float(v) for s, v in zip(env.specs, info["setpoints"], strict=True)},
                    }
                )
            totals["shield_interventions"] += int(any(i in OVERRIDES for i in info["shield"]))
            done = terminated or truncated
    totals["pue"] = totals["facility_kwh"] / totals["it_kwh"] if totals["it_kwh"] else math.nan
    return totals
