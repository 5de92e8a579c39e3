"""Jobs as per-GPU activity profiles: sustained burn, LLM training steps, idle.

Every job is described by one time-averaged step, so burn, training and idle share one
vectorized formula. A step has a compute phase that lasts ``t_c0`` at the maximum clock and
stretches as f_max/f at a lower clock, and a communication phase of ``t_m`` that does not
depend on the core clock (it waits on NVLink / InfiniBand):

    t_c(f)     = t_c0 · f_max / f
    activity   = (t_c·a_c + t_m·a_m) / (t_c + t_m)          time-averaged switching activity
    throughput = R_peak·MFU_c · t_c0 / (t_c + t_m)           delivered TFLOPS

A burn is a step with t_m = 0 (throughput ∝ clock); idle has a_c = 0 and no throughput.

A serving job is different: its GPUs run a :class:`ServingSim` (the replicas of a model serving a
request trace), advanced by one twin step at a time at the clock each replica had at the previous
step (the slowest GPU of a tensor-parallel group sets its pace). Each GPU's activity is its
replica's busy-time-weighted step activity over the twin step, and an idle replica's GPUs idle.

Validity: the averaging holds when the twin's ``dt_s`` is at least a training step (seconds);
at finer steps the phases would alternate within the step and peak power would be underestimated.
The activity uses the previous step's clock (an explicit one-step lag between demand and the
governor), which is negligible at the twin's time steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from aidc.model.presets import get_preset
from aidc.scenario import BurnJob, HallConfig, ServingJob, TrainingJob
from aidc.workload.serving import SLO, SchedulerConfig, ServingResult, ServingSim
from aidc.workload.steptime import Deployment, Device
from aidc.workload.traces import load_trace


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


@dataclass
class ServingRun:
    """One serving job of a hall: its simulator and which GPUs its replicas occupy."""

    job: ServingJob
    gpus: slice
    sim: ServingSim

    def __post_init__(self) -> None:
        n = len(self.sim.replicas)
        self.tps = np.array([r.dep.tp for r in self.sim.replicas])  # GPUs of each replica, in order
        self.group_starts = np.concatenate([[0], np.cumsum(self.tps)[:-1]])
        self.activity_s = np.zeros(n)  # per replica, at the last advance
        self.flop = np.zeros(n)

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
        )


def serving_pools(
    job: ServingJob, device: Device, links: Mapping, gpus: int
) -> list[tuple[Deployment, int, str]]:
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

    pools: list[tuple[Deployment, int, str]] = []
    if job.small_model is not None:
        pools.append((deployment(job.small_model, job.small_gpus_per_replica), job.small_replicas, "small"))
        gpus -= job.small_replicas * job.small_gpus_per_replica
    dep = deployment(job.model, job.gpus_per_replica)
    replicas = gpus // job.gpus_per_replica
    if job.small_model is not None:
        pools.append((dep, replicas, "large"))
    elif job.prefill_replicas is not None:
        pools += [(dep, job.prefill_replicas, "prefill"), (dep, replicas - job.prefill_replicas, "decode")]
    else:
        pools.append((dep, replicas, job.name))
    return pools


def build_serving_run(
    job: ServingJob, device: Device, gpus: slice, links: Mapping, tiers: Mapping, seed: int = 0
) -> ServingRun:
    """The :class:`ServingRun` of a scenario's serving job on the GPUs ``gpus`` of ``device``
    (hardware objects are passed in, by name maps, from the layer that owns them); ``seed`` draws
    the shared prefixes. ``ValueError`` if the replicas do not tile the GPUs, the model does not
    fit them, or the trace does not load."""
    count = gpus.stop - gpus.start
    _check_tiling(job, count)
    pools = serving_pools(job, device, links, count)
    trace = load_trace(job.trace)
    if job.trace_start_s:
        trace = trace.window(job.trace_start_s, trace.duration_s + 1.0)
    if job.rate_per_s is not None:
        trace = trace.at_rate(job.rate_per_s)
    if job.shared_prefix is not None:
        sp = job.shared_prefix
        trace = trace.with_shared_prefix(groups=sp.groups, tokens=sp.tokens, share=sp.share, seed=seed)
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


class HallWorkload:
    """Per-GPU job parameters of one hall, evaluated each step as arrays over its GPUs."""

    def __init__(self, hall: HallConfig, device: Device, serving: Mapping[int, ServingRun] | None = None):
        """``serving`` maps the index of each serving job of ``hall`` to its built run."""
        n = hall.gpu_count
        self.n = n
        clock_max_mhz = device.clock_max_mhz
        self.clock_max_mhz = clock_max_mhz
        self.t_c0 = np.ones(n)
        self.t_m = np.zeros(n)
        self.a_c = np.zeros(n)
        self.a_m = np.zeros(n)
        self.tflops_at_max = np.zeros(n)  # R_peak · MFU during compute at the maximum clock
        self.start_s = np.zeros(n)
        self.end_s = np.full(n, np.inf)
        self.job_index = np.full(n, -1, dtype=np.int64)
        self.job_names: list[str] = []
        self.serving: list[ServingRun] = []
        self.is_serving = np.zeros(n, dtype=bool)
        self._serving_activity = np.zeros(n)
        self._serving_tflops = np.zeros(n)
        self._advanced_to = -np.inf
        for j, (job, sl) in enumerate(zip(hall.jobs, hall.job_gpus(), strict=True)):
            self.job_names.append(job.name)
            self.job_index[sl] = j
            self.start_s[sl] = job.start_s
            self.end_s[sl] = job.end_s if job.end_s is not None else np.inf
            peak = device.peak_tflops(job.precision)
            if isinstance(job, ServingJob):
                self.serving.append(serving[j])  # built and checked by the composition root
                self.is_serving[sl] = True
            elif isinstance(job, BurnJob):
                self.a_c[sl] = job.activity_frac
                self.tflops_at_max[sl] = peak * job.mfu_frac
            elif isinstance(job, TrainingJob):
                self.t_c0[sl] = job.compute_s_at_max_clock
                self.t_m[sl] = job.comm_s
                self.a_c[sl] = job.compute_activity_frac
                self.a_m[sl] = job.comm_activity_frac
                self.tflops_at_max[sl] = peak * job.mfu_compute_frac
            # An idle job keeps the zero activity and throughput set above.
        self._active = np.zeros(n, dtype=bool)
        self._active_key: tuple[float, ...] = ()
        self._boundaries = np.unique(np.concatenate([self.start_s, self.end_s[np.isfinite(self.end_s)]]))

    def config(self) -> dict[str, object]:
        serving = [
            {"job": r.job.name, "model": r.job.model, "replicas": len(r.sim.replicas)} for r in self.serving
        ]
        return {"gpus": self.n, "jobs": self.job_names, "serving": serving}

    def active(self, t_s: float) -> NDArray[np.bool_]:
        """GPUs whose job runs at ``t_s`` (recomputed only when a job starts or ends)."""
        key = (float(np.searchsorted(self._boundaries, t_s, side="right")),)
        if key != self._active_key:
            self._active = (t_s >= self.start_s) & (t_s < self.end_s) & (self.job_index >= 0)
            self._active_key = key
        return self._active

    def _step_times(self, clock_mhz: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        t_c = self.t_c0 * (self.clock_max_mhz / np.maximum(clock_mhz, 1.0))
        return t_c, t_c + self.t_m

    def activity(self, t_s: float, clock_mhz: NDArray[np.float64], dt_s: float = 0.0) -> NDArray[np.float64]:
        """Time-averaged switching activity [0-1] of each GPU at the given clock over [t, t + dt)
        (serving jobs are advanced over that interval)."""
        t_c, step = self._step_times(clock_mhz)
        a = (t_c * self.a_c + self.t_m * self.a_m) / step
        a = np.where(self.active(t_s), a, 0.0)
        if self.serving:
            self._advance_serving(t_s, dt_s, clock_mhz)
            a = np.where(self.is_serving, self._serving_activity, a)
        return a

    def throughput_tflops(self, t_s: float, clock_mhz: NDArray[np.float64]) -> NDArray[np.float64]:
        """Delivered TFLOPS of each GPU at the given clock."""
        _, step = self._step_times(clock_mhz)
        tflops = np.where(self.active(t_s), self.tflops_at_max * self.t_c0 / step, 0.0)
        if self.serving:
            tflops = np.where(self.is_serving, self._serving_tflops, tflops)
        return tflops

    def _advance_serving(self, t_s: float, dt_s: float, clock_mhz: NDArray[np.float64]) -> None:
        if t_s <= self._advanced_to:
            return  # already advanced over this step
        if dt_s <= 0:
            raise ValueError("a hall with a serving job needs the step length (dt_s > 0)")
        self._advanced_to = t_s
        for run in self.serving:
            start = run.job.start_s
            end = min(t_s + dt_s, run.job.end_s if run.job.end_s is not None else np.inf)
            sl = run.gpus
            if end <= start:
                self._serving_activity[sl] = 0.0
                self._serving_tflops[sl] = 0.0
                continue
            tps = run.tps
            groups = np.minimum.reduceat(clock_mhz[sl], run.group_starts)
            for rep, f in zip(run.sim.replicas, groups, strict=True):
                rep.clock_mhz = max(float(f), 1.0)
            run.sim.run_until(end - start)
            busy = np.array([r.activity_s for r in run.sim.replicas])
            flop = np.array([r.flop for r in run.sim.replicas])
            span = end - max(t_s, start)
            act = (busy - run.activity_s) / span
            tflops = (flop - run.flop) / span / 1e12
            run.activity_s, run.flop = busy, flop
            self._serving_activity[sl] = np.repeat(np.clip(act, 0.0, 1.0), tps)
            self._serving_tflops[sl] = np.repeat(tflops, tps)
