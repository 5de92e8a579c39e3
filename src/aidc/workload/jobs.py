"""A hall's jobs as per-GPU arrays, and its one call of the coupling contract, :meth:`HallWorkload.demand`.

Burn, training and idle jobs are described by one time-averaged step, so they share one
vectorized formula. A step has a compute phase that lasts ``t_c0`` at the maximum clock and
stretches as f_max/f at a lower clock, and a communication phase of ``t_m`` that does not
depend on the core clock (it waits on NVLink / InfiniBand):

    t_c(f)     = t_c0 · f_max / f
    activity   = (t_c·a_c + t_m·a_m) / (t_c + t_m)          time-averaged switching activity
    throughput = R_peak·MFU_c · t_c0 / (t_c + t_m)           delivered TFLOPS

A burn is a step with t_m = 0 (throughput ∝ clock); idle has a_c = 0 and no throughput. The
clock depends on the activity through the power limit and the activity on the clock through t_c,
so each step solves both together: the power limit's Newton iteration takes the activity as a
function of the clock (:data:`~aidc.hardware.governor.ActivityLaw`).

A serving job's GPUs run a :class:`~aidc.workload.serving.ServingSim`, advanced over the step at
the step's clocks (:meth:`~aidc.workload.serving.deploy.ServingRun.advance`).

Validity: the averaging holds when the twin's ``dt_s`` is at least a training step (seconds);
at finer steps the phases would alternate within the step and peak power would be underestimated.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from aidc.hardware.governor import RationalActivity
from aidc.scenario import BurnJob, HallConfig, IdleJob, ServingJob, TrainingJob
from aidc.workload.demand import ClockLimits, Demand, off_share
from aidc.workload.pause import JobSchedule
from aidc.workload.serving.deploy import ServingRun
from aidc.workload.steptime import Device

FloatArray = NDArray[np.float64]


class HallWorkload:
    """Per-GPU job parameters of one hall, and the serving jobs running on it."""

    def __init__(self, hall: HallConfig, device: Device, serving: Mapping[int, ServingRun] | None = None):
        """``serving`` maps the index of each serving job of ``hall`` to its built run."""
        n = hall.gpu_count
        self.n = n
        self.clock_max_mhz = device.clock_max_mhz
        self.clock_idle_mhz = device.clock_idle_mhz
        self.t_c0 = np.ones(n)
        self.t_m = np.zeros(n)
        self.a_c = np.zeros(n)
        self.a_m = np.zeros(n)
        self.tflops_at_max = np.zeros(n)  # R_peak · MFU during compute at the maximum clock
        self.start_s = np.full(n, np.inf)  # GPUs without a job are never resident
        self.end_s = np.full(n, np.inf)
        self.job_names: list[str] = []
        self.serving: list[ServingRun] = []
        self._lockstep: list[slice] = []  # training jobs: all their GPUs wait for the slowest
        self.schedules: dict[str, tuple[slice, JobSchedule]] = {}  # flexible jobs: pause / resume
        serving = serving or {}
        for j, (job, sl) in enumerate(zip(hall.jobs, hall.job_gpus(), strict=True)):
            self.job_names.append(job.name)
            if isinstance(job, ServingJob):
                self.serving.append(serving[j])  # built and checked by the composition root
                continue
            if isinstance(job, IdleJob):
                continue  # reserved GPUs with nothing resident: they idle at the idle clock
            self.start_s[sl] = job.start_s
            self.end_s[sl] = job.end_s if job.end_s is not None else np.inf
            peak = device.peak_tflops(job.precision)
            if isinstance(job, BurnJob):
                self.a_c[sl] = job.activity_frac
                self.tflops_at_max[sl] = peak * job.mfu_frac
            elif isinstance(job, TrainingJob):
                self._lockstep.append(sl)
                if job.flexible:
                    schedule = JobSchedule(job.checkpoint_s, job.restore_s, job.work_pflop)
                    self.schedules[job.name] = (sl, schedule)
                self.t_c0[sl] = job.compute_s_at_max_clock
                self.t_m[sl] = job.comm_s
                self.a_c[sl] = job.compute_activity_frac
                self.a_m[sl] = job.comm_activity_frac
                self.tflops_at_max[sl] = peak * job.mfu_compute_frac
        # Each GPU's activity at a clock f: with t_c = t_c0·f_max/f, a = (t_c·a_c + t_m·a_m)/(t_c + t_m)
        # = (A + B·f)/(C + D·f), A = t_c0·f_max·a_c, B = t_m·a_m, C = t_c0·f_max, D = t_m
        c = self.t_c0 * self.clock_max_mhz
        self.activity_law = RationalActivity.of(c * self.a_c, self.t_m * self.a_m, c, self.t_m)
        self._boundaries = np.unique(np.concatenate([self.start_s, self.end_s]))
        self._boundaries = self._boundaries[np.isfinite(self._boundaries)]
        self._resident_key: tuple[int, int] | None = None
        self._resident = np.zeros(n)
        self._idle = True
        self._clock_mhz: FloatArray | None = None  # the last step's solution (warm start)

    def config(self) -> dict[str, object]:
        serving = [
            {"job": r.job.name, "model": r.job.model, "replicas": len(r.sim.replicas)} for r in self.serving
        ]
        return {"gpus": self.n, "jobs": self.job_names, "serving": serving}

    def resident_frac(self, t_s: float, dt_s: float) -> FloatArray:
        """Share of ``[t_s, t_s + dt_s)`` each GPU has a (non-serving) job resident; recomputed only
        for steps that contain a job's start or end."""
        key = tuple(np.searchsorted(self._boundaries, (t_s, t_s + dt_s), side="right").tolist())
        if key != self._resident_key or key[0] != key[1]:
            overlap = np.minimum(self.end_s, t_s + dt_s) - np.maximum(self.start_s, t_s)
            self._resident = np.minimum(np.maximum(overlap / dt_s, 0.0), 1.0)
            self._resident_key = key
            self._idle = bool((self._resident <= 0.0).any())  # some GPU has no job resident
        return self._resident

    def profile(self, clock_mhz: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Time-averaged switching activity [0–1] and delivered TFLOPS (while resident) of each
        GPU's (non-serving) job at a clock [MHz]."""
        t_c = self.t_c0 * (self.clock_max_mhz / np.maximum(clock_mhz, 1.0))
        step = t_c + self.t_m
        return (t_c * self.a_c + self.t_m * self.a_m) / step, self.tflops_at_max * self.t_c0 / step

    def _off_share(self, off: tuple[FloatArray, FloatArray], t_s: float, dt_s: float) -> FloatArray:
        """The share of the step each GPU's (non-serving) job cannot run: its GPU is off, or, for
        a training job, any of the job's GPUs is (a synchronous job stops while one rank is gone;
        what it had done since its last checkpoint is not lost in this model)."""
        share = off_share(off, t_s, dt_s)
        for sl in self._lockstep:
            share[sl] = share[sl].max(initial=0.0)
        return share

    def _paused(
        self, t_s: float, dt_s: float, resident: FloatArray, activity: FloatArray, tflops: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, bool]:
        """Flexible jobs' shares of the step training, saving or restoring, and idle: resident is
        training plus I/O, at the communication activity while in I/O; TFLOPS (per resident
        second, scaled by the caller) only from training. True if any job is not training
        throughout."""
        resident, activity, tflops = resident.copy(), activity.copy(), tflops.copy()
        partial = False
        for sl, schedule in self.schedules.values():
            run, io = schedule.shares(t_s, dt_s)
            if schedule.target_pflop is not None and run > 0.0:
                full_pflop = float(np.dot(tflops[sl], resident[sl])) * dt_s / 1e3
                run = _book_work(schedule, run, full_pflop, t_s + dt_s)
            if run >= 1.0:
                continue
            partial = True
            busy = run + io
            activity[sl] = (run * activity[sl] + io * self.a_m[sl]) / busy if busy > 0.0 else 0.0
            tflops[sl] = tflops[sl] * run / busy if busy > 0.0 else 0.0
            resident[sl] = resident[sl] * busy
        return resident, activity, tflops, partial

    def pause(self, job: str, t_s: float) -> None:
        """Pause flexible job ``job`` from ``t_s`` (a checkpoint first)."""
        self._schedule(job).pause(t_s)

    def resume(self, job: str, t_s: float) -> None:
        """Resume flexible job ``job`` from ``t_s`` (a restore first)."""
        self._schedule(job).resume(t_s)

    def _schedule(self, job: str) -> JobSchedule:
        if job not in self.schedules:
            flexible = ", ".join(self.schedules) or "none"
            raise ValueError(f"job {job!r} is not a flexible training job; flexible jobs: {flexible}")
        return self.schedules[job][1]

    def demand(self, t_s: float, dt_s: float, clocks: ClockLimits) -> Demand:
        """Run ``[t_s, t_s + dt_s)`` at the clocks ``clocks`` allows: the coupling contract
        (:mod:`aidc.workload.demand`)."""
        # the clock and the activity it gives solved together under the power limit
        clock = clocks.clock_mhz(self.activity_law, initial_mhz=self._clock_mhz)
        activity, tflops = self.profile(clock)
        self._clock_mhz = clock
        resident = self.resident_frac(t_s, dt_s)
        if clocks.off is not None:
            resident = resident * (1.0 - self._off_share(clocks.off, t_s, dt_s))
        paused = False
        if self.schedules:
            resident, activity, tflops, paused = self._paused(t_s, dt_s, resident, activity, tflops)
        tflops = tflops * resident
        limited = (clock < clocks.ceiling_mhz - 1.0).astype(np.float64)
        if self.serving:
            parts = [x.copy() for x in (resident, activity, clock, limited, tflops)]
            for run in self.serving:
                for whole, part in zip(parts, run.advance(t_s, dt_s, clocks), strict=True):
                    whole[run.gpus] = part
            resident, activity, clock, limited, tflops = parts
        if self._idle or self.serving:  # GPUs with no job resident: the idle clock, no activity
            idle = resident <= 0.0
            activity = np.where(idle, 0.0, activity)
            clock = np.where(idle, self.clock_idle_mhz, clock)
            limited = np.where(idle, 0.0, limited)
        partial = bool(self.serving) or paused or self._resident_key[0] != self._resident_key[1]
        return Demand(resident, activity, clock, limited, tflops, partial)


def _book_work(schedule: JobSchedule, run: float, full_pflop: float, step_end_s: float) -> float:
    """Book a targeted job's work for a step in which it trains ``run`` of the time and would
    deliver ``full_pflop`` training throughout; the share it trains, cut where its work is done
    (it then ends, from the step's end on)."""
    work = run * full_pflop
    left = schedule.target_pflop - schedule.done_pflop
    if work < left:
        schedule.done_pflop += work
        return run
    schedule.done_pflop = schedule.target_pflop
    schedule.finish(step_end_s)
    share = left / work if work > 0.0 else 0.0
    return run * share if share > 1e-9 else 0.0  # a remainder under a billionth of the step: none
