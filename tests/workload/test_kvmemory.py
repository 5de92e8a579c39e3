"""The KV memory manager on its own: each step of the Linux path with hand-counted blocks, and the
conservation of HBM and swap blocks through all of them."""

from __future__ import annotations

import pytest

from aidc.workload.kvmemory import KVMemory, KVRequest


class Seq:
    """A decoding sequence as the manager sees it (``CachedSequence``)."""

    def __init__(self, rid: int, context_tokens: float, priority: int = 0):
        self.kv = KVRequest(rid, priority)
        self.context_tokens = context_tokens


def assert_conserved(kv: KVMemory, requests: list[KVRequest]) -> None:
    assert kv.free + sum(r.blocks for r in requests) + kv.cached_blocks == kv.hbm_blocks
    assert kv.swap_free + sum(r.swapped for r in requests) == kv.swap_blocks


def test_reserve_charges_the_worst_case_against_the_commit_limit():
    kv = KVMemory(hbm_blocks=10, block_tokens=64, overcommit_ratio=2.0, swap_blocks=4)
    assert kv.commit_limit == 24  # swap 4 + HBM 10 × 2
    a, b = KVRequest(0), KVRequest(1)
    assert kv.reserve(0.0, a, 64 * 20)  # 20 blocks
    assert not kv.reserve(0.0, b, 64 * 5)  # 20 + 5 > 24: deferred, nothing charged
    assert b.reserved == 0 and kv.committed == 20 and kv.counts["defer"] == 1
    kv.release(1.0, a)
    assert kv.committed == 0 and kv.reserve(1.0, b, 64 * 5)


def test_blocks_are_taken_on_first_use_only():
    kv = KVMemory(hbm_blocks=10, block_tokens=64)
    s = Seq(0, 100.0)
    assert kv.shortfall(s.kv, 100) == 2  # 100 tokens fill 2 blocks of 64
    kv.allocate(0.0, s.kv, 2, lambda: [])
    assert kv.free == 8 and kv.shortfall(s.kv, 128) == 0 and kv.shortfall(s.kv, 129) == 1
    assert kv.shortfalls([s], 28.0) == [0] and kv.shortfalls([s], 29.0) == [1]
    kv.take(0.0, [s], [3])
    assert s.kv.blocks == 5 and kv.free == 5


def test_reclaim_drops_unreferenced_prefix_blocks_oldest_first():
    kv = KVMemory(hbm_blocks=12, block_tokens=64, low_watermark_blocks=1, high_watermark_blocks=2)
    for group in (0, 1):  # two requests fill and publish 3 prefix blocks each, then finish
        r = KVRequest(group)
        kv.allocate(0.0, r, 4, lambda: [])
        kv.publish_prefix(r, group, 3 * 64)
        kv.release(0.0, r)
    assert kv.cached_blocks == kv.reclaimable_blocks == 6 and kv.free == 6
    big = KVRequest(9)
    kv.allocate(1.0, big, 8, lambda: [])  # 8 > 6 free: reclaim until 8 + 2 free
    assert kv.counts["reclaim"] == 1 and kv.free == 2
    assert kv.log[-1].kind == "reclaim" and kv.log[-1].blocks == 4
    # group 0 was cached first and went first, then group 1's first block: two blocks are left,
    # but a prefix is only reused from its start, so neither group hits
    assert kv.cached_blocks == 2
    probe = KVRequest(10)
    assert kv.lookup_prefix(2.0, probe, 0, 3 * 64) == 0 and kv.lookup_prefix(2.0, probe, 1, 3 * 64) == 0


def test_swap_before_kill_and_kill_by_badness():
    kv = KVMemory(hbm_blocks=10, block_tokens=64, swap_blocks=3, oom_score_adj={1: 500})
    low, high, newcomer = KVRequest(0, priority=1), KVRequest(1, priority=0), KVRequest(2)
    for r, n in ((low, 4), (high, 3)):
        kv.reserve(0.0, r, 64)
        kv.allocate(0.0, r, n, lambda: [])
    kv.reserve(0.0, newcomer, 64)
    victims = [low, high, newcomer]
    # 6 blocks wanted, 3 free: the swap tier holds 3, so the lowest class's (4 blocks) cannot go
    # there; the 3-block request is swapped out
    assert kv.allocate(1.0, newcomer, 6, lambda: victims) == [1]
    assert high.swapped == 3 and high.blocks == 0 and kv.swap_free == 0
    assert_conserved(kv, victims)
    # nothing fits in swap any more: the highest badness is killed (blocks + adj · total / 1000)
    assert kv.badness(low) == pytest.approx(4 + 500 * 13 / 1000)
    assert kv.allocate(2.0, newcomer, 4, lambda: victims) == [0]
    assert low.blocks == 0 and kv.counts["kill"] == 1
    assert_conserved(kv, victims)
    # the swapped request comes back once there is room above the high watermark
    kv.release(3.0, newcomer)
    assert kv.can_swap_in(high) and kv.swap_in(3.0, high) == 3
    assert_conserved(kv, victims)


def test_grow_allocates_in_order_and_skips_what_it_displaced():
    kv = KVMemory(hbm_blocks=6, block_tokens=64, swap_blocks=0)
    a, b, c = Seq(0, 64.0), Seq(1, 64.0), Seq(2, 64.0)
    for s in (a, b, c):
        kv.allocate(0.0, s.kv, 2, lambda: [])
    # each needs one more block for 65 tokens and none is free: a's growth kills b (equal badness:
    # the first candidate), which frees 2 blocks; b is skipped; c takes the other
    displaced = kv.grow(1.0, [a, b, c], 65.0, lambda: [s.kv for s in (a, b, c)], [])
    assert displaced == [1] and (a.kv.blocks, b.kv.blocks, c.kv.blocks) == (3, 0, 3)
    assert_conserved(kv, [a.kv, b.kv, c.kv])


def test_a_request_larger_than_hbm_is_an_error():
    kv = KVMemory(hbm_blocks=4)
    with pytest.raises(MemoryError, match="needs 5 blocks; HBM holds 4"):
        kv.allocate(0.0, KVRequest(0), 5, lambda: [])
    with pytest.raises(ValueError, match="low_watermark_blocks"):
        KVMemory(hbm_blocks=4, low_watermark_blocks=3, high_watermark_blocks=2)
