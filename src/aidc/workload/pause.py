"""Pausing and resuming a flexible training job, with what a checkpoint costs.

A training job that may be deferred (``flexible``), with the work it must deliver (``work_pflop``:
it ends when that is done), is paused by writing a checkpoint (its GPUs
stay busy for ``checkpoint_s`` and deliver no training work), then idles; it is resumed by
reading it back (``restore_s`` of the same), then trains. A pause during a restore abandons it
(nothing new to save); a resume during a save lets the save finish and trains on from memory.
The save and restore run at the job's communication activity (I/O-bound: the GPUs mostly wait on
storage and the network; an assumption), and their lengths are the scenario's, whose defaults are
assumptions to set from a job's own logs.

:class:`JobSchedule` keeps one job's phases on the twin's time base, so a step books exactly the
share of it spent in each, whatever its length.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field


class Phase(enum.Enum):
    RUN = "run"
    SAVE = "save"  # writing the checkpoint
    PAUSED = "paused"
    RESTORE = "restore"  # reading it back
    DONE = "done"  # its work is delivered: the job has ended


@dataclass
class JobSchedule:
    """One flexible job's phases over time: ``(start_s, phase)`` in order, each lasting until the
    next starts."""

    checkpoint_s: float
    restore_s: float
    target_pflop: float | None = None  # the job ends once it has delivered this much work
    done_pflop: float = 0.0
    segments: list[tuple[float, Phase]] = field(default_factory=lambda: [(-math.inf, Phase.RUN)])

    def phase_at(self, t_s: float) -> Phase:
        phase = self.segments[0][1]
        for start, p in self.segments:
            if start > t_s:
                break
            phase = p
        return phase

    @property
    def paused(self) -> bool:
        """Paused or on its way there (the last command was a pause)."""
        return self.segments[-1][1] in (Phase.SAVE, Phase.PAUSED)

    def _cut(self, t_s: float) -> None:
        """Drop what was scheduled from ``t_s`` on (a new command replaces it)."""
        while len(self.segments) > 1 and self.segments[-1][0] >= t_s:
            self.segments.pop()

    @property
    def remaining_frac(self) -> float:
        """The share of its work still to do (0 without a target)."""
        if self.target_pflop is None:
            return 0.0
        return max(1.0 - self.done_pflop / self.target_pflop, 0.0)

    def finish(self, t_s: float) -> None:
        """The job's work is done at ``t_s``: nothing runs after it."""
        self._cut(t_s)
        self.segments.append((t_s, Phase.DONE))

    def pause(self, t_s: float) -> None:
        """Pause from ``t_s``: save a checkpoint, then idle (a restore in progress is abandoned)."""
        phase = self.phase_at(t_s)
        if phase in (Phase.SAVE, Phase.PAUSED, Phase.DONE):
            return
        self._cut(t_s)
        if phase is Phase.RESTORE:
            self.segments.append((t_s, Phase.PAUSED))
            return
        self.segments += [(t_s, Phase.SAVE), (t_s + self.checkpoint_s, Phase.PAUSED)]

    def resume(self, t_s: float) -> None:
        """Resume from ``t_s``: restore, then train (a save in progress finishes, then it trains on)."""
        phase = self.phase_at(t_s)
        if phase in (Phase.RUN, Phase.RESTORE, Phase.DONE):
            return
        if phase is Phase.SAVE:
            save_end = next(s for s, p in self.segments if p is Phase.PAUSED and s > t_s)
            self._cut(save_end)
            self.segments.append((save_end, Phase.RUN))
            return
        self._cut(t_s)
        self.segments += [(t_s, Phase.RESTORE), (t_s + self.restore_s, Phase.RUN)]

    def shares(self, t_s: float, dt_s: float) -> tuple[float, float]:
        """The shares of ``[t_s, t_s + dt_s)`` training and saving or restoring [0–1]."""
        end = t_s + dt_s
        run = io = 0.0
        bounds = [*self.segments[1:], (math.inf, Phase.RUN)]
        for (start, phase), (stop, _) in zip(self.segments, bounds, strict=True):
            overlap = min(stop, end) - max(start, t_s)
            if overlap <= 0.0:
                continue
            if phase is Phase.RUN:
                run += overlap
            elif phase in (Phase.SAVE, Phase.RESTORE):
                io += overlap
        return run / dt_s, io / dt_s
