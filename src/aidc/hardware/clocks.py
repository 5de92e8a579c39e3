"""What clock a GPU may run work at during one step: the hardware's side of the coupling contract.

At the start of a step each GPU's junction temperature is known. It sets GPU Boost's ceiling
(:func:`~aidc.hardware.gpu.boost_clock_limit`, halved under hardware slowdown), and below that
ceiling the power limiter holds the board power under the cap for the activity of the work that
runs (:func:`~aidc.hardware.governor.power_limit_governor`). A workload asks :class:`ClockLimits` for
the clock of the work it is about to run, so work is always done at the clock the GPU has in the
step in which it happens.

Time scales behind this (assumptions with their evidence):

* A GPU with a job resident (a CUDA context open) keeps its working clock between kernels: with an
  inference server loaded but idle, H100 SM clocks stay at maximum boost and the board draws
  ~122 W instead of ~72 W bare (Vadari, "The Model Parking Tax", arXiv 2605.23918, 2026; SGLang
  issue #27567); a large AI cluster shows the same "execution-idle" state in ~20 % of job time
  (Lei et al., arXiv 2604.04745, 2026). So work reaching an idle replica runs at once at the
  step's clock: there is no ramp from the idle clock to model. (The model predicts
  static + leakage at the boost voltage, ~110 W at a 40 °C junction for the H100, against the
  measured ~122 W.)
* The clock transition when a job starts on a bare GPU takes tens to hundreds of milliseconds on
  Hopper (as cited from Velička et al., arXiv 2502.20075, by Lei et al. 2026 §2.2 and others): far
  below a twin step (≥ 1 s) and a job's length, so a job's work is booked from its start time.
* The power limiter settles within ~0.1 s of a change (one unreviewed V100 measurement; NVIDIA
  publishes no figure), shorter than a prefill step and comparable to a decode step, so it is
  applied to each step of work at that step's activity. Sub-step power excursions are not
  resolved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from aidc.hardware import kernels
from aidc.hardware.catalog import GPUSpec
from aidc.hardware.governor import ActivityLaw, power_limit_governor
from aidc.hardware.gpu import HW_SLOWDOWN_CLOCK_FACTOR, boost_clock_limit, gpu_power, hardware_slowdown_factor

FloatArray = NDArray[np.float64]


class GroupClock:
    """The clock limit of GPUs that run in lockstep (a tensor-parallel replica) over one step, as
    scalars. The hottest GPU of the group sets it: its leakage is the highest and its boost ceiling
    the lowest, so its clock at any activity is the group's lowest."""

    __slots__ = ("ceiling_mhz", "free_activity", "power_cap_w", "spec", "temp_c")

    def __init__(
        self, spec: GPUSpec, power_cap_w: float, temp_c: float, ceiling_mhz: float, free_activity: float
    ):
        self.spec, self.power_cap_w, self.temp_c = spec, power_cap_w, temp_c
        self.ceiling_mhz = ceiling_mhz
        self.free_activity = free_activity  # the highest activity that runs at the ceiling under the cap

    def mhz(self, activity: float) -> float:
        """The clock of work at ``activity`` [MHz]."""
        if activity <= self.free_activity:
            return self.ceiling_mhz
        f = power_limit_governor(self.power_cap_w, activity, self.temp_c, self.ceiling_mhz, self.spec)
        return float(f)


OffIntervals = tuple[FloatArray, FloatArray]
"""Each GPU's off interval within a step, run time [s]: (start, end); empty (start = end) where
the GPU is on throughout."""


@dataclass(frozen=True)
class ClockLimits:
    """The clock limits of a hall's GPUs for one step, at their junction temperatures, and the
    GPUs that are off for part or all of it (``off``: no work runs on them then)."""

    spec: GPUSpec
    power_cap_w: float
    temp_c: FloatArray
    ceiling_mhz: FloatArray
    off: OffIntervals | None = None

    @classmethod
    def at(
        cls, spec: GPUSpec, power_cap_w: float, temp_c: FloatArray, off: OffIntervals | None = None
    ) -> ClockLimits:
        if kernels.enabled() and isinstance(temp_c, np.ndarray) and temp_c.ndim == 1:
            ceiling = kernels.clock_ceiling(
                temp_c, spec.clock_max_mhz, spec.clock_idle_mhz, spec.boost_mhz_per_c,
                spec.boost_temp_start_c, spec.slowdown_temp_c, HW_SLOWDOWN_CLOCK_FACTOR,
            )  # fmt: skip
        else:
            ceiling = boost_clock_limit(temp_c, spec) * hardware_slowdown_factor(temp_c, spec)
        return cls(spec, power_cap_w, temp_c, ceiling, off)

    def clock_mhz(
        self,
        activity: ArrayLike | ActivityLaw,
        gpus: slice = slice(None),
        initial_mhz: ArrayLike | None = None,
    ) -> FloatArray:
        """The clock of each of ``gpus`` running work at ``activity`` (or whose activity follows the
        clock by an :data:`~aidc.hardware.governor.ActivityLaw`) [MHz]; ``initial_mhz``: a warm start of
        the power-limit solve, e.g. the last step's solution."""
        return power_limit_governor(
            self.power_cap_w, activity, self.temp_c[gpus], self.ceiling_mhz[gpus], self.spec, initial_mhz
        )

    def groups(self, gpus: slice, sizes: ArrayLike) -> list[GroupClock]:
        """The :class:`GroupClock` of consecutive groups of ``sizes`` GPUs starting at ``gpus.start``."""
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        temp = np.maximum.reduceat(self.temp_c[gpus], starts)
        ceiling = np.minimum.reduceat(self.ceiling_mhz[gpus], starts)
        free = free_activity(self.power_cap_w, temp, ceiling, self.spec)
        cap = self.power_cap_w
        return [
            GroupClock(self.spec, cap, float(t), float(c), float(a))
            for t, c, a in zip(temp, ceiling, free, strict=True)
        ]


def free_activity(power_cap_w: float, temp_c: ArrayLike, clock_mhz: ArrayLike, spec: GPUSpec) -> FloatArray:
    """The highest switching activity at which a GPU runs at ``clock_mhz`` without exceeding the cap
    (power is linear in activity at a fixed clock and temperature, :func:`gpu_power`); negative when
    even an idle GPU at that clock is over the cap."""
    idle_w = gpu_power(0.0, clock_mhz, temp_c, spec)
    full_w = gpu_power(1.0, clock_mhz, temp_c, spec)
    return (power_cap_w - idle_w) / (full_w - idle_w)
