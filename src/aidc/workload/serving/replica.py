"""One model replica: its queues, its KV memory, its step-time model, and how it forms a batch.

Each replica runs a vLLM-style scheduler (Kwon et al., SOSP 2023; chunked prefill as in
Sarathi-Serve, Agrawal et al., OSDI 2024). :meth:`Replica.plan` forms the next step: swap requests
back in, give each decoding sequence its token(s), continue chunked prefills, then admit waiting
requests (priority class first, then arrival) while the step's token budget, the sequence limit,
the memory manager's commit limit and the free blocks allow (a new request's first chunk must fit
without displacing anyone, vLLM's ``can_allocate``). :meth:`Replica.settle` books the step when it
ends. A request the memory manager kills is requeued at the front and recomputes its prompt and
the tokens it had generated (vLLM's recompute preemption): no request is lost.
"""

from __future__ import annotations

import math
from collections import deque

from aidc.workload.demand import GroupClock
from aidc.workload.kvmemory import KVMemory, KVRequest
from aidc.workload.serving.config import (
    POWER_LIMIT_PASSES,
    SchedulerConfig,
    UnlimitedClock,
    power_limited_clock,
)
from aidc.workload.serving.request import PoolRole, Request, RequestState
from aidc.workload.serving.spans import Work, span_steps
from aidc.workload.steptime import Deployment, StepTimeModel

WAITING, PREFILL, DECODE, SWAPPED, DONE = RequestState  # local names: the hot path compares them


class Replica:
    """One model replica: queues, memory manager, step-time model and counters."""

    def __init__(self, index: int, dep: Deployment, cfg: SchedulerConfig, role: PoolRole):
        self.index, self.dep, self.cfg, self.role = index, dep, cfg, role
        self.step_time = StepTimeModel(dep)
        self.verified, self.kept = cfg.tokens_per_step
        self.fuse = cfg.fuse_decode_spans
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
            replica=index,
        )
        self.waiting: deque[Request] = deque()
        self.running: list[Request] = []
        self.swapped: list[Request] = []
        self.clock: GroupClock = UnlimitedClock(dep.gpu.clock_max_mhz)  # set each twin step in the twin
        self.work: Work | None = None
        self.version = 0  # of the step-end event that is still valid
        self.load = 0  # requests routed here and not finished or handed over
        self.finished = 0
        self.prefilled: list[Request] = []  # for the decode pool, until the simulator ships them
        self.down = False  # its GPUs are off (a fault): it takes no requests and runs nothing
        self.closed = False  # an admission limit: it takes no new requests, finishes what it has
        # counters; busy time, activity, clock and FLOPs are booked as time passes (book_until)
        self.steps, self.busy_s = 0, 0.0
        self.activity_s = 0.0  # ∫ activity dt over busy time [s]
        self.switching_s = 0.0  # ∫ activity · clock dt over busy time: switching events [MHz·s]
        self.capped_s = 0.0  # busy time of steps the power limit slowed [s]
        self.capped_activity_s = 0.0  # ∫ activity dt over those [s]
        self.flop = 0.0  # matmul FLOPs per GPU
        self.booked_s = 0.0  # the running work is booked up to here
        self.prefill_tokens, self.output_tokens = 0, 0.0
        self.swap_s, self.max_queue = 0.0, 0
        self.prefix_hit_tokens = self.prefix_lookup_tokens = 0

    # -- queue -----------------------------------------------------------------------------------
    def enqueue(self, req: Request, front: bool = False) -> None:
        """Queue ``req``: at the front (a killed request), or by class (0 first), then arrival."""
        req.state = WAITING
        req.replica = self.index
        waiting = self.waiting
        if front:
            waiting.appendleft(req)
        elif waiting and waiting[-1].kv.priority > req.kv.priority:
            i = next(i for i, w in enumerate(waiting) if w.kv.priority > req.kv.priority)
            waiting.insert(i, req)
        else:
            waiting.append(req)
        self.max_queue = max(self.max_queue, len(waiting))

    # -- forming a step --------------------------------------------------------------------------
    def plan(self, now: float) -> Work | None:
        """Start the next step (or span) at ``now``; None if there is nothing to run."""
        while True:
            transfer = self._swap_in(now) if self.swapped else 0.0
            decode, chunks = self._schedule(now)
            if not decode and not chunks:
                self.work = None
                return None
            if not chunks and self.fuse:
                k, needs = span_steps(decode, self.kv, self.kept, self.verified)
                if k > 1:
                    return self._launch_span(now, decode, k, needs, transfer)
            moved, displaced = self._allocate(now, decode, chunks)
            transfer += moved
            if displaced:
                chunks = [(r, c) for r, c in chunks if r.state == PREFILL]
                decode = [r for r in decode if r.state == DECODE]
            if decode or chunks:
                return self._launch_step(now, decode, chunks, transfer)
            if not (self.waiting or self.swapped):  # everything scheduled was displaced
                self.work = None
                return None

    def _swap_in(self, now: float) -> float:
        """Swap requests back in, oldest first, while memory allows; the transfer time [s]."""
        transfer = 0.0
        kv, max_seqs = self.kv, self.cfg.max_num_seqs
        while self.swapped and len(self.running) < max_seqs and kv.can_swap_in(self.swapped[0].kv):
            req = self.swapped.pop(0)
            transfer += self.tier.transfer_s(kv.swap_in(now, req.kv) * self.dep.block_bytes_per_gpu)
            req.state = DECODE if req.prefilled_tokens >= req.target_tokens else PREFILL
            self.running.append(req)
        return transfer

    def _schedule(self, now: float) -> tuple[list[Request], list[tuple[Request, int]]]:
        """The step's decoding sequences and prompt chunks, admitting waiting requests."""
        budget, max_seqs = self.cfg.max_batched_tokens, self.cfg.max_num_seqs
        running, waiting = self.running, self.waiting
        decode: list[Request] = []
        prefilling: list[Request] = []
        for r in running:
            (decode if r.state == DECODE else prefilling).append(r)
        budget -= len(decode) * self.verified
        chunks: list[tuple[Request, int]] = []
        for r in prefilling:
            if budget <= 0:
                break
            c = min(r.target_tokens - r.prefilled_tokens, budget)
            chunks.append((r, c))
            budget -= c
        while waiting and budget > 0 and len(running) < max_seqs:
            req = waiting[0]
            if not self._admit(now, req, budget):
                break
            if req.state == DECODE:  # prefilled elsewhere: it decodes at once
                decode.append(req)
                budget -= self.verified
            else:
                c = min(req.target_tokens - req.prefilled_tokens, budget)
                chunks.append((req, c))
                budget -= c
        return decode, chunks

    def _admit(self, now: float, req: Request, budget: int) -> bool:
        """Move the head of the queue into the batch if its first step fits without swapping or
        killing others (pressure comes from the growth of admitted requests)."""
        kv = self.kv
        handed_over = req.prefilled_tokens >= req.target_tokens
        tokens = req.context_tokens + self.verified if handed_over else min(req.target_tokens, budget)
        if kv.blocks_for(tokens) > kv.free + kv.reclaimable_blocks - kv.low_watermark_blocks:
            kv.counts["defer"] += 1
            return False
        if req.kv.reserved == 0 and not kv.reserve(now, req.kv, req.prompt_tokens + self.cfg.max_tokens):
            return False
        self.waiting.popleft()
        self.running.append(req)
        if handed_over:
            req.state = DECODE
            return True
        if self.cfg.prefix_caching and req.prefix_group >= 0 and req.prefilled_tokens == 0:
            cap = min(req.prefix_tokens, req.target_tokens - 1)
            hit = kv.lookup_prefix(now, req.kv, req.prefix_group, cap)
            req.prefilled_tokens = hit
            self.prefix_hit_tokens += hit
            self.prefix_lookup_tokens += req.prefix_tokens
        req.state = PREFILL
        return True

    def _allocate(
        self, now: float, decode: list[Request], chunks: list[tuple[Request, int]]
    ) -> tuple[float, list[int]]:
        """Blocks for this step (allocate on first use); the swap-out transfer time [s] and the ids
        of the requests displaced. A request displaced by an earlier allocation of the step is skipped."""
        kv, transfer, displaced = self.kv, 0.0, []
        for r, c in chunks:
            if r.state == PREFILL:
                rids = kv.allocate(now, r.kv, kv.shortfall(r.kv, r.prefilled_tokens + c), self._victims)
                if rids:
                    transfer += self._displace(now, rids)
                    displaced += rids
        n = len(displaced)
        kv.grow(now, decode, self.verified, self._victims, displaced)
        return transfer + self._displace(now, displaced[n:]), displaced

    def _victims(self) -> list[KVRequest]:
        return [r.kv for r in self.running]

    def _displace(self, now: float, rids: list[int]) -> float:
        """Requests swapped out or killed by the memory manager leave the batch; returns the
        time of the swap-out transfers [s]."""
        transfer = 0.0
        for rid in rids:
            req = next((r for r in self.running if r.rid == rid), None)
            if req is None:
                continue
            self.running.remove(req)
            if req.kv.swapped:
                req.state = SWAPPED
                req.swaps += 1
                self.swapped.append(req)
                transfer += self.tier.transfer_s(req.kv.swapped * self.dep.block_bytes_per_gpu)
            else:  # killed: recompute prompt + generated tokens later
                req.kills += 1
                req.restart()
                self.enqueue(req, front=True)
        return transfer

    def _launch_step(
        self, now: float, decode: list[Request], chunks: list[tuple[Request, int]], transfer: float
    ) -> Work:
        pre_tokens = sum([c for _, c in chunks])
        pairs = sum([c * r.prefilled_tokens + c * (c + 1) / 2 for r, c in chunks])
        context = sum([r.prefilled_tokens + c for r, c in chunks])
        done = sum([1 for r, c in chunks if r.prefilled_tokens + c >= r.target_tokens])
        dec_context = sum([r.context_tokens for r in decode])
        clock = self.clock
        f = clock.ceiling_mhz
        for _ in range(POWER_LIMIT_PASSES):
            # positional, in the order of StepTimeModel.step's parameters (prefill tokens, pairs,
            # context, prompts done, decode sequences, context, tokens per sequence, clock)
            cost = self.step_time.step(
                pre_tokens, pairs, context, done, len(decode), dec_context, self.verified, f
            )
            if cost.activity <= clock.free_activity:
                break
            f, settled = power_limited_clock(clock, f, cost.activity)
            if settled:
                break
        self.version += 1
        self.work = Work(  # positional: keyword binding of 12 arguments costs ~3 % of a run
            now,  # start_s
            cost.time_s + transfer,  # first_s
            0.0,  # growth_s
            1,  # steps
            cost.activity,  # activity
            f,  # clock_mhz
            f < self.clock.ceiling_mhz,  # capped
            cost.flop,  # flop_per_step
            transfer,  # transfer_s
            tuple(chunks),  # chunks
            tuple(decode),  # decode
            self.version,  # version
        )
        return self.work

    def _launch_span(
        self, now: float, decode: list[Request], k: int, needs: list[int], transfer: float
    ) -> Work:
        """A span of ``k`` decode steps: its blocks are taken now, its step time is linear in the
        context between the first and the last step."""
        self.kv.take(now, decode, needs)
        n = len(decode)
        ctx0 = sum([r.context_tokens for r in decode])  # a list: faster than a generator here
        ctx1 = ctx0 + (k - 1) * n * self.kept
        clock = self.clock
        f = clock.ceiling_mhz
        for _ in range(POWER_LIMIT_PASSES):  # one clock for the span, at its mean activity
            c0, c1 = self.step_time.decode_span(n, ctx0, ctx1, self.verified, f)
            activity = 0.5 * (c0.activity + c1.activity)
            if activity <= clock.free_activity:
                break
            f, settled = power_limited_clock(clock, f, activity)
            if settled:
                break
        self.version += 1
        self.work = Work(  # positional: keyword binding of 12 arguments costs ~3 % of a run
            now,  # start_s
            c0.time_s + transfer / k,  # first_s
            (c1.time_s - c0.time_s) / (k - 1),  # growth_s
            k,  # steps
            activity,  # activity
            f,  # clock_mhz
            f < self.clock.ceiling_mhz,  # capped
            0.5 * (c0.flop + c1.flop),  # flop_per_step
            transfer,  # transfer_s
            (),  # chunks
            tuple(decode),  # decode
            self.version,  # version
        )
        return self.work

    def cut(self, t_s: float) -> float | None:
        """End a running span with the step in progress at ``t_s``; its new end [s], or None."""
        work = self.work
        if work is None or not work.cut_at(t_s):
            return None
        self.version += 1
        work.version = self.version
        return work.end_s

    # -- settling a step -------------------------------------------------------------------------
    def book_until(self, t_s: float) -> None:
        """Book the running work's busy time, activity, clock and FLOPs up to ``t_s`` (its part of
        an interval that ends before the work does is booked in that interval)."""
        work = self.work
        if work is None:
            return
        start = work.start_s if work.start_s > self.booked_s else self.booked_s
        span = (t_s if t_s < work.end_s else work.end_s) - start
        if span <= 0.0:
            return
        self.busy_s += span
        self.activity_s += work.activity * span
        self.switching_s += work.activity * work.clock_mhz * span
        if work.capped:
            self.capped_s += span
            self.capped_activity_s += work.activity * span
        flop = work.flop_per_step * work.steps * span / work.duration_s
        self.flop += flop
        work.booked_flop += flop
        self.booked_s = start + span

    def settle(self, now: float) -> None:
        """Book the step (or span) that ends at ``now``: tokens, first tokens, finished requests;
        a prefill replica's completed prompts wait in ``prefilled`` for the decode pool."""
        self.book_until(now)
        work = self.work
        self.work = None
        self.flop += work.flop_per_step * work.steps - work.booked_flop  # exact over the whole work
        self.steps += work.steps
        self.swap_s += work.transfer_s
        for r, c in work.chunks:
            self._prefilled(now, r, c)
        kept = self.kept * work.steps
        produced = 0.0
        for r in work.decode:
            if r.state != DECODE:
                continue
            left = r.output_tokens - r.generated_tokens
            if left > kept + 1e-9:
                r.generated_tokens += kept
                r.context_tokens += kept
                produced += kept
            else:  # the last tokens of this request
                r.generated_tokens = float(r.output_tokens)
                r.context_tokens += left
                produced += left
                self._finish(now, r)
        self.output_tokens += produced

    def _prefilled(self, now: float, r: Request, c: int) -> None:
        r.prefilled_tokens += c
        self.prefill_tokens += c
        if r.prefilled_tokens < r.target_tokens:
            return
        # the step that completes a prompt samples a token
        if math.isnan(r.first_token_s):
            r.first_token_s = now
        if self.cfg.prefix_caching and r.prefix_group >= 0:
            self.kv.publish_prefix(r.kv, r.prefix_group, min(r.prefix_tokens, r.target_tokens - 1))
        r.generated_tokens += 1.0
        r.context_tokens = float(r.target_tokens)
        r.state = DECODE
        self.output_tokens += 1.0
        if r.generated_tokens >= r.output_tokens:
            self._finish(now, r)
        elif self.role == PoolRole.PREFILL:
            self._release(now, r)
            r.state = WAITING
            self.prefilled.append(r)

    def _finish(self, now: float, r: Request) -> None:
        r.state = DONE
        r.done_s = now
        self.finished += 1
        self._release(now, r)

    def _release(self, now: float, r: Request) -> None:
        self.load -= 1
        self.running.remove(r)
        self.kv.release(now, r.kv)

    def fail(self, now: float) -> list[Request]:
        """Its GPUs are lost at ``now``: the work in progress is booked up to ``now`` (energy and
        FLOPs spent, tokens never come) and the KV memory is lost; every request it held is
        returned to be queued elsewhere, to recompute its cache (none is lost)."""
        self.book_until(now)
        self.work, self.version, self.load, self.down = None, self.version + 1, 0, True
        held = [*self.running, *self.swapped, *self.waiting]
        self.kv.lose(now, [r.kv for r in held])
        self.running, self.swapped, self.waiting = [], [], deque()
        for r in held:
            r.requeues += 1
            r.restart()
        return held
