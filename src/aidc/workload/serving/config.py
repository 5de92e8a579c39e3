"""How a replica schedules (vLLM's knobs, Linux's memory knobs) and the clock it may run at."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

from aidc.workload.demand import GroupClock


class SwapTier(Protocol):
    """Memory below HBM (:class:`aidc.hardware.interconnect.MemoryTier` is one)."""

    name: str
    capacity_gb: float

    def transfer_s(self, nbytes: float) -> float: ...


@dataclass(frozen=True)
class SchedulerConfig:
    max_num_seqs: int = 256
    """Sequences in a step at most (vLLM ``max_num_seqs``)."""
    max_batched_tokens: int = 8192
    """Token budget of one step (vLLM V1's default ``max_num_batched_tokens`` for serving)."""
    max_tokens: int = 4096
    """Worst-case output a request may generate: what admission reserves."""
    overcommit_ratio: float = 4.0
    """Commit limit = swap blocks + HBM blocks × this (Linux ``vm.overcommit_ratio``)."""
    low_watermark_frac: float = 0.01
    high_watermark_frac: float = 0.02
    swap_tier: SwapTier | None = None
    """Where KV blocks are swapped to (e.g. ``MEMORY_TIERS["host-dram-pcie5"]``); None: no swap,
    a memory shortfall kills at once."""
    swap_gb: float | None = None
    """Swap space per GPU [GB]; the tier's capacity if None."""
    oom_score_adj: tuple[int, ...] = ()
    """Per priority class (index), −1000…1000, as Linux's ``oom_score_adj``."""
    prefix_caching: bool = True
    mtp_acceptance: float | None = None
    """Acceptance rate of MTP drafts; None disables speculative decoding."""
    draft_tokens: int = 1
    fuse_decode_spans: bool = True
    """Run consecutive decode-only steps as one span (same results, far fewer events)."""

    def __post_init__(self) -> None:
        if self.max_num_seqs < 1 or self.max_batched_tokens < 1 or self.max_tokens < 1:
            raise ValueError(
                "max_num_seqs, max_batched_tokens and max_tokens must be >= 1, got "
                f"{self.max_num_seqs}, {self.max_batched_tokens}, {self.max_tokens}"
            )
        if not 0.0 <= self.low_watermark_frac <= self.high_watermark_frac < 0.5:
            raise ValueError(
                "need 0 <= low_watermark_frac <= high_watermark_frac < 0.5, got "
                f"{self.low_watermark_frac}, {self.high_watermark_frac}"
            )
        if self.mtp_acceptance is not None and not 0.0 <= self.mtp_acceptance <= 1.0:
            raise ValueError(f"mtp_acceptance must be in [0, 1], got {self.mtp_acceptance}")
        if self.draft_tokens < 1:
            raise ValueError(f"draft_tokens must be >= 1, got {self.draft_tokens}")
        if not self.overcommit_ratio > 0:
            raise ValueError(f"overcommit_ratio must be > 0, got {self.overcommit_ratio}")

    @property
    def tokens_per_step(self) -> tuple[int, float]:
        """(tokens verified, tokens kept) per decoding sequence and step: MTP speculative decoding
        (DeepSeek-V3 §2.2, §5.4.3) verifies ``1 + draft_tokens`` and keeps the expected count."""
        if self.mtp_acceptance is None:
            return 1, 1.0
        d, p = self.draft_tokens, self.mtp_acceptance
        # draft i is kept only if drafts 1..i all are: expected kept = 1 + p + p² + … + p^d
        return 1 + d, sum(p**i for i in range(d + 1))


class UnlimitedClock:
    """A GPU group at a fixed clock with no power limit: the serving simulator on its own (in the
    twin, :class:`aidc.hardware.clocks.GroupClock` sets the clock each step)."""

    __slots__ = ("ceiling_mhz", "free_activity")

    def __init__(self, mhz: float):
        self.ceiling_mhz = mhz
        self.free_activity = math.inf

    def mhz(self, activity: float) -> float:
        return self.ceiling_mhz


# A step's clock under the power limit (power_limited_clock): passes from the ceiling until consistent.
POWER_LIMIT_PASSES = 4
CLOCK_TOLERANCE_MHZ = 1.0


def power_limited_clock(clock: GroupClock, mhz: float, activity: float) -> tuple[float, bool]:
    """The clock for work priced at ``mhz`` with ``activity`` (above what runs at the ceiling under
    the cap), and whether the price stands: the power limit's clock for that activity; a lower clock
    stretches compute and raises activity, so the caller prices the work again there, until the
    clock moves by less than CLOCK_TOLERANCE_MHZ or POWER_LIMIT_PASSES run out."""
    limit = clock.mhz(activity)
    return (mhz, True) if limit > mhz - CLOCK_TOLERANCE_MHZ else (limit, False)
