"""The coupling contract between a workload and the GPUs it runs on.

Once per twin step the hall calls ``demand(t_s, dt_s, clocks)`` on its workload, where ``clocks``
says what clock each GPU may run work at in this step (its temperature is known at the step's
start). The workload runs the step's work at those clocks, and books it, all of it and only it,
in this step: a training step, a burn, or the engine steps of a serving replica that fall in
``[t_s, t_s + dt_s)`` (a step or span that crosses the boundary is split at it). It returns a
:class:`Demand`: per GPU, how long a job was resident and at what activity and clock its work
ran. The hall turns that into power (:mod:`aidc.sim.hall`). Nothing else advances a workload.

The hardware side implements the two protocols below (:mod:`aidc.hardware.clocks`); the workload
layer only needs their shape.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


class GroupClock(Protocol):
    """The clock limit of GPUs that run in lockstep (a tensor-parallel replica) during one step."""

    ceiling_mhz: float  # with no power limit binding
    free_activity: float  # work at or below this activity runs at the ceiling

    def mhz(self, activity: float) -> float: ...


class ClockLimits(Protocol):
    """The clocks a hall's GPUs may run work at during one step, and the GPUs off for part or all
    of it: ``off`` is each GPU's off interval (start, end) in run time [s] (empty, start = end,
    where it is on throughout), or None when every GPU is on. No work runs on a GPU while it is off."""

    ceiling_mhz: FloatArray
    off: tuple[FloatArray, FloatArray] | None

    def clock_mhz(
        self,
        activity: ArrayLike | Callable[[FloatArray], tuple[FloatArray, FloatArray]],
        gpus: slice = ...,
        initial_mhz: ArrayLike | None = None,
    ) -> FloatArray: ...  # activity: per GPU, or a law f → (activity, d activity / d f)

    def groups(self, gpus: slice, sizes: ArrayLike) -> list[GroupClock]: ...


@dataclass(frozen=True)
class Demand:
    """What a hall's GPUs did in one step (arrays over the GPUs).

    A GPU with a job resident keeps the clock of its work between kernels (see
    :mod:`aidc.hardware.clocks`): its power over the resident share of the step is the power at
    ``activity`` and ``clock_mhz``; over the rest it idles at the idle clock. Each GPU has its own
    clock (its own temperature limits it); ``activity`` is then the share of its cycles that
    switch, so that activity × clock (the switching events per second, which set dynamic power
    with the voltage at that clock) is what the work did.
    """

    resident_frac: FloatArray  # share of the step a job was resident on the GPU [0–1]
    activity: FloatArray  # switching activity over the resident time, gaps included [0–1]
    clock_mhz: FloatArray  # clock over the resident time, time-averaged [MHz]
    limited_frac: FloatArray  # share of the resident time the power limit held the clock down [0–1]
    tflops: FloatArray  # delivered, averaged over the whole step [TFLOPS]
    partial: bool = True  # some GPU is resident for part of the step only (False: 0 or 1 everywhere)


def off_share(off: tuple[FloatArray, FloatArray], t_s: float, dt_s: float) -> FloatArray:
    """The share of ``[t_s, t_s + dt_s)`` each GPU is off, from its off interval [0–1]."""
    start, end = off
    return np.clip((np.minimum(end, t_s + dt_s) - np.maximum(start, t_s)) / dt_s, 0.0, 1.0)
