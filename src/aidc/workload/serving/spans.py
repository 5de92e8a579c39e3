"""What a replica is running, one engine step or a fused span of decode steps, and the span arithmetic.

A decode-only step is fused with the following decode-only steps until the first sequence
finishes, memory runs short, or a new request reaches the replica (the span is then cut at the
step in progress). Within a span the step time grows linearly with the context, ``t_i = a + b·i``
for step ``i = 0 … k−1``, so the span's duration is a closed-form sum and a cut lands on a real
step boundary. A single step is the span ``k = 1, b = 0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from aidc.workload.kvmemory import KVMemory
from aidc.workload.serving.request import Request


def span_duration_s(first_s: float, growth_s: float, steps: int) -> float:
    """Σ_{i<k} (a + b·i) = k·a + b·k(k−1)/2 [s]."""
    return steps * first_s + growth_s * steps * (steps - 1) / 2


def steps_done_by(elapsed_s: float, first_s: float, growth_s: float, steps: int) -> int:
    """Steps of a span finished ``elapsed_s`` after its start: the largest m ≤ k with
    m·a + b·m(m−1)/2 ≤ elapsed (the root of the quadratic, corrected for rounding)."""
    half = first_s - growth_s / 2
    if growth_s > 1e-15:
        m = int((-half + math.sqrt(half * half + 2 * growth_s * elapsed_s)) / growth_s)
    else:
        m = int(elapsed_s / first_s)
    m = max(0, min(m, steps))
    while m > 0 and span_duration_s(first_s, growth_s, m) > elapsed_s:
        m -= 1
    return m


class Work:
    """The engine step, or span of decode steps, a replica is running (slots: one per event)."""

    __slots__ = (
        "activity",
        "booked_flop",
        "capped",
        "chunks",
        "clock_mhz",
        "decode",
        "duration_s",
        "dynamic",
        "end_s",
        "first_s",
        "flop_per_step",
        "growth_s",
        "start_s",
        "steps",
        "transfer_s",
        "version",
    )

    def __init__(
        self,
        start_s: float,
        first_s: float,
        growth_s: float,
        steps: int,
        activity: float,
        clock_mhz: float,
        capped: bool,
        flop_per_step: float,
        transfer_s: float,
        chunks: tuple[tuple[Request, int], ...],
        decode: tuple[Request, ...],
        version: int,
    ):
        self.start_s = start_s
        self.first_s = first_s  # the first step, with any swap-in transfer spread over the span [s]
        self.growth_s = growth_s  # how much longer each further step is [s]
        self.steps = steps
        self.activity = activity  # mean switching activity, for the power model [0–1]
        self.clock_mhz = clock_mhz  # the clock it runs at
        self.booked_flop = 0.0  # FLOPs booked so far in earlier intervals
        self.capped = capped  # the power limit set its clock
        self.flop_per_step = flop_per_step  # matmul FLOPs each GPU executes per step
        self.transfer_s = transfer_s  # swap transfers inside the span [s]
        self.chunks = chunks  # prompt chunks (request, tokens)
        self.decode = decode  # sequences decoding
        self.version = version  # of the step-end event that is still valid
        self.duration_s = steps * first_s + growth_s * steps * (steps - 1) / 2  # span_duration_s, inlined
        self.end_s = start_s + self.duration_s

    def cut_at(self, t_s: float) -> bool:
        """End the span with the step in progress at ``t_s``; False if it already ends there."""
        if self.steps <= 1:
            return False
        done = steps_done_by(t_s - self.start_s, self.first_s, self.growth_s, self.steps)
        steps = min(self.steps, done + 1)
        if steps >= self.steps:
            return False
        self.steps = steps
        self.duration_s = span_duration_s(self.first_s, self.growth_s, steps)
        self.end_s = self.start_s + self.duration_s
        return True


def span_steps(decode: Sequence[Request], kv: KVMemory, kept: float, verified: int) -> tuple[int, list[int]]:
    """Decode-only steps that can run back to back, and the blocks each sequence needs for them.

    A span lasts until the first sequence finishes, within the free blocks above the low
    watermark; each step verifies ``verified`` tokens per sequence and keeps ``kept`` on average.
    ``(1, [])`` when one ordinary step should run instead (it handles memory pressure: reclaim,
    swap, kill).
    """
    k = max(1, math.ceil(min([r.output_tokens - r.generated_tokens for r in decode]) / kept - 1e-9))
    if k <= 1:
        return 1, []
    room = kv.free - kv.low_watermark_blocks
    per_request = kv.shortfalls(decode, (k - 1) * kept + verified)
    if sum(per_request) <= room:
        return k, per_request
    if sum(kv.shortfalls(decode, verified)) > room:
        return 1, []
    lo, hi = 1, k
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if sum(kv.shortfalls(decode, (mid - 1) * kept + verified)) <= room:
            lo = mid
        else:
            hi = mid
    return lo, kv.shortfalls(decode, (lo - 1) * kept + verified)
