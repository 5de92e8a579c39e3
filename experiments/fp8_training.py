"""Experiment 2: FP8 (block-scaled E4M3) vs BF16 vs FP32 training — relative loss gap.

DeepSeek-V3 §3.3 / appendix B.1 reports FP8 training within 0.25 % relative loss of BF16 at 16B
and 230B parameters over about 1T tokens. Here one byte-level MLA model (4 layers, hidden 128,
MLA with query compression off, dense SwiGLU FFN) is trained three times from the same seed and
data order: FP32 throughout; BF16 autocast (FP32 master weights); and the FP8 recipe —
:class:`aidc.model.fp8.Fp8Linear` for every projection (Fprop, Dgrad and Wgrad as E4M3 GEMMs with
1×128 / 128×128 scaling and FP32 promotion), BF16 autocast around it, embedding, head, norms and
attention core kept in high precision. The FP8 GEMMs are emulated on the CPU (see aidc.model.fp8).

Writes ``experiments/results/fp8_training.json`` and ``.png``. About 12 minutes on 2 cores.
"""

from __future__ import annotations

import argparse

from common import TrainSettings, environment, save, smooth, stdlib_corpus, train, two_panels, write_json

from aidc.model.config import ModelConfig

CFG = ModelConfig(
    name="fp8 experiment",
    vocab_size=256,
    hidden_size=128,
    num_layers=4,
    num_heads=4,
    intermediate_size=512,
    kv_lora_rank=64,
    qk_nope_head_dim=32,
    qk_rope_head_dim=16,
    v_head_dim=32,
    max_seq_len=256,
    source="experiment 2",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=800)
    args = ap.parse_args()
    corpus = stdlib_corpus()
    runs = {}
    for name, cfg, bf16 in (("FP32", CFG, False), ("BF16", CFG, True), ("FP8", CFG.replace(fp8=True), True)):
        settings = TrainSettings(steps=args.steps, eval_every=100, autocast_bf16=bf16)
        r = train(name, cfg, corpus, settings)
        runs[name] = {
            "val_loss": r.final_val,
            "val_curve": r.val_loss,
            "train_loss": r.train_loss,
            "wall_s": r.wall_s,
            "params": r.params,
        }
    ref = runs["FP32"]
    for r in runs.values():
        r["rel_gap_vs_fp32"] = (r["val_loss"] - ref["val_loss"]) / ref["val_loss"]
        r["rel_gap_vs_bf16"] = (r["val_loss"] - runs["BF16"]["val_loss"]) / runs["BF16"]["val_loss"]
        tail = r["train_loss"][-100:]
        ref_tail = ref["train_loss"][-100:]
        r["rel_gap_train_last100_vs_fp32"] = (sum(tail) - sum(ref_tail)) / sum(ref_tail)
    payload = {
        "experiment": "FP8 vs BF16 vs FP32 training",
        "settings": vars(TrainSettings(steps=args.steps, eval_every=100)),
        "corpus": {"train_bytes": corpus.train.numel(), "val_bytes": corpus.val.numel()},
        "environment": environment(),
        "published": "DeepSeek-V3 appendix B.1: relative loss error of FP8 vs BF16 < 0.25 %",
        "runs": runs,
    }
    path = write_json("fp8_training", payload)
    print(f"\n{'run':>5} {'val loss':>9} {'vs FP32':>8} {'vs BF16':>8} {'wall [s]':>9}")
    for name, r in runs.items():
        print(
            f"{name:>5} {r['val_loss']:>9.4f} {r['rel_gap_vs_fp32']:>+8.2%} {r['rel_gap_vs_bf16']:>+8.2%} "
            f"{r['wall_s']:>9.0f}"
        )
    plot(runs, path.with_suffix(".png"))
    print(f"results: {path}")


def plot(runs: dict, out) -> None:
    fig, (a, b) = two_panels(
        "FP8 (E4M3, 1×128 / 128×128 block scaling) vs BF16 vs FP32 training, CPU emulation"
    )
    for name, r in runs.items():
        a.plot(smooth(r["train_loss"], 50), label=name)
    a.set_xlabel("step")
    a.set_ylabel("train loss [nats/byte], 50-step mean")
    a.set_ylim(top=2.5)
    a.legend()
    ref = runs["FP32"]["train_loss"]
    for name in ("BF16", "FP8"):
        r = smooth(runs[name]["train_loss"], 50)
        f = smooth(ref, 50)
        b.plot([100 * (x - y) / y for x, y in zip(r, f, strict=True)], label=f"{name} vs FP32")
    b.axhline(0.25, ls="--", c="grey", lw=0.8)
    b.axhline(-0.25, ls="--", c="grey", lw=0.8, label="±0.25 % (DeepSeek-V3 at scale)")
    b.set_xlabel("step")
    b.set_ylabel("relative train-loss gap [%]")
    b.legend(fontsize=8)
    save(fig, out)


if __name__ == "__main__":
    main()
