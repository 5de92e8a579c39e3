"""KV-cache memory of one replica, managed the way Linux manages memory under pressure.

The analogy is exact enough to name each step after its kernel counterpart:

1. **reserve** (commit charge): admitting a request charges its worst-case blocks, prompt plus
   ``max_tokens``; admission waits while the total charge would exceed the commit limit,
   ``swap blocks + HBM blocks × overcommit_ratio`` (``vm.overcommit_memory=2`` and
   ``vm.overcommit_ratio``). A ratio above 1 overcommits, as every serving engine does in effect.
2. **allocate on first use** (demand paging): blocks are taken only as tokens are written.
3. **reclaim** (kswapd): when free blocks fall below the low watermark, unreferenced prefix-cache
   blocks are dropped, least recently used first, until the high watermark is back.
4. **swap** out a victim's blocks to the lower tier (host DRAM, CXL, NVMe; the tier's capacity and
   transfer time from :mod:`aidc.hardware.interconnect`) when reclaim cannot free enough; it is
   swapped back in before new work is admitted. The victim is the most recently admitted request
   of the lowest priority class (what vLLM preempts first).
5. **kill** (the OOM killer) when nothing can be swapped: the request with the highest badness,
   ``blocks held (HBM + swap) + oom_score_adj[class] · total blocks / 1000`` (Linux's
   ``oom_badness``), loses its cache and is requeued to be recomputed — never dropped.

Every event is counted and logged with its time. Block accounting is by count (no block ids):
the simulator needs how many blocks each request holds, not where they are. This class is the only
code that changes a block count.

Prefix cache (vLLM's automatic prefix caching, SGLang's RadixAttention): full blocks of a shared
prefix are keyed by (group, block index); a request whose prefix group is cached references those
blocks instead of computing them, and the blocks it fills itself join the cache when its prefill is
done. Cached blocks nobody references are the reclaimable ones (the page cache).
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


class MemoryEvent(NamedTuple):
    """One logged event of a replica's memory manager."""

    t_s: float
    kind: str  # defer, reserve, prefix_hit, reclaim, swap_out, swap_in, kill
    rid: int  # the request (−1 for a reclaim)
    blocks: int
    replica: int


@dataclass
class KVRequest:
    """What the memory manager knows of a request."""

    rid: int
    priority: int = 0
    reserved: int = 0  # commit charge [blocks]
    blocks: int = 0  # private blocks in HBM
    swapped: int = 0  # private blocks in the lower tier
    shared: list[tuple[int, int]] = field(default_factory=list)  # prefix-cache keys it references
    admitted_seq: int = 0


Victims = Callable[[], Sequence[KVRequest]]
"""The requests that may be swapped out or killed to make room, in no particular order."""


class CachedSequence(Protocol):
    """A decoding sequence: its memory-manager record and the tokens in its cache."""

    kv: KVRequest
    context_tokens: float


@dataclass
class KVMemory:
    """The KV blocks of one replica: HBM, the swap tier, commit charge, prefix cache."""

    hbm_blocks: int
    block_tokens: int = 64
    overcommit_ratio: float = 1.0
    swap_blocks: int = 0
    low_watermark_blocks: int = 0
    high_watermark_blocks: int = 0
    oom_score_adj: dict[int, int] = field(default_factory=dict)  # by priority class, −1000…1000
    replica: int = 0  # the replica's index, for the log
    free: int = field(init=False)  # HBM blocks
    swap_free: int = field(init=False)
    committed: int = field(init=False)  # commit charge of the admitted requests [blocks]
    counts: Counter = field(init=False, default_factory=Counter)
    log: list[MemoryEvent] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        if self.hbm_blocks < 1:
            raise ValueError(f"hbm_blocks must be >= 1, got {self.hbm_blocks}")
        if not self.overcommit_ratio > 0:
            raise ValueError(f"overcommit_ratio must be > 0, got {self.overcommit_ratio}")
        if not 0 <= self.low_watermark_blocks <= self.high_watermark_blocks < self.hbm_blocks:
            raise ValueError(
                "need 0 <= low_watermark_blocks <= high_watermark_blocks < hbm_blocks, got "
                f"{self.low_watermark_blocks}, {self.high_watermark_blocks}, {self.hbm_blocks}"
            )
        for cls, adj in self.oom_score_adj.items():
            if not -1000 <= adj <= 1000:
                raise ValueError(f"oom_score_adj of class {cls} must be in [-1000, 1000], got {adj}")
        self.free = self.hbm_blocks
        self.swap_free = self.swap_blocks
        self.committed = 0
        self._cache: OrderedDict[tuple[int, int], int] = OrderedDict()  # key -> references
        self._lru: OrderedDict[tuple[int, int], None] = OrderedDict()  # unreferenced keys, oldest first
        self._seq = 0

    # -- bookkeeping -------------------------------------------------------------------------------
    def _event(self, t: float, kind: str, rid: int, blocks: int) -> None:
        self.counts[kind] += 1
        if kind in ("alloc", "free"):
            return  # counted, not logged: one per block boundary would swamp the log
        self.log.append(MemoryEvent(t, kind, rid, blocks, self.replica))

    @property
    def commit_limit(self) -> int:
        return int(self.swap_blocks + self.hbm_blocks * self.overcommit_ratio)

    @property
    def cached_blocks(self) -> int:
        return len(self._cache)

    @property
    def reclaimable_blocks(self) -> int:
        return len(self._lru)

    def blocks_for(self, tokens: float) -> int:
        return -(-int(tokens) // self.block_tokens) if tokens > 0 else 0

    def shortfall(self, req: KVRequest, tokens: float) -> int:
        """Blocks ``req`` lacks to hold ``tokens`` (0 or less: it holds enough)."""
        return -(-int(tokens) // self.block_tokens) - req.blocks - len(req.shared)

    def shortfalls(self, seqs: Sequence[CachedSequence], extra: float) -> list[int]:
        """:meth:`shortfall` of each sequence for its context + ``extra`` tokens (one call per
        batch: the serving simulator asks this for every decoding sequence of every step)."""
        bt = self.block_tokens
        return [-(-int(s.context_tokens + extra) // bt) - s.kv.blocks - len(s.kv.shared) for s in seqs]

    # -- 1. reserve ----------------------------------------------------------------------------------
    def reserve(self, t: float, req: KVRequest, worst_case_tokens: int) -> bool:
        """Charge the request's worst case against the commit limit; False (deferred) if over it."""
        need = self.blocks_for(worst_case_tokens)
        if self.committed + need > self.commit_limit and self.committed > 0:
            self._event(t, "defer", req.rid, need)
            return False
        self.committed += need
        req.reserved = need
        self._seq += 1
        req.admitted_seq = self._seq
        self._event(t, "reserve", req.rid, need)
        return True

    # -- prefix cache --------------------------------------------------------------------------------
    def lookup_prefix(self, t: float, req: KVRequest, group: int, prefix_tokens: int) -> int:
        """Reference the cached full blocks of ``group``'s prefix; returns the tokens they cover."""
        if group < 0:
            return 0
        hits = 0
        for i in range(prefix_tokens // self.block_tokens):
            key = (group, i)
            refs = self._cache.get(key)
            if refs is None:
                break
            if refs == 0:
                del self._lru[key]
            self._cache[key] = refs + 1
            req.shared.append(key)
            hits += 1
        if hits:
            self._event(t, "prefix_hit", req.rid, hits)
        return hits * self.block_tokens

    def publish_prefix(self, req: KVRequest, group: int, prefix_tokens: int) -> None:
        """After prefill: the request's own full prefix blocks move into the cache (still referenced)."""
        if group < 0:
            return
        first = len(req.shared)
        for i in range(first, prefix_tokens // self.block_tokens):
            key = (group, i)
            if key in self._cache or req.blocks == 0:
                break  # another request published it meanwhile: keep ours private
            self._cache[key] = 1
            req.shared.append(key)
            req.blocks -= 1

    # -- 2. allocate on first use --------------------------------------------------------------------
    def allocate(self, t: float, req: KVRequest, n: int, victims: Victims) -> list[int]:
        """Give ``req`` ``n`` more blocks, reclaiming, swapping and killing as needed.

        ``victims()`` returns the candidate requests (running or waiting with blocks) in no
        particular order. Returns the ids of requests swapped out or killed to make room (the
        caller takes them out of the batch); raises ``MemoryError`` only if ``n`` exceeds what
        the whole HBM could ever hold.
        """
        if n <= 0:
            return []
        if n > self.hbm_blocks - self.cached_blocks + self.reclaimable_blocks:
            raise MemoryError(f"request {req.rid} needs {n} blocks; HBM holds {self.hbm_blocks}")
        displaced: list[int] = []
        if self.free - n < self.low_watermark_blocks:
            self.reclaim(t, target=self.high_watermark_blocks + n)
        while self.free < n:
            others = [v for v in victims() if v is not req and v.blocks > 0]
            if not others:
                raise MemoryError(f"request {req.rid} needs {n} blocks and nothing else holds any")
            swap_victim = self._swap_victim(others)
            if swap_victim is not None:
                self.swap_out(t, swap_victim)
                displaced.append(swap_victim.rid)
            else:
                victim = max(others, key=self.badness)
                self.kill(t, victim)
                displaced.append(victim.rid)
        self.free -= n
        req.blocks += n
        self._event(t, "alloc", req.rid, n)
        return displaced

    def grow(
        self, t: float, seqs: Sequence[CachedSequence], extra: float, victims: Victims, displaced: list[int]
    ) -> list[int]:
        """:meth:`allocate` each sequence its shortfall for its context + ``extra`` tokens, in order,
        skipping those whose ids are in ``displaced`` (by an earlier allocation of the same step),
        to which the ids this call displaces are added; returns ``displaced``."""
        bt = self.block_tokens
        for s in seqs:
            k = s.kv
            need = -(-int(s.context_tokens + extra) // bt) - k.blocks - len(k.shared)
            if need > 0 and k.rid not in displaced:
                displaced += self.allocate(t, k, need, victims)
        return displaced

    def take(self, t: float, seqs: Sequence[CachedSequence], needs: Sequence[int]) -> None:
        """Give each sequence its ``needs`` blocks at once, from blocks the caller knows are free
        above the low watermark (a fused decode span takes its blocks at its start)."""
        taken = 0
        for s, need in zip(seqs, needs, strict=True):
            if need > 0:
                s.kv.blocks += need
                taken += need
        self.free -= taken
        self.counts["alloc"] += 1  # counted, not logged (as _event does)

    # -- 3. reclaim ----------------------------------------------------------------------------------
    def reclaim(self, t: float, target: int) -> int:
        """Drop unreferenced prefix blocks, oldest first, until ``target`` blocks are free."""
        dropped = 0
        while self.free < target and self._lru:
            key, _ = self._lru.popitem(last=False)
            del self._cache[key]
            self.free += 1
            dropped += 1
        if dropped:
            self._event(t, "reclaim", -1, dropped)
        return dropped

    # -- 4. swap -------------------------------------------------------------------------------------
    def _swap_victim(self, others: list[KVRequest]) -> KVRequest | None:
        fits = [v for v in others if v.blocks <= self.swap_free]
        if not fits:
            return None
        return max(fits, key=lambda v: (v.priority, v.admitted_seq))  # lowest class, newest first

    def swap_out(self, t: float, req: KVRequest) -> int:
        n = req.blocks
        self.swap_free -= n
        req.swapped += n
        req.blocks = 0
        self.free += n
        self._event(t, "swap_out", req.rid, n)
        return n

    def can_swap_in(self, req: KVRequest) -> bool:
        return self.free - req.swapped >= self.high_watermark_blocks

    def swap_in(self, t: float, req: KVRequest) -> int:
        n = req.swapped
        self.free -= n
        req.blocks += n
        req.swapped = 0
        self.swap_free += n
        self._event(t, "swap_in", req.rid, n)
        return n

    # -- 5. kill -------------------------------------------------------------------------------------
    def badness(self, req: KVRequest) -> float:
        total = self.hbm_blocks + self.swap_blocks
        return req.blocks + req.swapped + self.oom_score_adj.get(req.priority, 0) * total / 1000

    def kill(self, t: float, req: KVRequest) -> None:
        """Free everything the request holds (it will be recomputed); its reservation stays."""
        self._event(t, "kill", req.rid, req.blocks + req.swapped)
        self._drop(req)

    def _drop(self, req: KVRequest) -> None:
        self.free += req.blocks
        self.swap_free += req.swapped
        req.blocks = req.swapped = 0
        for key in req.shared:
            refs = self._cache[key] - 1
            self._cache[key] = refs
            if refs == 0:
                self._lru[key] = None
        req.shared.clear()

    def lose(self, t: float, reqs: Sequence[KVRequest]) -> None:
        """The replica's GPUs are gone: every block, swapped block, commit charge and cached
        prefix of ``reqs`` (all it holds) is lost with them; the memory starts empty."""
        for req in reqs:
            self._event(t, "lost", req.rid, req.blocks + req.swapped)
            req.blocks = req.swapped = req.reserved = 0
            req.shared.clear()
        self.free, self.swap_free, self.committed = self.hbm_blocks, self.swap_blocks, 0
        self._cache.clear()
        self._lru.clear()

    def release(self, t: float, req: KVRequest) -> None:
        """A finished request: free its blocks and its commit charge; its prefix blocks stay cached."""
        self._event(t, "free", req.rid, req.blocks)
        self._drop(req)
        self.committed -= req.reserved
        req.reserved = 0
