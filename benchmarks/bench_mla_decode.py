"""One decode step at 1k, 4k and 16k tokens of context: aidc's absorbed MLA vs transformers' DeepseekV3.

Run with ``make bench-model`` (or ``python benchmarks/bench_mla_decode.py``). Both models get the same
config and the same weights (through :mod:`aidc.model.hf`) and the same cached latents: the cache is
filled with random ``[c_KV ; k_R]`` entries instead of a real prefill, because the step's cost does
not depend on their values and an eager 16k-token prefill would need a 16 GB score matrix. Each
step's logits are compared between the two before timing, so the figures are for equal work.

The config has DeepSeek-V2-Lite's attention geometry (16 heads, ``kv_lora_rank`` 512, rope 64,
nope 128, v 128, hidden 2048, no query compression) with 2 layers and a small MoE: the attention,
which is what differs, dominates the step; the FFN is identical in both and kept small.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from functools import partial

import torch
from transformers import DeepseekV3ForCausalLM
from transformers.cache_utils import DynamicCache

from aidc.model.config import ModelConfig
from aidc.model.hf import aidc_to_hf_state_dict, to_hf_config
from aidc.model.rope import deinterleave
from aidc.model.transformer import Transformer

CONTEXTS = (1024, 4096, 16384)


def bench_config(max_seq_len: int) -> ModelConfig:
    return ModelConfig(
        name="V2-Lite attention, 2 layers (benchmark)",
        vocab_size=4096,
        hidden_size=2048,
        num_layers=2,
        num_heads=16,
        intermediate_size=2048,
        q_lora_rank=None,
        kv_lora_rank=512,
        qk_nope_head_dim=128,
        qk_rope_head_dim=64,
        v_head_dim=128,
        n_routed_experts=8,
        n_shared_experts=1,
        n_activated_experts=2,
        moe_intermediate_size=512,
        score_func="sigmoid",
        group_score="top2_sum",
        norm_topk_prob=True,
        n_dense_layers=1,
        max_seq_len=max_seq_len,
        source="aidc benchmark",
    )


def _time(fn, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


@torch.no_grad()
def step_ours(model: Transformer, mode: str, token: torch.Tensor, ctx: int, cache) -> None:
    model.set_mla_mode(mode)
    model(token, start_pos=ctx, cache=cache)
    cache.truncate(0, ctx)  # drop the new token: every timed step sees the same context


@torch.no_grad()
def step_hf(model, token: torch.Tensor, cache: DynamicCache) -> None:
    model(token, past_key_values=cache, use_cache=True)
    cache.crop(-1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--contexts", type=int, nargs="*", default=list(CONTEXTS))
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    torch.manual_seed(0)
    cfg = bench_config(max(args.contexts) + 8)
    ours = Transformer(cfg, mla_mode="absorbed").eval()
    hf = DeepseekV3ForCausalLM._from_config(
        to_hf_config(cfg), attn_implementation="eager", experts_implementation="eager", dtype=torch.float32
    ).eval()
    hf.load_state_dict(aidc_to_hf_state_dict(ours.state_dict(), cfg), strict=True)
    c = cfg.kv_lora_rank
    threads = torch.get_num_threads()
    print(f"machine: {platform.machine()}, {threads} torch threads, torch {torch.__version__}")
    print(f"config: {cfg.name}; FP32; batch 1; median of {args.repeats} steps after one warm-up")
    header = (
        f"{'context':>8} {'aidc absorbed [ms]':>19} {'aidc naive [ms]':>16} {'HF eager [ms]':>14} "
        f"{'HF/absorbed':>12} {'aidc cache [MB]':>16} {'HF cache [MB]':>14} {'max rel diff':>13}"
    )
    print(header)
    for ctx in args.contexts:
        latents = [torch.randn(1, ctx, c + cfg.qk_rope_head_dim) for _ in range(cfg.num_layers)]
        cache = ours.new_cache(1, ctx + 1)
        slots = cache.slots([0], 0, ctx)
        hf_cache = DynamicCache(config=hf.config)
        for layer, lat in enumerate(latents):
            cache.write(layer, slots, lat)
            hf_cache.update(lat[None, :, :, :c], deinterleave(lat[None, :, :, c:]), layer)
        token = torch.tensor([[7]])
        with torch.no_grad():
            a = ours(token, start_pos=ctx, cache=cache)
            cache.truncate(0, ctx)
            b = hf(token, past_key_values=hf_cache, use_cache=True).logits
            hf_cache.crop(-1)
        rel = float((a - b).abs().max() / b.abs().max())
        ours_mb = cache.bytes_used / 1e6  # whole 64-token blocks
        hf_bytes = sum((x.keys.numel() + x.values.numel()) * x.keys.element_size() for x in hf_cache.layers)
        hf_mb = hf_bytes / 1e6

        few = max(1, args.repeats // 2)
        t_abs = _time(partial(step_ours, ours, "absorbed", token, ctx, cache), args.repeats)
        t_naive = _time(partial(step_ours, ours, "naive", token, ctx, cache), few)
        t_hf = _time(partial(step_hf, hf, token, hf_cache), few)
        ours.set_mla_mode("absorbed")
        print(
            f"{ctx:>8,} {t_abs * 1e3:>19.2f} {t_naive * 1e3:>16.2f} {t_hf * 1e3:>14.2f} "
            f"{t_hf / t_abs:>11.1f}× {ours_mb:>16.2f} {hf_mb:>14.2f} {rel:>13.1e}"
        )


if __name__ == "__main__":
    main()
