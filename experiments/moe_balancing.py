"""Experiment 3: MoE load balancing — auxiliary-loss-free bias vs auxiliary loss vs none.

DeepSeek-V3 §2.1.2 balances experts with a per-expert bias on the selection scores, nudged by
``u·sign(mean load − load)`` after every step, instead of an auxiliary loss whose gradient competes
with the language-modelling loss (Wang et al. 2024, arXiv 2408.15664, report lower MaxVio *and*
lower perplexity). Three byte-level DeepSeek-V3-shaped models (MLA, 1 dense + 3 MoE layers, 16
routed experts in 4 groups with 2 kept, top-2, 1 shared expert, sigmoid gate, one MTP module) are
trained from the same seed and data order with: no balancing; the sequence-wise auxiliary loss
(α = 0.01, the order of Switch/GShard's usual weight — V3 itself keeps a tiny α = 1e-4 on top of
the bias); the bias update at u = 0.001 (V3's value for most of training); and at u = 0.01,
because 500 steps of 0.001 move a bias by at most 0.5 and a tiny run is short.

Reported: MaxVio per training batch (mean over MoE layers, averaged over the last 100 steps), the
same on the fixed validation batches, validation loss, and — as the models carry an MTP module —
the acceptance rate of MTP speculative decoding on validation prompts.

Writes ``experiments/results/moe_balancing.json`` and ``.png``. About 11 minutes on 2 cores.
"""

from __future__ import annotations

import argparse

import torch
from common import (
    TrainSettings,
    environment,
    save,
    smooth,
    stdlib_corpus,
    train,
    two_panels,
    val_batches,
    write_json,
)

from aidc.model.config import ModelConfig
from aidc.model.moe import MoE, max_violation

BASE = ModelConfig(
    name="moe experiment",
    vocab_size=256,
    hidden_size=128,
    num_layers=4,
    num_heads=4,
    intermediate_size=384,
    kv_lora_rank=64,
    qk_nope_head_dim=32,
    qk_rope_head_dim=16,
    v_head_dim=32,
    n_routed_experts=16,
    n_shared_experts=1,
    n_activated_experts=2,
    moe_intermediate_size=96,
    n_expert_groups=4,
    n_limited_groups=2,
    score_func="sigmoid",
    group_score="top2_sum",
    route_scale=1.0,
    norm_topk_prob=True,
    n_dense_layers=1,
    mtp_depth=1,
    max_seq_len=512,
    source="experiment 3",
)
VARIANTS = {
    "none": BASE,
    "aux loss": BASE.replace(aux_loss_alpha=0.01),
    "aux-free bias": BASE.replace(bias_update_speed=0.001),
    "aux-free u=0.01": BASE.replace(bias_update_speed=0.01),
}


@torch.no_grad()
def validation_max_vio(model, batches) -> float:
    model.eval()
    moes = [layer.ffn for layer in model.layers if isinstance(layer.ffn, MoE)]
    vios = []
    for b in batches:
        model.hidden(b[:, :-1])
        vios.append(sum(max_violation(m.last_load) for m in moes) / len(moes))
    model.train()
    return sum(vios) / len(vios)


@torch.no_grad()
def acceptance(model, data: torch.Tensor, prompts: int = 8, prompt_len: int = 64, new: int = 48) -> float:
    model.eval()
    gen = torch.Generator().manual_seed(99)
    drafted = accepted = 0
    for s in torch.randint(0, data.numel() - prompt_len, (prompts,), generator=gen).tolist():
        _, stats = model.speculative_generate(data[s : s + prompt_len][None], new)
        drafted += stats.drafted
        accepted += stats.accepted
    return accepted / drafted


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=500)
    args = ap.parse_args()
    corpus = stdlib_corpus()
    settings = TrainSettings(steps=args.steps, eval_every=100)
    vals = val_batches(corpus.val, 8, settings.batch_size, settings.seq_len)
    runs = {}
    for name, cfg in VARIANTS.items():
        r = train(name, cfg, corpus, settings)
        model = r.model
        runs[name] = {
            "val_loss": r.final_val,
            "val_curve": r.val_loss,
            "train_loss": r.train_loss,
            "max_vio_train": r.max_vio,
            "max_vio_train_last100": sum(r.max_vio[-100:]) / len(r.max_vio[-100:]),
            "max_vio_val": validation_max_vio(model, vals),
            "final_bias_abs_mean": float(
                sum(m.gate.bias.abs().mean() for m in model.moe_layers()) / len(model.moe_layers())
            ),
            "mtp_acceptance_rate": acceptance(model, corpus.val),
            "wall_s": r.wall_s,
            "params": r.params,
        }
        print(
            f"  {name}: MaxVio(val) {runs[name]['max_vio_val']:.3f}, "
            f"MTP acceptance {runs[name]['mtp_acceptance_rate']:.1%}"
        )
    payload = {
        "experiment": "MoE balancing: none vs auxiliary loss vs auxiliary-loss-free bias",
        "settings": vars(settings),
        "config": {
            k: getattr(BASE, k)
            for k in (
                "n_routed_experts",
                "n_activated_experts",
                "n_expert_groups",
                "n_limited_groups",
                "n_shared_experts",
                "score_func",
            )
        },
        "environment": environment(),
        "runs": runs,
    }
    path = write_json("moe_balancing", payload)
    print(f"\n{'variant':>14} {'MaxVio train':>13} {'MaxVio val':>11} {'val loss':>9} {'MTP accept':>11}")
    for name, r in runs.items():
        print(
            f"{name:>14} {r['max_vio_train_last100']:>13.3f} {r['max_vio_val']:>11.3f} {r['val_loss']:>9.4f} "
            f"{r['mtp_acceptance_rate']:>11.1%}"
        )
    plot(runs, path.with_suffix(".png"))
    print(f"results: {path}")


def plot(runs: dict, out) -> None:
    fig, (a, b) = two_panels("MoE balancing on a tiny DeepSeek-V3-shaped model (16 experts, top-2), CPU")
    for name, r in runs.items():
        a.plot(smooth(r["max_vio_train"], 20), label=name)
        b.plot(smooth(r["train_loss"], 50), label=name)
    a.set_xlabel("step")
    a.set_ylabel("MaxVio (batch), 20-step mean")
    a.set_yscale("log")
    a.legend()
    b.set_xlabel("step")
    b.set_ylabel("train loss [nats/byte], 50-step mean")
    b.set_ylim(top=2.5)
    b.legend()
    save(fig, out)


if __name__ == "__main__":
    main()
