"""Requests, their states, the roles of replica pools, and service-level objectives."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from aidc.workload.kvmemory import KVRequest


class RequestState(IntEnum):
    WAITING = 0  # queued at a replica (or in flight to a decode replica)
    PREFILL = 1  # its prompt is being computed, chunk by chunk
    DECODE = 2  # generating
    SWAPPED = 3  # its KV blocks are in the swap tier
    DONE = 4


class PoolRole(StrEnum):
    """What a pool of replicas does: serve whole requests, or one tier or phase of them."""

    SERVE = "serve"  # prefill and decode, the usual deployment
    SMALL = "small"  # the tiered router's smaller model (short prompts)
    LARGE = "large"  # the tiered router's larger model
    PREFILL = "prefill"  # disaggregated: computes prompts and samples the first token
    DECODE = "decode"  # disaggregated: generates the rest


@dataclass(frozen=True)
class SLO:
    """Service-level objectives of a request; goodput counts requests meeting all that are set."""

    ttft_s: float | None = None
    tpot_s: float | None = None
    e2e_s: float | None = None

    def __post_init__(self) -> None:
        for name in ("ttft_s", "tpot_s", "e2e_s"):
            v = getattr(self, name)
            if v is not None and not (math.isfinite(v) and v > 0):
                raise ValueError(f"SLO {name} must be a positive number of seconds, got {v}")

    @property
    def any(self) -> bool:
        return self.ttft_s is not None or self.tpot_s is not None or self.e2e_s is not None


class Request:
    """One request of a trace and its progress (slots: the simulator makes one per trace row)."""

    __slots__ = (
        "arrival_s",
        "context_tokens",
        "done_s",
        "first_token_s",
        "generated_tokens",
        "kills",
        "kv",
        "output_tokens",
        "prefilled_tokens",
        "prefix_group",
        "prefix_tokens",
        "prompt_tokens",
        "replica",
        "requeues",
        "rid",
        "state",
        "swaps",
        "target_tokens",
    )

    def __init__(
        self,
        rid: int,
        arrival_s: float,
        prompt_tokens: int,
        output_tokens: int,
        prefix_group: int = -1,
        prefix_tokens: int = 0,
        priority: int = 0,
    ):
        self.rid = rid
        self.arrival_s = arrival_s  # [s, the simulator's time]
        self.prompt_tokens = prompt_tokens
        self.output_tokens = output_tokens  # to generate, the first included
        self.prefix_group = prefix_group  # shared-prefix group, −1: none
        self.prefix_tokens = prefix_tokens  # leading prompt tokens shared with the group
        self.kv = KVRequest(rid, priority)
        self.state = RequestState.WAITING
        self.target_tokens = prompt_tokens  # to prefill: the prompt, plus generated tokens after a kill
        self.prefilled_tokens = 0  # of the target, in the cache
        self.generated_tokens = 0.0  # expected count under speculative decoding, so fractional
        self.context_tokens = 0.0  # in the cache while decoding
        self.replica = -1  # index of the replica it was last queued at
        self.first_token_s = math.nan
        self.done_s = math.nan
        self.kills = 0
        self.swaps = 0
        self.requeues = 0  # times its replica was lost under it (a GPU failure, a power loss)

    def restart(self) -> None:
        """Its cache is gone (killed, or its replica lost): it prefills its prompt and the tokens it
        had generated again (vLLM's recompute preemption), its first token already counted."""
        self.target_tokens = self.prompt_tokens + int(self.generated_tokens)
        self.prefilled_tokens = 0
        self.context_tokens = 0.0
        self.state = RequestState.WAITING

    @property
    def ttft_s(self) -> float:
        return self.first_token_s - self.arrival_s

    @property
    def e2e_s(self) -> float:
        return self.done_s - self.arrival_s

    @property
    def tpot_s(self) -> float:
        """Time per output token after the first [s] (NaN for one-token outputs)."""
        if self.output_tokens <= 1:
            return math.nan
        return (self.done_s - self.first_token_s) / (self.output_tokens - 1)
