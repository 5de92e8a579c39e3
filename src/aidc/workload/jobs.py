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

import numpy as np
from numpy.typing import NDArray

from aidc.scenario import BurnJob, HallConfig, ServingJob, TrainingJob
from aidc.workload.serving.deploy import ServingRun
from aidc.workload.steptime import Device


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
            run.sim.run_until(end)
            busy = np.array([r.activity_s for r in run.sim.replicas])
            flop = np.array([r.flop for r in run.sim.replicas])
            span = end - max(t_s, start)
            act = (busy - run.activity_s) / span
            tflops = (flop - run.flop) / span / 1e12
            run.activity_s, run.flop = busy, flop
            self._serving_activity[sl] = np.repeat(np.clip(act, 0.0, 1.0), tps)
            self._serving_tflops[sl] = np.repeat(tflops, tps)
