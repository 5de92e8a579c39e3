"""Where a scenario's serving job becomes replicas: its pools, its trace, its simulator, and what
the twin reads of it each step (:class:`ServingState`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from aidc.model.presets import get_preset
from aidc.scenario import ServingJob
from aidc.units import unit_of
from aidc.workload.demand import ClockLimits, off_share
from aidc.workload.serving.config import SchedulerConfig
from aidc.workload.serving.request import SLO, PoolRole
from aidc.workload.serving.result import ServingResult
from aidc.workload.serving.simulator import Pool, ServingSim
from aidc.workload.steptime import Deployment, Device
from aidc.workload.traces import Trace, TraceError, load_trace

FloatArray = NDArray[np.float64]


class JobFieldError(ValueError):
    """A serving job that cannot be built because of one of its fields: ``field = value unit: rule``."""

    def __init__(self, field: str, value: object, rule: str):
        self.field = field
        unit = unit_of(field)
        super().__init__(f"{field} = {value!r}{' ' + unit if unit else ''}: {rule}")


@dataclass(frozen=True)
class ServingState:
    """A serving job after a step: queues, KV use and cumulative counters."""

    job: str
    gpus: slice  # the hall's GPUs the job's replicas occupy
    waiting: int  # requests queued at replicas
    running: int  # requests in a replica's batch
    swapped: int  # requests whose KV blocks are in the swap tier
    kv_used_frac: float  # KV blocks in use, mean over replicas (reclaimable prefix blocks count as free)
    prefix_cached_blocks: int
    output_tokens: float  # generated so far
    prefill_tokens: int  # prompt tokens computed so far
    arrived: int  # requests routed to a replica so far
    finished: int
    swap_outs: int
    kills: int
    requeued: int = 0  # requests moved off replicas that were lost (a fault)


@dataclass
class ServingRun:
    """One serving job of a hall: its simulator and which GPUs its replicas occupy."""

    job: ServingJob
    gpus: slice
    sim: ServingSim

    def __post_init__(self) -> None:
        self.tps = np.array([r.dep.tp for r in self.sim.replicas])  # GPUs of each replica, in order
        self._meters = np.zeros((5, len(self.sim.replicas)))  # the replicas' meters at the last advance

    def advance(self, t_s: float, dt_s: float, clocks: ClockLimits) -> tuple[FloatArray, ...]:
        """Serve ``[t_s, t_s + dt_s)`` at this step's clocks; per GPU of the job: the share of the
        step the job is resident, its activity, clock and power-limited share over that time, and
        TFLOPS over the step (the fields of :class:`~aidc.workload.demand.Demand`).

        A replica's steps run at its hottest GPU's clock (the group moves in lockstep); each GPU
        draws power at its own clock (the others finish first and wait), and between steps it holds
        its clock with no activity (see :mod:`aidc.hardware.clocks`).
        """
        job = self.job
        end = min(t_s + dt_s, job.end_s if job.end_s is not None else math.inf)
        resident_s = end - max(t_s, job.start_s)
        n = self.gpus.stop - self.gpus.start
        if resident_s <= 0.0:
            return np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
        groups = clocks.groups(self.gpus, self.tps)
        for rep, clock in zip(self.sim.replicas, groups, strict=True):
            rep.clock = clock
        off = clocks.off
        if off is not None or self._down:
            self._fail_and_restore(t_s, end, off)
        self.sim.run_until(end)
        reps = self.sim.replicas
        meters = np.array(
            [[r.busy_s, r.switching_s, r.flop, r.capped_s, r.capped_activity_s] for r in reps]
        ).T
        diffs = meters - self._meters
        self._meters = meters
        # Each GPU draws power at its own clock: its ceiling between steps and in the steps that ran
        # at the group's ceiling (cooler GPUs finish first and wait), its own limit for the activity
        # of the steps the power limit slowed; the replica's switching events spread over its cycles.
        _, switching, flop, capped, capped_act = (np.repeat(x, self.tps) for x in diffs)
        capped_activity = np.divide(capped_act, capped, out=np.zeros(n), where=capped > 0.0)
        ceiling = clocks.ceiling_mhz[self.gpus]
        limited_mhz = clocks.clock_mhz(capped_activity, self.gpus)
        on_s = np.full(n, resident_s)  # resident and on
        if off is not None:
            on_s = np.maximum(on_s - off_share((off[0][self.gpus], off[1][self.gpus]), t_s, dt_s) * dt_s, 0.0)
        live = on_s > 0.0
        share = np.divide(capped, on_s, out=np.zeros(n), where=live)
        limited = np.where(limited_mhz < ceiling - 1.0, share, 0.0)
        clock = ceiling + limited * (limited_mhz - ceiling)
        activity = np.minimum(np.divide(switching, on_s * clock, out=np.zeros(n), where=live), 1.0)
        return on_s / dt_s, activity, clock, limited, flop / dt_s / 1e12

    @property
    def _down(self) -> bool:
        return any(r.down for r in self.sim.replicas)

    def _fail_and_restore(self, t_s: float, end_s: float, off: tuple[FloatArray, FloatArray] | None) -> None:
        """Replicas whose GPUs go off within ``[t_s, end_s)`` fail when the first of them does
        (their requests go to the others), and come back, empty, when the last is on again."""
        events = []
        first = 0
        for i, (rep, tp) in enumerate(zip(self.sim.replicas, self.tps, strict=True)):
            g = slice(self.gpus.start + first, self.gpus.start + first + tp)
            first += tp
            lo, hi = (off[0][g], off[1][g]) if off is not None else (np.zeros(0), np.zeros(0))
            has = hi > lo
            if has.any():
                if not rep.down:
                    events.append((max(float(lo[has].min()), t_s), 0, i))
                if (end := float(hi[has].max())) < end_s:
                    events.append((end, 1, i))
            elif rep.down:
                events.append((t_s, 1, i))
        for t, kind, i in sorted(events):
            self.sim.run_until(t)
            (self.sim.restore if kind else self.sim.fail)(i)

    def result(self) -> ServingResult:
        return self.sim.result()

    def state(self) -> ServingState:
        reps = self.sim.replicas
        kv_used = [1.0 - (r.kv.free + r.kv.reclaimable_blocks) / r.kv.hbm_blocks for r in reps]
        return ServingState(
            job=self.job.name,
            gpus=self.gpus,
            waiting=sum(len(r.waiting) for r in reps),
            running=sum(len(r.running) for r in reps),
            swapped=sum(len(r.swapped) for r in reps),
            kv_used_frac=float(np.mean(kv_used)),
            prefix_cached_blocks=sum(r.kv.cached_blocks for r in reps),
            output_tokens=float(sum(r.output_tokens for r in reps)),
            prefill_tokens=sum(r.prefill_tokens for r in reps),
            arrived=self.sim.arrived,
            finished=self.sim.finished,
            swap_outs=sum(r.kv.counts["swap_out"] for r in reps),
            kills=sum(r.kv.counts["kill"] for r in reps),
            requeued=self.sim.requeued,
        )


def serving_pools(job: ServingJob, device: Device, links: Mapping, gpus: int) -> list[Pool]:
    """The replica pools of a serving job on ``gpus`` GPUs of ``device``: one pool; or prefill and
    decode pools (disaggregated); or, for the tiered router, the small model's pool first."""

    def deployment(model: str, tp: int) -> Deployment:
        return Deployment(
            get_preset(model),
            device,
            tp=tp,
            expert_parallel=job.expert_parallel and get_preset(model).is_moe,
            precision=job.precision,
            kv_bits=job.kv_bits,
            link=links[job.link],
            max_violation=job.max_violation,
        )

    _check_tiling(job, gpus)
    pools: list[Pool] = []
    if job.small_model is not None:
        small = deployment(job.small_model, job.small_gpus_per_replica)
        pools.append(Pool(small, job.small_replicas, PoolRole.SMALL))
        gpus -= job.small_replicas * job.small_gpus_per_replica
    dep = deployment(job.model, job.gpus_per_replica)
    replicas = gpus // job.gpus_per_replica
    if job.small_model is not None:
        pools.append(Pool(dep, replicas, PoolRole.LARGE))
    elif job.prefill_replicas is not None:
        decode = replicas - job.prefill_replicas
        pools += [Pool(dep, job.prefill_replicas, PoolRole.PREFILL), Pool(dep, decode, PoolRole.DECODE)]
    else:
        pools.append(Pool(dep, replicas, PoolRole.SERVE))
    return pools


def build_serving_run(
    job: ServingJob, device: Device, gpus: slice, links: Mapping, tiers: Mapping, seed: int = 0
) -> ServingRun:
    """The :class:`ServingRun` of a scenario's serving job on the GPUs ``gpus`` of ``device``
    (hardware objects are passed in, by name maps, from the layer that owns them); ``seed`` draws
    the shared prefixes. ``ValueError`` if the replicas do not tile the GPUs, the model does not
    fit them, or the trace does not load; :class:`JobFieldError` names the field at fault."""
    pools = serving_pools(job, device, links, gpus.stop - gpus.start)
    trace = job_trace(job, seed)
    for pool in pools:
        check_prompts_fit(job.trace, trace, pool.deployment)
    sched = SchedulerConfig(
        max_num_seqs=job.max_num_seqs,
        max_batched_tokens=job.max_batched_tokens,
        max_tokens=job.max_tokens,
        overcommit_ratio=job.overcommit_ratio,
        swap_tier=tiers[job.swap_tier] if job.swap_tier else None,
        swap_gb=job.swap_gb,
        prefix_caching=job.prefix_caching,
        mtp_acceptance=job.mtp_acceptance,
    )
    slo = SLO(job.slo_ttft_s, job.slo_tpot_s, job.slo_e2e_s)
    kv_link = links[job.kv_transfer_link] if job.prefill_replicas is not None else None
    sim = ServingSim(
        pools,
        trace,
        scheduler=sched,
        router=job.router,
        tier_threshold_tokens=job.tier_threshold_tokens,
        slo=slo,
        kv_link=kv_link,
        start_s=job.start_s,
    )
    return ServingRun(job, gpus, sim)


def _check_tiling(job: ServingJob, gpus: int) -> None:
    small_gpus = job.small_replicas * job.small_gpus_per_replica if job.small_model else 0
    if gpus - small_gpus < job.gpus_per_replica or (gpus - small_gpus) % job.gpus_per_replica:
        raise ValueError(
            f"its {gpus} GPUs (less {small_gpus} for the small model) do not split into "
            f"replicas of gpus_per_replica = {job.gpus_per_replica}"
        )
    replicas = (gpus - small_gpus) // job.gpus_per_replica
    if job.prefill_replicas is not None and job.prefill_replicas >= replicas:
        raise ValueError(
            f"prefill_replicas = {job.prefill_replicas} leaves none of its {replicas} replicas to decode"
        )


def job_trace(job: ServingJob, seed: int = 0) -> Trace:
    """The requests a serving job replays: its trace from ``trace_start_s``, at ``rate_per_s``, with
    its shared prefixes (drawn from ``seed``); :class:`JobFieldError` if they cannot be made."""
    try:
        trace = load_trace(job.trace)
    except (TraceError, OSError) as e:
        raise JobFieldError("trace", job.trace, str(e)) from None
    if len(trace) == 0:
        raise JobFieldError("trace", job.trace, "the trace has no requests")
    if job.trace_start_s:
        if job.trace_start_s > trace.duration_s:
            raise JobFieldError(
                "trace_start_s",
                job.trace_start_s,
                f"past the end of trace {trace.name}, whose last request arrives at {trace.duration_s:g} s",
            )
        trace = trace.window(job.trace_start_s, trace.duration_s + 1.0)
    if job.rate_per_s is not None:
        if not (trace.duration_s > 0.0 and math.isfinite(trace.rate_per_s)):
            raise JobFieldError(
                "rate_per_s",
                job.rate_per_s,
                f"a rate needs requests spread over time, and the {len(trace)} request(s) of trace "
                f"{trace.name} (from trace_start_s on) all arrive at once",
            )
        trace = trace.at_rate(job.rate_per_s)
    if job.shared_prefix is not None:
        sp = job.shared_prefix
        trace = trace.with_shared_prefix(groups=sp.groups, tokens=sp.tokens, share=sp.share, seed=seed)
    return trace


def check_prompts_fit(source: str, trace: Trace, dep: Deployment) -> None:
    """:class:`JobFieldError` on the field ``trace`` (its value ``source``) if the longest prompt of
    ``trace`` is longer than the model's context (``max_seq_len``, vLLM's ``max_model_len`` check)
    or, with the token after it, than the KV cache of one replica of ``dep`` holds: such a request
    could never run."""
    dep.check_fits()
    longest = int(trace.prompt_tokens.max())
    model = dep.model
    if longest > model.max_seq_len:
        raise JobFieldError(
            "trace",
            source,
            f"its longest prompt, {longest} tokens, is longer than the context of {model.name}: "
            f"{model.max_seq_len} tokens",
        )
    need = -(-(longest + 1) // dep.block_tokens)
    if need > dep.kv_blocks:
        raise JobFieldError(
            "trace",
            source,
            f"its longest prompt, {longest} tokens, and one generated token need a KV cache of "
            f"{need} blocks of {dep.block_tokens} tokens, and a replica of {model.name} on {dep.tp}× "
            f"{dep.gpu.name} holds {dep.kv_blocks}",
        )
