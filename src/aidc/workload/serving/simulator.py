"""A deterministic discrete-event simulator of LLM serving: continuous batching on GPU replicas.

The kernel is SimPy's: a heap of ``(time, kind, seq, payload)`` events, where ``seq`` breaks ties
in insertion order, so a run is a pure function of its inputs, and ``now`` only moves forward.
This class is the only code that schedules events. Three kinds:

* a replica's step (or fused span of decode steps) *ends*: the replica settles it and starts the
  next (:class:`~aidc.workload.serving.replica.Replica`);
* a request *arrives*: the router picks a replica (:mod:`~aidc.workload.serving.routing`);
* with prefill and decode disaggregated (Splitwise, ISCA 2024; DistServe, OSDI 2024), a prefilled
  request's KV cache has crossed ``kv_link`` and is *handed over* to the least-loaded decode
  replica, which generates the rest (a request killed there recomputes its prompt there).

A request reaching a busy replica ends its fused span with the step in progress, so it joins at a
real step boundary. :meth:`ServingSim.run_until` does the same at the end of an interval, so a
clock change there applies from the next step on.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from typing import NamedTuple, Protocol

from aidc.workload.serving.config import SchedulerConfig
from aidc.workload.serving.replica import Replica
from aidc.workload.serving.request import SLO, PoolRole, Request
from aidc.workload.serving.result import ServingResult, serving_result
from aidc.workload.serving.routing import least_loaded, make_router
from aidc.workload.steptime import Deployment
from aidc.workload.traces import Trace

STEP_END, ARRIVAL, HANDOVER = 0, 1, 2  # event kinds; at equal times a step ends before an arrival


class KVLink(Protocol):
    """The path a disaggregated prefill hands its KV cache over (a :class:`Link` of the catalog)."""

    name: str

    def transfer_s(self, nbytes: float) -> float: ...


class Pool(NamedTuple):
    """Replicas of one deployment with one role."""

    deployment: Deployment
    replicas: int
    role: PoolRole = PoolRole.SERVE


class ServingSim:
    """Replicas (pools of them) serving a trace under a routing policy (:data:`ROUTERS` names).

    ``start_s`` places the trace's first arrival on the simulator's clock (a serving job's start in
    the twin's time).
    """

    def __init__(
        self,
        pools: Sequence[Pool | tuple] | Deployment,
        trace: Trace,
        *,
        scheduler: SchedulerConfig | None = None,
        router: str = "round-robin",
        tier_threshold_tokens: int = 1024,
        slo: SLO | None = None,
        kv_link: KVLink | None = None,
        start_s: float = 0.0,
    ):
        self.cfg = scheduler or SchedulerConfig()
        self.replicas = self._replicas([Pool(pools, 1)] if isinstance(pools, Deployment) else pools)
        self.router = make_router(router, self.replicas, tier_threshold_tokens)
        self.decode_pool = [r for r in self.replicas if r.role == PoolRole.DECODE]
        if self.decode_pool and kv_link is None:
            raise ValueError("prefill/decode disaggregation needs the link the KV cache crosses (kv_link)")
        _check_longest_prompt(trace, self.replicas)
        self.kv_link = kv_link
        self.slo = slo or SLO()
        self.requests = [
            Request(i, start_s + float(a), int(p), int(o), int(g), int(x), int(c))
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
        self.now = start_s
        self.held: list[Request] = []  # arrived while every replica they may go to was down
        self.arrived = self.handoffs = self.requeued = 0
        self.handoff_s = 0.0
        self._heap: list[tuple] = []
        self._seq = 0
        self._next_arrival = 0
        self._push_next_arrival()

    def _replicas(self, pools: Sequence[Pool | tuple]) -> list[Replica]:
        replicas: list[Replica] = []
        for dep, count, role in (Pool(*p) for p in pools):
            dep.check_fits()
            if count < 1:
                raise ValueError(f"replica count of pool {role!r} must be >= 1, got {count}")
            replicas += [Replica(len(replicas) + i, dep, self.cfg, PoolRole(role)) for i in range(count)]
        roles = {r.role for r in replicas}
        if (PoolRole.PREFILL in roles) != (PoolRole.DECODE in roles):
            got = sorted(r.value for r in roles)
            raise ValueError(f"disaggregation needs both a 'prefill' and a 'decode' pool, got {got}")
        return replicas

    @property
    def finished(self) -> int:
        return sum(r.finished for r in self.replicas)

    @property
    def prefix_hit_tokens(self) -> int:
        return sum(r.prefix_hit_tokens for r in self.replicas)

    # -- the kernel ------------------------------------------------------------------------------
    def _schedule(self, t: float, kind: int, payload) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (t, kind, self._seq, payload))

    def _push_next_arrival(self) -> None:
        if self._next_arrival < len(self.requests):
            r = self.requests[self._next_arrival]
            self._schedule(r.arrival_s, ARRIVAL, r)
            self._next_arrival += 1

    def run(self, until: float | None = None) -> ServingResult:
        """Process events up to ``until`` (all of them if None) and report."""
        self.run_until(math.inf if until is None else until)
        return self.result()

    def run_until(self, t_end: float) -> None:
        """Process every event at or before ``t_end``; fused spans still running are cut at the
        step in progress, so a clock change at ``t_end`` applies from the next step on, and the
        work in progress is booked up to ``t_end`` (the rest in the next interval)."""
        heap = self._heap
        while heap and heap[0][0] <= t_end:
            t, kind, _, payload = heapq.heappop(heap)
            self.now = t
            if kind == STEP_END:
                rep, version = payload
                if version == rep.version:
                    self._on_step_end(rep)
            elif kind == ARRIVAL:
                self.arrived += 1
                self._route(payload)
                self._push_next_arrival()
            else:
                self._hand_over(payload)
        if math.isfinite(t_end):
            self.now = max(self.now, t_end)
            for rep in self.replicas:
                end = rep.cut(t_end)
                if end is not None:
                    self._schedule(end, STEP_END, (rep, rep.version))
                rep.book_until(t_end)

    # -- handlers --------------------------------------------------------------------------------
    def _route(self, req: Request) -> None:
        """Queue ``req`` where the router says; hold it while every replica it may pick is down."""
        rep = self.router.route(req)
        if rep is None:
            self.held.append(req)
        else:
            self._assign(rep, req)

    def _hand_over(self, req: Request) -> None:
        """A prefilled request to the least-loaded decode replica up; with none up, its cache has
        nowhere to go and it is prefilled again."""
        rep = least_loaded(self.decode_pool)
        if rep is None:
            req.restart()
            self._route(req)
        else:
            self._assign(rep, req)

    def fail(self, index: int) -> None:
        """Replica ``index`` is lost now (its GPUs are off): what it held is queued elsewhere."""
        rep = self.replicas[index]
        if rep.down:
            return
        lost = rep.fail(self.now)
        self.requeued += len(lost)
        for req in lost:
            self._route(req)

    def restore(self, index: int) -> None:
        """Replica ``index`` is back now, empty; requests held while no replica was up go out."""
        self.replicas[index].down = False
        self._release_held()

    def limit_admission(self, share: float) -> None:
        """Let ``share`` of the replicas that take new requests (of each pool, at least one) take
        them; the others finish what they have and idle: a lever on power that scales the serving
        job in, its requests queueing at the replicas still open."""
        entry = [r for r in self.replicas if r.role != PoolRole.DECODE]
        for role in {r.role for r in entry}:
            pool = [r for r in entry if r.role == role]
            keep = max(1, math.ceil(share * len(pool) - 1e-9))
            for i, rep in enumerate(pool):
                rep.closed = i >= keep
        self._release_held()

    def _release_held(self) -> None:
        held, self.held = self.held, []
        for req in held:
            self._route(req)

    def _assign(self, rep: Replica, req: Request) -> None:
        """Queue ``req`` at ``rep``: an idle replica starts a step, a busy one ends its fused span
        with the step in progress so the request joins at the next step boundary."""
        rep.load += 1
        rep.enqueue(req)
        if rep.work is None:
            self._start(rep)
        else:
            end = rep.cut(self.now)
            if end is not None:
                self._schedule(end, STEP_END, (rep, rep.version))

    def _start(self, rep: Replica) -> None:
        work = rep.plan(self.now)
        if work is not None:
            self._schedule(work.end_s, STEP_END, (rep, work.version))

    def _on_step_end(self, rep: Replica) -> None:
        now = self.now
        rep.settle(now)
        if rep.prefilled:
            for r in rep.prefilled:
                t = self.kv_link.transfer_s(rep.dep.kv_handover_bytes_per_gpu(r.target_tokens))
                self.handoffs += 1
                self.handoff_s += t
                self._schedule(now + t, HANDOVER, r)
            rep.prefilled.clear()
        work = rep.plan(now)
        if work is not None:
            self._schedule(work.end_s, STEP_END, (rep, work.version))

    def result(self) -> ServingResult:
        return serving_result(self.requests, self.replicas, self.slo)


def _check_longest_prompt(trace: Trace, replicas: Sequence[Replica]) -> None:
    worst = int(trace.prompt_tokens.max(initial=0)) + 1
    for rep in replicas:
        need = rep.kv.blocks_for(worst)
        if need > rep.kv.hbm_blocks:
            dep = rep.dep
            raise ValueError(
                f"the longest prompt ({worst - 1} tokens) needs {need} KV blocks; replica {rep.index} "
                f"({dep.model.name} on {dep.tp}× {dep.gpu.name}) holds {rep.kv.hbm_blocks}"
            )
