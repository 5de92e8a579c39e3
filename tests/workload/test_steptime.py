"""Step-time model: capacity arithmetic, roofline regimes, clocks, parallelism, errors."""

from __future__ import annotations

import math

import pytest

from aidc.hardware.catalog import get_gpu
from aidc.hardware.interconnect import LINKS
from aidc.model.accounting import kv_bytes_per_token, weight_bytes
from aidc.model.presets import get_preset
from aidc.workload.steptime import GIB, Deployment, StepTimeModel

V3 = get_preset("deepseek-v3")
LLAMA8 = get_preset("llama-3.1-8b")
H100, H200 = get_gpu("H100-SXM"), get_gpu("H200-SXM")


def v3_on_h200(**kw) -> Deployment:
    return Deployment(V3, H200, tp=8, expert_parallel=True, precision="fp8", link=LINKS["nvlink4"], **kw)


def test_kv_blocks_of_deepseek_v3_fp8_on_eight_h200():
    """Capacity arithmetic from the model core's numbers, worked by hand:
    weights 673.15 GB in the FP8 recipe / 8 = 84.1 GB per GPU; HBM 141 GiB × 0.9 = 126.9 GiB;
    2 GiB activations; the BF16 latent (70,272 B/token, replicated on every TP rank) in 64-token
    blocks of 4.50 MB."""
    dep = v3_on_h200()
    per_gpu_weights = weight_bytes(V3) / 8
    assert per_gpu_weights / 1e9 == pytest.approx(84.14, abs=0.01)
    assert kv_bytes_per_token(V3) == 70_272
    budget = 141 * GIB * 0.9 - per_gpu_weights - 2 * GIB
    expected = math.floor(budget / (64 * 70_272))
    assert dep.kv_blocks == expected
    assert 11_000 < expected < 11_200  # ≈ 711k tokens of context per replica
    # An FP8 latent doubles it
    assert v3_on_h200(kv_bits=8).kv_blocks == math.floor(budget / (64 * 35_136))


def test_model_that_does_not_fit_says_how_much_it_needs_and_has():
    dep = Deployment(V3, H100, tp=8, expert_parallel=True, precision="fp8", link=LINKS["nvlink4"])
    with pytest.raises(ValueError, match=r"needs 80\.4 GiB \(weights 78\.4.* but has 72\.0 GiB"):
        dep.check_fits()


def test_gqa_cache_splits_over_tensor_parallel_ranks_and_mla_does_not():
    llama70 = get_preset("llama-3.1-70b")
    one = Deployment(llama70, H100, tp=1)
    eight = Deployment(llama70, H100, tp=8, link=LINKS["nvlink4"])
    assert eight.kv_bytes_per_token_per_gpu == one.kv_bytes_per_token_per_gpu / 8
    assert v3_on_h200().kv_bytes_per_token_per_gpu == kv_bytes_per_token(V3)


def test_small_batch_decode_is_memory_bound_and_prefill_compute_bound():
    m = StepTimeModel(Deployment(LLAMA8, H100))
    decode = m.step(decode_seqs=8, decode_context=8 * 1000)
    assert decode.memory_s > 10 * decode.compute_s
    # weights without the embedding table (a row lookup): 16.06 GB − 128,256 × 4,096 × 2 B, plus
    # the KV cache read and written (8 × 1001 × 131,072 B), at 0.8 × 3.35 TB/s, plus the overhead
    weights = weight_bytes(LLAMA8) - 128_256 * 4096 * 2
    expected = (weights + 8 * 1001 * 131_072) / (0.8 * 3.35e12) + 3e-4
    assert decode.time_s == pytest.approx(expected, rel=0.01)
    prefill = m.step(prefill_tokens=4096, prefill_pairs=4096 * 4097 / 2, prefill_context=4096, prefill_done=1)
    assert prefill.compute_s > 10 * prefill.memory_s
    assert prefill.activity > decode.activity


def test_a_lower_clock_slows_compute_but_not_memory():
    m = StepTimeModel(Deployment(LLAMA8, H100))
    shape = dict(prefill_tokens=4096, prefill_pairs=4096 * 4097 / 2, prefill_context=4096, prefill_done=1)
    fast, slow = m.step(**shape), m.step(**shape, clock_mhz=H100.clock_max_mhz / 2)
    assert slow.compute_s == pytest.approx(2 * fast.compute_s)
    dec_fast = m.step(decode_seqs=4, decode_context=4000)
    dec_slow = m.step(decode_seqs=4, decode_context=4000, clock_mhz=H100.clock_max_mhz / 2)
    assert dec_slow.time_s == pytest.approx(dec_fast.time_s, rel=0.02)


def test_expert_imbalance_and_tensor_parallel_communication_cost_time():
    shape = dict(prefill_tokens=8192, prefill_pairs=8192 * 8193 / 2, prefill_context=8192, prefill_done=2)
    even = StepTimeModel(v3_on_h200()).step(**shape)
    skewed = StepTimeModel(v3_on_h200(max_violation=0.5)).step(**shape)
    assert skewed.compute_s > 1.2 * even.compute_s
    assert even.comm_s > 0
    llama70 = get_preset("llama-3.1-70b")
    single = Deployment(llama70, get_gpu("B200"), tp=1)
    assert StepTimeModel(single).step(decode_seqs=1, decode_context=10).comm_s == 0


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        (dict(tp=0), "tp must be"),
        (dict(tp=8), "needs the link"),
        (dict(precision="fp4"), "no 'fp4' throughput"),
        (dict(compute_frac=1.5), "compute_frac"),
        (dict(expert_parallel=True), "needs an MoE model"),
        (dict(kv_bits=12), "kv_bits"),
    ],
)
def test_bad_deployments_are_refused(kw, match):
    with pytest.raises(ValueError, match=match):
        Deployment(LLAMA8, H100, **kw)


def test_the_decode_fast_path_equals_the_general_step():
    for dep in (v3_on_h200(max_violation=0.3), Deployment(LLAMA8, H100)):
        m = StepTimeModel(dep)
        for seqs, context, q, clock in (
            (1, 100, 1, None),
            (64, 64 * 2000, 2, 1500.0),
            (256, 256 * 900, 1, None),
        ):
            fast = m.decode(seqs, context, q, clock)
            general = m.step(decode_seqs=seqs, decode_context=context, q=q, clock_mhz=clock)
            assert fast == pytest.approx(general, rel=1e-12)
