"""Experiment 1: MHA vs GQA vs MLA at matched parameter count — validation loss and KV bytes per token.

The claim under test (DeepSeek-V2 §2.1, Table 1 and appendix D.2): MLA keeps the quality of MHA
with a KV cache several times smaller than GQA's. Three byte-level models on the standard library
corpus share everything but attention: 4 layers, hidden 128, 8 heads, dense SwiGLU FFN; the FFN
width of GQA and MLA is raised until their parameter count matches MHA's within 1 %
(:func:`aidc.model.accounting.parameter_counts`). MLA uses no query compression (like V2-Lite),
``kv_lora_rank`` 32 = 2·d_head and a 8-wide RoPE key (= d_head/2), DeepSeek's proportions.

Each variant is trained with two seeds (initialisation and data order); the table gives the mean
and the spread. Writes ``experiments/results/attention_variants.json`` and ``.png``. About 12
minutes on 2 cores.
"""

from __future__ import annotations

import argparse

from common import TrainSettings, environment, save, smooth, stdlib_corpus, train, two_panels, write_json

from aidc.model.accounting import kv_bytes_per_token, parameter_counts
from aidc.model.config import ModelConfig

BASE = dict(
    vocab_size=256, hidden_size=128, num_layers=4, num_heads=8, max_seq_len=256, source="experiment 1"
)


def matched(cfg: ModelConfig, target: int) -> ModelConfig:
    """Widen the FFN (multiples of 8) until the parameter count is closest to ``target``."""
    best = min(
        range(64, 2049, 8),
        key=lambda i: abs(parameter_counts(cfg.replace(intermediate_size=i)).total - target),
    )
    return cfg.replace(intermediate_size=best)


def variants() -> dict[str, ModelConfig]:
    mha = ModelConfig(name="MHA", intermediate_size=384, num_kv_heads=8, **BASE)
    target = parameter_counts(mha).total
    gqa = matched(ModelConfig(name="GQA-2", intermediate_size=384, num_kv_heads=2, **BASE), target)
    mla = matched(
        ModelConfig(
            name="MLA",
            intermediate_size=384,
            kv_lora_rank=32,
            qk_nope_head_dim=16,
            qk_rope_head_dim=8,
            v_head_dim=16,
            **BASE,
        ),
        target,
    )
    return {"MHA": mha, "GQA-2": gqa, "MLA": mla}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=700)
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1])
    args = ap.parse_args()
    corpus = stdlib_corpus()
    runs = {}
    for name, cfg in variants().items():
        per_seed = []
        for seed in args.seeds:
            settings = TrainSettings(steps=args.steps, eval_every=100, seed=seed)
            per_seed.append(train(f"{name} s{seed}", cfg, corpus, settings))
        finals = [r.final_val for r in per_seed]
        runs[name] = {
            "params": per_seed[0].params,
            "intermediate_size": cfg.intermediate_size,
            "kv_values_per_token": cfg.num_layers * cfg.kv_cache_width,
            "kv_bytes_per_token_bf16": kv_bytes_per_token(cfg, 16),
            "val_loss_per_seed": finals,
            "val_loss": sum(finals) / len(finals),
            "val_loss_spread": max(finals) - min(finals),
            "val_curve": per_seed[0].val_loss,
            "train_loss": per_seed[0].train_loss,
            "wall_s": sum(r.wall_s for r in per_seed),
        }
    mha = runs["MHA"]
    for r in runs.values():
        r["kv_vs_mha"] = r["kv_bytes_per_token_bf16"] / mha["kv_bytes_per_token_bf16"]
        r["val_loss_gap_vs_mha"] = (r["val_loss"] - mha["val_loss"]) / mha["val_loss"]
    payload = {
        "experiment": "attention variants at matched parameters",
        "settings": {**vars(TrainSettings(steps=args.steps, eval_every=100)), "seeds": args.seeds},
        "corpus": {
            "train_bytes": corpus.train.numel(),
            "val_bytes": corpus.val.numel(),
            "train_files": corpus.files_train,
            "val_files": corpus.files_val,
        },
        "environment": environment(),
        "runs": runs,
    }
    path = write_json("attention_variants", payload)
    print(
        f"\n{'variant':>7} {'params':>9} {'KV B/token':>11} {'KV vs MHA':>10} {'val loss (mean)':>16} "
        f"{'seed spread':>12} {'gap':>7}"
    )
    for name, r in runs.items():
        print(
            f"{name:>7} {r['params']:>9,} {r['kv_bytes_per_token_bf16']:>11,.0f} {r['kv_vs_mha']:>10.3f} "
            f"{r['val_loss']:>16.4f} {r['val_loss_spread']:>12.4f} {r['val_loss_gap_vs_mha']:>+7.2%}"
        )
    plot(runs, path.with_suffix(".png"))
    print(f"results: {path}")


def plot(runs: dict, out) -> None:
    fig, (a, b) = two_panels("MHA vs GQA vs MLA at matched parameters (stdlib bytes, CPU)")
    for i, (name, r) in enumerate(runs.items()):
        a.plot(smooth(r["train_loss"]), color=f"C{i}", label=f"{name} train (seed 0)", alpha=0.5)
        steps, vals = zip(*r["val_curve"], strict=True)
        a.plot(steps, vals, "o-", color=f"C{i}", label=f"{name} val (seed 0)")
    a.set_xlabel("step")
    a.set_ylabel("loss [nats/byte]")
    a.set_ylim(top=3.0)
    a.legend(fontsize=8)
    names = list(runs)
    b.bar(names, [runs[n]["kv_bytes_per_token_bf16"] for n in names], color=["C0", "C1", "C2"])
    for i, n in enumerate(names):
        label = f"val {runs[n]['val_loss']:.3f} ± {runs[n]['val_loss_spread'] / 2:.3f}"
        b.text(i, runs[n]["kv_bytes_per_token_bf16"], label, ha="center", va="bottom")
    b.set_ylabel("KV cache [bytes/token, BF16]")
    save(fig, out)


if __name__ == "__main__":
    main()
