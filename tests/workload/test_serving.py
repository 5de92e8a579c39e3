"""The serving simulator: memory pressure follows reclaim → swap → kill and loses nothing; prefix
caching, MTP and routing do what they claim; runs are deterministic; bad input is refused."""

from __future__ import annotations

import numpy as np
import pytest

from aidc.hardware.catalog import get_gpu
from aidc.hardware.interconnect import LINKS, MEMORY_TIERS
from aidc.model.accounting import weight_bytes
from aidc.model.presets import get_preset
from aidc.workload.serving import SLO, Pool, PoolRole, SchedulerConfig, ServingSim
from aidc.workload.steptime import GIB, Deployment
from aidc.workload.traces import LengthDist, load_trace, make_trace, synthetic_trace

LLAMA8 = get_preset("llama-3.1-8b")
H100 = get_gpu("H100-SXM")
BLOCK_BYTES = 64 * 131_072  # Llama-3.1-8B, BF16 cache


def small_hbm(blocks: int) -> Deployment:
    """Llama-3.1-8B on an H100 whose memory utilization leaves room for ``blocks`` KV blocks."""
    util = (weight_bytes(LLAMA8) + 2 * GIB + (blocks + 0.5) * BLOCK_BYTES) / (80 * GIB)
    dep = Deployment(LLAMA8, H100, gpu_memory_utilization=util)
    assert dep.kv_blocks == blocks
    return dep


def pressure_trace():
    # 10 short requests, each with its own 576-token shared prefix (9 full blocks), finish fast and
    # leave 90 unreferenced blocks in the prefix cache; 10 s later a burst of 12 requests that grow
    # to 1,100 tokens (18 blocks each, 216 in all) overfills the 120-block HBM.
    n1, n2 = 10, 12
    arrival = [0.01 * i for i in range(n1)] + [10.0 + 0.001 * i for i in range(n2)]
    prompt = [640] * n1 + [500] * n2
    output = [2] * n1 + [600] * n2
    group = list(range(n1)) + [-1] * n2
    prefix = [576] * n1 + [0] * n2
    return make_trace("pressure", arrival, prompt, output, prefix_group=group, prefix_tokens=prefix)


def assert_blocks_conserved(kv, requests) -> None:
    """free + private + cached = HBM blocks; swap likewise."""
    assert kv.free + sum(r.kv.blocks for r in requests) + kv.cached_blocks == kv.hbm_blocks
    assert kv.swap_free + sum(r.kv.swapped for r in requests) == kv.swap_blocks


def test_memory_pressure_goes_reclaim_then_swap_then_kill_and_loses_no_request():
    sched = SchedulerConfig(
        overcommit_ratio=50.0,
        swap_tier=MEMORY_TIERS["host-dram-pcie5"],
        swap_gb=40 * BLOCK_BYTES / 1e9,  # room for 40 blocks: two victims' worth, then kills
    )
    sim = ServingSim(small_hbm(120), pressure_trace(), scheduler=sched)
    res = sim.run()
    first = {}
    for t, event, _, _, _ in res.memory_log:
        first.setdefault(event, t)
    assert {"reclaim", "swap_out", "swap_in", "kill"} <= set(first)
    assert first["reclaim"] <= first["swap_out"] <= first["kill"]
    # reclaim found the 90 cached blocks before anything was swapped
    log = res.memory_log
    assert sum(n for t, e, _, n, _ in log if e == "reclaim" and t <= first["swap_out"]) == 90
    assert res.kills > 0 and res.swaps > 0
    assert res.finished == res.requests == 22  # every request finished, killed ones recomputed
    assert res.output_tokens == pytest.approx(10 * 2 + 12 * 600)
    rep = sim.replicas[0]
    assert_blocks_conserved(rep.kv, sim.requests)
    assert rep.kv.free + rep.kv.cached_blocks == rep.kv.hbm_blocks and rep.kv.committed == 0


def test_without_swap_space_the_shortfall_kills_at_once_and_by_badness():
    sched = SchedulerConfig(overcommit_ratio=50.0, swap_tier=None, oom_score_adj=(0,))
    res = ServingSim(small_hbm(120), pressure_trace(), scheduler=sched).run()
    events = [e for _, e, _, _, _ in res.memory_log]
    assert "swap_out" not in events and "kill" in events
    assert events.index("reclaim") < events.index("kill")
    assert res.finished == res.requests


def test_commit_limit_defers_admission_instead_of_overcommitting():
    sched = SchedulerConfig(overcommit_ratio=1.0, max_tokens=600, swap_tier=None)
    res = ServingSim(small_hbm(120), pressure_trace(), scheduler=sched).run()
    assert res.memory_events.get("defer", 0) > 0
    assert res.kills == 0 and res.swaps == 0 and res.finished == res.requests


def test_prefix_caching_skips_the_shared_prompt():
    tr = load_trace("azure-conv").head(400).with_shared_prefix(groups=2, tokens=768, share=1.0, seed=0)
    dep = Deployment(LLAMA8, H100)
    sim = ServingSim(dep, tr)
    on = sim.run()
    off = ServingSim(dep, tr, scheduler=SchedulerConfig(prefix_caching=False)).run()
    # only whole 64-token blocks are shared, and the first request of each group computes them
    assert 0.85 < on.prefix_hit_rate < 1.0 and off.prefix_hit_rate == 0.0
    pre_on = sum(r["prefill_tokens"] for r in on.replicas)
    pre_off = sum(r["prefill_tokens"] for r in off.replicas)
    assert pre_off - pre_on == sim.prefix_hit_tokens > 0
    assert np.median(on.ttft_s) < np.median(off.ttft_s)


def test_mtp_speculation_keeps_one_plus_p_tokens_per_step():
    tr = make_trace("one", [0.0], [100], [1001])
    plain = ServingSim(Deployment(LLAMA8, H100), tr).run()
    spec = ServingSim(Deployment(LLAMA8, H100), tr, scheduler=SchedulerConfig(mtp_acceptance=0.85)).run()
    steps_plain, steps_spec = plain.replicas[0]["steps"], spec.replicas[0]["steps"]
    assert steps_plain == 1 + 1000  # one prefill step, then one token per decode step
    assert steps_spec == 1 + int(np.ceil(1000 / 1.85))
    assert spec.e2e_s[0] < plain.e2e_s[0] / 1.6


def test_same_inputs_same_results_and_routers_spread_load():
    tr = load_trace("azure-conv").head(3000).at_rate(30.0)
    dep = Deployment(LLAMA8, H100)
    a = ServingSim([Pool(dep, 4)], tr, router="least-loaded").run()
    b = ServingSim([Pool(dep, 4)], tr, router="least-loaded").run()
    np.testing.assert_array_equal(a.ttft_s, b.ttft_s)
    assert a.memory_events == b.memory_events
    per = [r["output_tokens"] for r in a.replicas]
    assert min(per) > 0.2 * sum(per)
    small = Deployment(LLAMA8, H100)
    large = Deployment(get_preset("llama-3.1-70b"), H100, tp=4, link=LINKS["nvlink4"])
    pools = [Pool(small, 1, PoolRole.SMALL), Pool(large, 1, PoolRole.LARGE)]
    res = ServingSim(pools, tr, router="tiered", tier_threshold_tokens=512).run()
    short = tr.prompt_tokens <= 512
    assert res.replicas[0]["prefill_tokens"] == pytest.approx(tr.prompt_tokens[short].sum())


def test_fused_decode_spans_match_step_by_step_simulation():
    """Arrivals cut a fused span at the step in progress, so admission times match a simulator that
    never fuses."""
    lengths = LengthDist(median=300, sigma=0.5), LengthDist(median=80, sigma=0.7)
    tr = synthetic_trace(300, 20.0, *lengths, seed=3)
    dep = Deployment(LLAMA8, H100)
    res = ServingSim(dep, tr).run()
    ref = ServingSim(dep, tr, scheduler=SchedulerConfig(fuse_decode_spans=False)).run()
    assert res.replicas[0]["steps"] == ref.replicas[0]["steps"]
    np.testing.assert_allclose(res.ttft_s, ref.ttft_s, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(res.e2e_s, ref.e2e_s, rtol=2e-3)


def test_bad_serving_input_is_refused_before_running():
    tr = make_trace("long", [0.0], [2_000_000], [10])
    with pytest.raises(ValueError, match=r"prompt \(2000000 tokens\) needs 31251 KV blocks; .* holds 7045"):
        ServingSim(Deployment(LLAMA8, H100), tr)
    with pytest.raises(ValueError, match="SLO ttft_s must be a positive number"):
        SLO(ttft_s=-1.0)
    with pytest.raises(ValueError, match="router must be"):
        ServingSim(Deployment(LLAMA8, H100), make_trace("t", [0.0], [10], [10]), router="random")
    with pytest.raises(ValueError, match="tiered router needs pools"):
        ServingSim(Deployment(LLAMA8, H100), make_trace("t", [0.0], [10], [10]), router="tiered")
    with pytest.raises(ValueError, match="mtp_acceptance"):
        SchedulerConfig(mtp_acceptance=1.5)


def test_disaggregated_prefill_hands_the_cache_to_the_decode_pool():
    tr = load_trace("azure-conv").head(2000).at_rate(40.0)
    dep = Deployment(get_preset("llama-3.1-70b"), H100, tp=8, link=LINKS["nvlink4"])
    pools = [Pool(dep, 1, PoolRole.PREFILL), Pool(dep, 2, PoolRole.DECODE)]
    sim = ServingSim(pools, tr, router="least-loaded", kv_link=LINKS["ib-ndr"])
    res = sim.run()
    assert res.finished == res.requests == 2000
    prefill, *decode = res.replicas
    multi = int((tr.output_tokens > 1).sum())
    assert sim.handoffs == multi
    # the prefill pool computes every prompt and samples every first token; decoding happens elsewhere
    assert prefill["prefill_tokens"] == tr.prompt_tokens.sum()
    assert prefill["output_tokens"] == pytest.approx(2000)
    assert sum(d["prefill_tokens"] for d in decode) == 0
    assert sum(d["output_tokens"] for d in decode) == pytest.approx(tr.output_tokens.sum() - 2000)
    # a 1,000-token Llama-3.1-70B cache (327,680 B/token) over 8 NDR ports takes ~1 ms
    per_token = 327_680
    mean_t = sim.handoff_s / sim.handoffs
    expected = np.mean(
        [LINKS["ib-ndr"].transfer_s(p * per_token / 8) for p in tr.prompt_tokens[tr.output_tokens > 1]]
    )
    assert mean_t == pytest.approx(expected, rel=1e-6)
    for rep in sim.replicas:
        assert_blocks_conserved(rep.kv, [r for r in sim.requests if r.replica == rep.index])
    with pytest.raises(ValueError, match="needs the link the KV cache crosses"):
        ServingSim(pools, tr)
    with pytest.raises(ValueError, match="both a 'prefill' and a 'decode' pool"):
        ServingSim([Pool(dep, 1, PoolRole.PREFILL)], tr, kv_link=LINKS["ib-ndr"])


def test_a_higher_priority_request_overtakes_the_queue_of_a_lower_class():
    # one replica admitting one sequence at a time: the queue order decides who runs next
    tr = make_trace("classes", [0.0, 0.001, 0.002, 0.003], [100] * 4, [50] * 4, priority=[1, 1, 1, 0])
    res = ServingSim(Deployment(LLAMA8, H100), tr, scheduler=SchedulerConfig(max_num_seqs=1)).run()
    done = np.argsort(res.e2e_s + tr.arrival_s)  # completion order (all requests finish)
    assert list(done) == [0, 3, 1, 2]
