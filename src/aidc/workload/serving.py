"""A deterministic discrete-event simulator of LLM serving: continuous batching on GPU replicas.

Events sit in a heap keyed ``(time, priority, seq)``; ``seq`` breaks ties in insertion order, so
a run is a pure function of its inputs. Three kinds: a replica's *step ends*, a request *arrives*
(the router picks a replica), and, when prefill and decode are disaggregated, a prefilled request
is *handed over* to a decode replica.

Each replica runs a vLLM-style scheduler (Kwon et al., SOSP 2023; chunked prefill as in
Sarathi-Serve, Agrawal et al., OSDI 2024): every step first swaps requests back in, then gives
each decoding sequence its token(s), then continues chunked prefills, then admits waiting requests
(priority class first, then arrival) while the step's token budget, the sequence limit, the
memory manager's commit limit and the free blocks (a new request's first chunk must fit without
displacing anyone) allow. Step time comes from :class:`StepTimeModel` at the replica's
current clock; KV memory from :class:`KVMemory` (reserve, allocate on first use, reclaim, swap,
kill — see there). A killed request is requeued at the front and recomputes its prompt and the
tokens it had generated (vLLM's recompute preemption): no request is lost.

Speculative decoding with MTP (DeepSeek-V3 §2.2, §5.4.3): each decoding sequence verifies
``1 + draft_tokens`` tokens per step and keeps ``1 + acceptance`` of them on average (the expected
count, so runs stay deterministic; DeepSeek reports 85–90 % acceptance of the second token).

Speed: a step in which only decoding happens is *fused* with the following decode-only steps until
the first sequence finishes, memory runs short, or a new request reaches the replica (the fused
span is then cut at the step in progress). Within a span the step time grows linearly with the
context, so its end time is a closed-form sum and arrivals still join at a real step boundary.
KV blocks for a fused span are taken at its start (first use at span granularity).
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from aidc.workload.kvmemory import KVMemory, KVRequest
from aidc.workload.steptime import Deployment, StepTimeModel
from aidc.workload.traces import Trace

WAITING, PREFILL, DECODE, SWAPPED, DONE = range(5)  # request states
_STEP_END, _ARRIVAL, _HANDOFF = 0, 1, 2  # event kinds; a step ending as a request arrives ends first


class SwapTier(Protocol):
    """Memory below HBM (:class:`aidc.hardware.interconnect.MemoryTier` is one)."""

    name: str
    capacity_gb: float

    def transfer_s(self, nbytes: float) -> float: ...


class KVLink(Protocol):
    """The path a disaggregated prefill hands its KV cache over (a :class:`Link` of the catalog)."""

    name: str

    def transfer_s(self, nbytes: float) -> float: ...


@dataclass(frozen=True)
class SchedulerConfig:
    max_num_seqs: int = 256
    """Sequences in a step at most (vLLM ``max_num_seqs``)."""
    max_batched_tokens: int = 8192
    """Token budget of one step (vLLM V1's default ``max_num_batched_tokens`` for serving)."""
    max_tokens: int = 4096
    """Worst-case output a request may generate: what admission reserves."""
    overcommit_ratio: float = 4.0
    """Commit limit = swap blocks + HBM blocks × this (Linux ``vm.overcommit_ratio``)."""
    low_watermark_frac: float = 0.01
    high_watermark_frac: float = 0.02
    swap_tier: SwapTier | None = None
    """Where KV blocks are swapped to (e.g. ``MEMORY_TIERS["host-dram-pcie5"]``); None: no swap,
    a memory shortfall kills at once."""
    swap_gb: float | None = None
    """Swap space per GPU [GB]; the tier's capacity if None."""
    oom_score_adj: tuple[int, ...] = ()
    """Per priority class (index), −1000…1000, as Linux's ``oom_score_adj``."""
    prefix_caching: bool = True
    mtp_acceptance: float | None = None
    """Acceptance rate of MTP drafts; None disables speculative decoding."""
    draft_tokens: int = 1

    def __post_init__(self) -> None:
        if self.max_num_seqs < 1 or self.max_batched_tokens < 1 or self.max_tokens < 1:
            raise ValueError(
                "max_num_seqs, max_batched_tokens and max_tokens must be >= 1, got "
                f"{self.max_num_seqs}, {self.max_batched_tokens}, {self.max_tokens}"
            )
        if not 0.0 <= self.low_watermark_frac <= self.high_watermark_frac < 0.5:
            raise ValueError(
                "need 0 <= low_watermark_frac <= high_watermark_frac < 0.5, got "
                f"{self.low_watermark_frac}, {self.high_watermark_frac}"
            )
        if self.mtp_acceptance is not None and not 0.0 <= self.mtp_acceptance <= 1.0:
            raise ValueError(f"mtp_acceptance must be in [0, 1], got {self.mtp_acceptance}")
        if self.draft_tokens < 1:
            raise ValueError(f"draft_tokens must be >= 1, got {self.draft_tokens}")
        if not self.overcommit_ratio > 0:
            raise ValueError(f"overcommit_ratio must be > 0, got {self.overcommit_ratio}")

    @property
    def tokens_per_step(self) -> tuple[int, float]:
        """(tokens verified, tokens kept) per decoding sequence and step."""
        if self.mtp_acceptance is None:
            return 1, 1.0
        d, p = self.draft_tokens, self.mtp_acceptance
        # draft i is kept only if drafts 1..i all are: expected kept = 1 + p + p² + … + p^d
        return 1 + d, sum(p**i for i in range(d + 1))


@dataclass(frozen=True)
class SLO:
    """Service-level objectives of a request; goodput counts requests meeting all that are set."""

    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("ttft_s", "tpot_s", "e2e_s"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise ValueError(f"SLO {name} must be a positive number of seconds, got {v}")


class Request:
    __slots__ = (
        "arrival",
        "ctx",
        "generated",
        "group",
        "kills",
        "kv",
        "output",
        "prefilled",
        "prefix",
        "prompt",
        "replica",
        "rid",
        "state",
        "swaps",
        "t_done",
        "t_first",
        "target",
    )

    def __init__(
        self, rid: int, arrival: float, prompt: int, output: int, group: int, prefix: int, priority: int
    ):
        self.rid, self.arrival, self.prompt, self.output = rid, arrival, prompt, output
        self.group, self.prefix = group, prefix
        self.kv = KVRequest(rid, priority)
        self.state = WAITING
        self.target = prompt  # tokens to prefill (prompt, plus generated tokens after a kill)
        self.prefilled = 0  # tokens of ``target`` in the cache
        self.generated = 0.0
        self.ctx = 0.0  # tokens in the cache while decoding
        self.replica = -1
        self.t_first = math.nan
        self.t_done = math.nan
        self.kills = 0
        self.swaps = 0


class Replica:
    """One model replica: its step-time model, memory manager, queues and energy counters."""

    def __init__(self, index: int, dep: Deployment, cfg: SchedulerConfig, pool: str):
        self.index, self.dep, self.pool = index, dep, pool
        self.model = StepTimeModel(dep)
        self.tier = cfg.swap_tier
        swap_blocks = 0
        if self.tier is not None:
            gb = self.tier.capacity_gb if cfg.swap_gb is None else cfg.swap_gb
            swap_blocks = int(gb * 1e9 // dep.block_bytes_per_gpu)
        blocks = dep.kv_blocks
        self.kv = KVMemory(
            hbm_blocks=blocks,
            block_tokens=dep.block_tokens,
            overcommit_ratio=cfg.overcommit_ratio,
            swap_blocks=swap_blocks,
            low_watermark_blocks=int(blocks * cfg.low_watermark_frac),
            high_watermark_blocks=int(blocks * cfg.high_watermark_frac),
            oom_score_adj=dict(enumerate(cfg.oom_score_adj)),
        )
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []
        self.swapped: list[Request] = []
        self.clock_mhz: float = dep.gpu.clock_max_mhz
        self.busy = False
        self.span: tuple | None = None  # (start, a, b, k, activity, version) of a fused span
        self.version = 0
        self.batch: tuple = ()
        # counters
        self.steps = 0
        self.busy_s = 0.0
        self.activity_s = 0.0  # ∫ activity dt over busy time
        self.flop = 0.0  # matmul FLOPs per GPU
        self.prefill_tokens = 0
        self.output_tokens = 0.0
        self.swap_s = 0.0
        self.max_queue = 0
        self.load = 0  # requests routed here and not finished


def _by_load(rep: Replica) -> tuple[int, int]:
    return rep.load, rep.index


@dataclass
class ServingResult:
    requests: int
    finished: int
    duration_s: float
    ttft_s: np.ndarray
    tpot_s: np.ndarray
    e2e_s: np.ndarray
    input_tokens: int
    output_tokens: float
    kills: int
    swaps: int
    memory_events: dict[str, int]
    memory_log: list[tuple[float, str, int, int, int]]  # (t, event, request, blocks, replica)
    prefix_hit_rate: float
    goodput_rps: float | None
    replicas: list[dict] = field(default_factory=list)

    @staticmethod
    def percentiles(values: np.ndarray, qs=(50, 90, 99)) -> dict[str, float]:
        if values.size == 0:
            return {f"p{q}": math.nan for q in qs}
        return {f"p{q}": float(np.percentile(values, q)) for q in qs}


class ServingSim:
    """Replicas (``[(deployment, count, pool), ...]``) serving a trace under a routing policy.

    ``router``: ``"round-robin"``, ``"least-loaded"`` (fewest outstanding requests), or
    ``"tiered"``: prompts of at most ``tier_threshold_tokens`` go to the pool named ``"small"``,
    the rest to ``"large"``, least-loaded within the pool.

    Prefill/decode disaggregation (Splitwise, ISCA 2024; DistServe, OSDI 2024): with pools named
    ``"prefill"`` and ``"decode"``, requests are routed (least-loaded) to the prefill pool, which
    computes the prompt and samples the first token; the KV cache then crosses ``kv_link`` (each
    GPU of the replica sends its share in parallel) to the least-loaded decode replica, which
    generates the rest. A request killed on a decode replica recomputes its prompt there.
    """

    def __init__(
        self,
        replicas: list[tuple[Deployment, int, str]] | Deployment,
        trace: Trace,
        *,
        scheduler: SchedulerConfig | None = None,
        router: str = "round-robin",
        tier_threshold_tokens: int = 1024,
        slo: SLO | None = None,
        kv_link: KVLink | None = None,
    ):
        cfg = scheduler or SchedulerConfig()
        if isinstance(replicas, Deployment):
            replicas = [(replicas, 1, "default")]
        if router not in ("round-robin", "least-loaded", "tiered"):
            raise ValueError(f"router must be round-robin, least-loaded or tiered, got {router!r}")
        self.replicas: list[Replica] = []
        for dep, count, pool in replicas:
            dep.check_fits()
            if count < 1:
                raise ValueError(f"replica count of pool {pool!r} must be >= 1, got {count}")
            for _ in range(count):
                self.replicas.append(Replica(len(self.replicas), dep, cfg, pool))
        pools = {r.pool for r in self.replicas}
        if router == "tiered" and not {"small", "large"} <= pools:
            raise ValueError(f"the tiered router needs pools named 'small' and 'large', got {sorted(pools)}")
        self.disaggregated = {"prefill", "decode"} <= pools
        if ("prefill" in pools) != ("decode" in pools):
            raise ValueError(
                f"disaggregation needs both a 'prefill' and a 'decode' pool, got {sorted(pools)}"
            )
        if self.disaggregated and kv_link is None:
            raise ValueError("prefill/decode disaggregation needs the link the KV cache crosses (kv_link)")
        self.kv_link = kv_link
        self.handoffs = 0
        self.handoff_s = 0.0
        worst = int(trace.prompt_tokens.max(initial=0)) + 1
        for rep in self.replicas:
            need = rep.kv.blocks_for(worst)
            if need > rep.kv.hbm_blocks:
                raise ValueError(
                    f"the longest prompt ({worst - 1} tokens) needs {need} KV blocks; replica {rep.index} "
                    f"({rep.dep.model.name} on {rep.dep.tp}× {rep.dep.gpu.name}) holds {rep.kv.hbm_blocks}"
                )
        self.cfg = cfg
        self.trace = trace
        self.router = router
        self.tier_threshold = tier_threshold_tokens
        self.slo = slo or SLO()
        self.q, self.kept = cfg.tokens_per_step
        self.requests = [
            Request(i, float(a), int(p), int(o), int(g), int(x), int(c))
            for i, (a, p, o, g, x, c) in enumerate(
                zip(
                    trace.arrival_s,
                    trace.prompt_tokens,
                    trace.output_tokens,
                    trace.prefix_group,
                    trace.prefix_tokens,
                    trace.priority,
                    strict=True,
                )
            )
        ]
        self.now = 0.0
        self._heap: list[tuple] = []
        self._seq = 0
        self._rr = 0
        self._next_arrival = 0
        self.prefix_hit_tokens = 0
        self.prefix_lookup_tokens = 0
        self.finished = 0
        self.arrived = 0
        self._push_next_arrival()

    # -- event queue -----------------------------------------------------------------------------
    def _push(self, t: float, prio: int, payload) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, prio, self._seq, payload))

    def _push_next_arrival(self) -> None:
        if self._next_arrival < len(self.requests):
            r = self.requests[self._next_arrival]
            self._push(r.arrival, _ARRIVAL, r)
            self._next_arrival += 1

    def run(self, until: float | None = None) -> ServingResult:
        """Process events up to ``until`` (all of them if None) and report."""
        self.run_until(math.inf if until is None else until)
        return self.result()

    def run_until(self, t_end: float) -> None:
        """Process every event at or before ``t_end``; fused spans still running are cut at the
        step in progress, so a clock change at ``t_end`` applies from the next step on."""
        heap = self._heap
        while heap and heap[0][0] <= t_end:
            t, prio, _, payload = heapq.heappop(heap)
            self.now = t
            if prio == _ARRIVAL:
                self._arrive(payload)
                self._push_next_arrival()
            elif prio == _HANDOFF:
                self._hand_over(payload)
            else:
                rep, version = payload
                if version == rep.version:
                    self._end_step(rep)
        if math.isfinite(t_end):
            self.now = max(self.now, t_end)
            for rep in self.replicas:
                self._cut_span(rep, t_end)

    # -- routing ---------------------------------------------------------------------------------
    def _route(self, req: Request) -> Replica:
        reps = self.replicas
        if self.router == "round-robin":
            rep = reps[self._rr % len(reps)]
            self._rr += 1
            return rep
        if self.disaggregated:
            reps = [r for r in reps if r.pool == "prefill"]
        elif self.router == "tiered":
            pool = "small" if req.prompt <= self.tier_threshold else "large"
            reps = [r for r in reps if r.pool == pool]
        return min(reps, key=_by_load)

    def _hand_over(self, req: Request) -> None:
        """A prefilled request reaches the least-loaded decode replica."""
        self._assign(min((r for r in self.replicas if r.pool == "decode"), key=_by_load), req)

    def _arrive(self, req: Request) -> None:
        self.arrived += 1
        self._assign(self._route(req), req)

    def _assign(self, rep: Replica, req: Request) -> None:
        """Queue ``req`` at ``rep``: an idle replica starts a step, a busy one ends its fused span
        with the step in progress so the request joins at the next step boundary."""
        rep.load += 1
        req.replica = rep.index
        self._enqueue(rep, req)
        if rep.busy:
            self._cut_span(rep, self.now)
        else:
            self._start_step(rep)

    def _enqueue(self, rep: Replica, req: Request, front: bool = False) -> None:
        req.state = WAITING
        if front:
            rep.waiting.appendleft(req)
        elif rep.waiting and rep.waiting[-1].kv.priority > req.kv.priority:
            # keep the queue ordered by class (0 first), then arrival
            items = list(rep.waiting)
            i = next(i for i, w in enumerate(items) if w.kv.priority > req.kv.priority)
            items.insert(i, req)
            rep.waiting = deque(items)
        else:
            rep.waiting.append(req)
        rep.max_queue = max(rep.max_queue, len(rep.waiting))

    # -- fused spans -----------------------------------------------------------------------------
    def _cut_span(self, rep: Replica, t: float) -> None:
        """Shorten a fused span so it ends with the step in progress at ``t``."""
        if rep.span is None:
            return
        start, a, b, k, activity, version = rep.span
        if version != rep.version or k <= 1:
            return
        tau = t - start
        # steps finished by tau: largest m with m·a + b·m(m−1)/2 <= tau
        half = a - b / 2
        m = int((-half + math.sqrt(half * half + 2 * b * tau)) / b) if b > 1e-15 else int(tau / a)
        m = max(0, min(m, k))
        while m > 0 and m * a + b * m * (m - 1) / 2 > tau:
            m -= 1
        new_k = min(k, m + 1)
        if new_k >= k:
            return
        rep.version += 1
        end = start + new_k * a + b * new_k * (new_k - 1) / 2
        rep.span = (start, a, b, new_k, activity, rep.version)
        self._push(end, _STEP_END, (rep, rep.version))

    # -- one step ----------------------------------------------------------------------------------
    def _victims(self, rep: Replica):
        return lambda: [r.kv for r in rep.running]

    def _displace(self, rep: Replica, rids: list[int]) -> float:
        """Requests swapped out or killed by the memory manager leave the running set; returns the
        time of the swap-out transfers [s]."""
        transfer = 0.0
        for rid in rids:
            req = self.requests[rid]
            if req not in rep.running:
                continue
            rep.running.remove(req)
            if req.kv.swapped:
                req.state = SWAPPED
                req.swaps += 1
                rep.swapped.append(req)
                transfer += rep.tier.transfer_s(req.kv.swapped * rep.dep.block_bytes_per_gpu)
            else:  # killed: recompute prompt + generated tokens later
                req.kills += 1
                req.target = req.prompt + int(req.generated)
                req.prefilled = 0
                req.ctx = 0.0
                self._enqueue(rep, req, front=True)
        return transfer

    def _start_step(self, rep: Replica) -> None:
        cfg, kv, now = self.cfg, rep.kv, self.now
        transfer = 0.0
        # 1. swap back in, oldest first, while memory allows
        while rep.swapped and len(rep.running) < cfg.max_num_seqs and kv.can_swap_in(rep.swapped[0].kv):
            req = rep.swapped.pop(0)
            transfer += rep.tier.transfer_s(kv.swap_in(now, req.kv) * rep.dep.block_bytes_per_gpu)
            req.state = DECODE if req.prefilled >= req.target else PREFILL
            rep.running.append(req)
        budget = cfg.max_batched_tokens
        # 2. decoding sequences, 3. continuing prefills
        decode: list[Request] = []
        prefilling: list[Request] = []
        for r in rep.running:
            (decode if r.state == DECODE else prefilling).append(r)
        budget -= len(decode) * self.q
        chunks: list[tuple[Request, int]] = []
        for r in prefilling:
            if budget <= 0:
                break
            c = min(r.target - r.prefilled, budget)
            chunks.append((r, c))
            budget -= c
        # 4. admit waiting requests
        while rep.waiting and budget > 0 and len(rep.running) < cfg.max_num_seqs:
            req = rep.waiting[0]
            handed_over = req.prefilled >= req.target  # prefilled elsewhere: it decodes at once
            # a request is admitted only if its first step fits without swapping or killing others
            # (vLLM's can_allocate); pressure comes from the growth of admitted requests
            first = kv.blocks_for(req.ctx + self.q if handed_over else min(req.target, budget))
            if first > kv.free + kv.reclaimable_blocks - kv.low_watermark_blocks:
                kv.counts["defer"] += 1
                break
            if req.kv.reserved == 0 and not kv.reserve(now, req.kv, req.prompt + cfg.max_tokens):
                break
            rep.waiting.popleft()
            rep.running.append(req)
            if handed_over:
                req.state = DECODE
                decode.append(req)
                budget -= self.q
                continue
            if cfg.prefix_caching and req.group >= 0 and req.prefilled == 0:
                hit = kv.lookup_prefix(now, req.kv, req.group, min(req.prefix, req.target - 1))
                req.prefilled = hit
                self.prefix_hit_tokens += hit
                self.prefix_lookup_tokens += req.prefix
            req.state = PREFILL
            c = min(req.target - req.prefilled, budget)
            chunks.append((req, c))
            budget -= c
        if not decode and not chunks:
            rep.busy = False
            rep.span = None
            return
        # memory for this step (allocate on first use)
        if not chunks:
            k, needs = self._span_length(rep, decode)
            if k > 1:
                self._launch_span(rep, decode, k, needs, transfer)
                return
        # (a request displaced by an earlier allocation has left PREFILL/DECODE: skip it)
        for r, c in chunks:
            if r.state != PREFILL:
                continue
            need = kv.blocks_for(r.prefilled + c) - r.kv.blocks - len(r.kv.shared)
            transfer += self._displace(rep, kv.allocate(now, r.kv, need, self._victims(rep)))
        bt, q = kv.block_tokens, self.q
        for r in decode:  # kv.blocks_for inlined: this loop runs for every sequence of every step
            need = -(-int(r.ctx + q) // bt) - r.kv.blocks - len(r.kv.shared)
            if need > 0 and r.state == DECODE:
                transfer += self._displace(rep, kv.allocate(now, r.kv, need, self._victims(rep)))
        chunks = [(r, c) for r, c in chunks if r.state == PREFILL]
        decode = [r for r in decode if r.state == DECODE]
        if not decode and not chunks:  # everything scheduled was displaced: schedule afresh
            rep.busy = False
            if rep.waiting or rep.swapped:
                self._start_step(rep)
            return
        pre_tokens = sum(c for _, c in chunks)
        pairs = sum(c * r.prefilled + c * (c + 1) / 2 for r, c in chunks)
        context = sum(r.prefilled + c for r, c in chunks)
        done = sum(1 for r, c in chunks if r.prefilled + c >= r.target)
        cost = rep.model.step(
            prefill_tokens=pre_tokens,
            prefill_pairs=pairs,
            prefill_context=context,
            prefill_done=done,
            decode_seqs=len(decode),
            decode_context=sum(r.ctx for r in decode),
            q=self.q,
            clock_mhz=rep.clock_mhz,
        )
        t = cost.time_s + transfer
        rep.busy = True
        rep.version += 1
        rep.span = None
        rep.batch = (tuple(chunks), tuple(decode), cost.activity, cost.time_s, transfer, cost.flop)
        self._push(now + t, _STEP_END, (rep, rep.version))

    def _span_length(self, rep: Replica, decode: list[Request]) -> tuple[int, list[int]]:
        """Decode-only steps that can run back to back — until the first sequence finishes, within
        the free blocks above the low watermark — and the blocks each sequence needs for them."""
        kept, q = self.kept, self.q
        k = max(1, math.ceil(min(r.output - r.generated for r in decode) / kept - 1e-9))
        if k <= 1:
            return 1, []
        bt = rep.kv.block_tokens
        room = rep.kv.free - rep.kv.low_watermark_blocks

        def needs(steps: int) -> list[int]:
            x = (steps - 1) * kept + q
            return [-(-int(r.ctx + x) // bt) - r.kv.blocks - len(r.kv.shared) for r in decode]

        per_request = needs(k)
        if sum(per_request) <= room:
            return k, per_request
        if sum(needs(1)) > room:  # one ordinary step handles the pressure (reclaim, swap, kill)
            return 1, []
        lo, hi = 1, k
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if sum(needs(mid)) <= room:
                lo = mid
            else:
                hi = mid
        return lo, needs(lo)

    def _launch_span(
        self, rep: Replica, decode: list[Request], k: int, needs: list[int], transfer: float
    ) -> None:
        kv, now = rep.kv, self.now
        allocated = 0
        for r, need in zip(decode, needs, strict=True):  # the span's blocks, taken now
            if need > 0:
                r.kv.blocks += need
                allocated += need
        kv.free -= allocated
        kv.counts["alloc"] += 1
        n = len(decode)
        ctx0 = sum(r.ctx for r in decode)
        c0 = rep.model.decode(n, ctx0, self.q, rep.clock_mhz)
        c1 = rep.model.decode(n, ctx0 + (k - 1) * n * self.kept, self.q, rep.clock_mhz)
        a = c0.time_s
        b = (c1.time_s - c0.time_s) / (k - 1)
        activity = 0.5 * (c0.activity + c1.activity)
        flop_per_step = 0.5 * (c0.flop + c1.flop)
        rep.busy = True
        rep.version += 1
        a_eff = a + transfer / k  # a swap-in transfer at the span's start, spread over it
        rep.span = (now, a_eff, b, k, activity, rep.version)
        rep.batch = ((), tuple(decode), activity, None, transfer, flop_per_step)
        self._push(now + k * a_eff + b * k * (k - 1) / 2, _STEP_END, (rep, rep.version))

    def _end_step(self, rep: Replica) -> None:
        now = self.now
        chunks, decode, activity, t_step, transfer, flop = rep.batch
        k = 1
        if rep.span is not None:
            start, _, _, k, activity, _ = rep.span
            elapsed = now - start
        else:
            elapsed = t_step + transfer
        rep.flop += flop * k
        rep.steps += k
        rep.busy_s += elapsed
        rep.activity_s += activity * elapsed
        rep.swap_s += transfer
        kept = self.kept * k
        for r, c in chunks:
            r.prefilled += c
            rep.prefill_tokens += c
            if r.prefilled >= r.target:  # the step that completes a prompt samples a token
                if math.isnan(r.t_first):
                    r.t_first = now
                if self.cfg.prefix_caching and r.group >= 0:
                    rep.kv.publish_prefix(r.kv, r.group, min(r.prefix, r.target - 1))
                r.generated += 1.0
                r.ctx = float(r.target)
                r.state = DECODE
                rep.output_tokens += 1.0
                if r.generated >= r.output:
                    self._finish(rep, r)
                elif rep.pool == "prefill" and self.disaggregated:
                    self._send_to_decode(rep, r)
        produced = 0.0
        for r in decode:
            if r.state != DECODE:
                continue
            left = r.output - r.generated
            if left > kept + 1e-9:
                r.generated += kept
                r.ctx += kept
                produced += kept
            else:  # the last tokens of this request
                r.generated = float(r.output)
                r.ctx += left
                produced += left
                self._finish(rep, r)
        rep.output_tokens += produced
        rep.busy = False
        rep.span = None
        self._start_step(rep)

    def _send_to_decode(self, rep: Replica, r: Request) -> None:
        """Free the request's cache here and ship it to the decode pool over the KV link."""
        full_bytes = (
            r.target * rep.dep.kv_bytes_per_token_per_gpu * (1 if rep.dep.model.is_mla else rep.dep.tp)
        )
        t = self.kv_link.transfer_s(full_bytes / rep.dep.tp)  # every GPU sends its share at once
        rep.load -= 1
        rep.running.remove(r)
        rep.kv.release(self.now, r.kv)
        r.state = WAITING
        self.handoffs += 1
        self.handoff_s += t
        self._push(self.now + t, _HANDOFF, r)

    def _finish(self, rep: Replica, r: Request) -> None:
        r.state = DONE
        r.t_done = self.now
        self.finished += 1
        rep.load -= 1
        rep.running.remove(r)
        rep.kv.release(self.now, r.kv)

    # -- results ---------------------------------------------------------------------------------
    def result(self) -> ServingResult:
        done = [r for r in self.requests if r.state == DONE]
        ttft = np.array([r.t_first - r.arrival for r in done])
        e2e = np.array([r.t_done - r.arrival for r in done])
        tpot = np.array([(r.t_done - r.t_first) / (r.output - 1) for r in done if r.output > 1])
        counts: dict[str, int] = {}
        log = []
        for rep in self.replicas:
            for key, v in rep.kv.counts.items():
                counts[key] = counts.get(key, 0) + v
            log += [(t, e, rid, n, rep.index) for t, e, rid, n in rep.kv.log]
        log.sort(key=lambda x: x[0])
        ok = np.ones(len(done), dtype=bool)
        slo = self.slo
        if slo.ttft_s is not None:
            ok &= ttft <= slo.ttft_s
        if slo.e2e_s is not None:
            ok &= e2e <= slo.e2e_s
        if slo.tpot_s is not None:
            per = np.array([(r.t_done - r.t_first) / max(r.output - 1, 1) for r in done])
            ok &= per <= slo.tpot_s
        duration = max((r.t_done for r in done), default=0.0) - (
            self.requests[0].arrival if self.requests else 0.0
        )
        any_slo = any(v is not None for v in (slo.ttft_s, slo.tpot_s, slo.e2e_s))
        return ServingResult(
            requests=len(self.requests),
            finished=len(done),
            duration_s=duration,
            ttft_s=ttft,
            tpot_s=tpot,
            e2e_s=e2e,
            input_tokens=sum(r.prompt for r in done),
            output_tokens=float(sum(rep.output_tokens for rep in self.replicas)),
            kills=sum(r.kills for r in self.requests),
            swaps=sum(r.swaps for r in self.requests),
            memory_events=counts,
            memory_log=log,
            prefix_hit_rate=self.prefix_hit_tokens / self.prefix_lookup_tokens
            if self.prefix_lookup_tokens
            else 0.0,
            goodput_rps=float(ok.sum()) / duration if any_slo and duration > 0 else None,
            replicas=[
                {
                    "index": rep.index,
                    "pool": rep.pool,
                    "steps": rep.steps,
                    "busy_s": rep.busy_s,
                    "activity_s": rep.activity_s,
                    "prefill_tokens": rep.prefill_tokens,
                    "output_tokens": rep.output_tokens,
                    "swap_s": rep.swap_s,
                    "max_queue": rep.max_queue,
                    "kv_blocks": rep.kv.hbm_blocks,
                }
                for rep in self.replicas
            ],
        )
