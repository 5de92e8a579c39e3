"""Routers: which replica a new request is queued at, by name (:data:`ROUTERS`).

A router sees the replicas that take new requests: the prefill pool when prefill and decode are
disaggregated, otherwise all of them; it never picks a replica that is down (a fault) or closed
(an admission limit). A
prefilled request is handed to the least-loaded replica of the decode pool (:func:`least_loaded`).
Load is the count of requests routed to a replica and not yet finished or handed over, as in
Vidur's least-outstanding-requests scheduler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from aidc.workload.serving.replica import Replica
from aidc.workload.serving.request import PoolRole, Request


class Router(Protocol):
    def route(self, req: Request) -> Replica | None: ...  # None: every replica it may pick is down


def _by_load(rep: Replica) -> tuple[int, int]:
    return rep.load, rep.index


def _takes_requests(rep: Replica) -> bool:
    """Not down (a fault) and not closed (an admission limit)."""
    return not (rep.down or rep.closed)


def least_loaded(replicas: Sequence[Replica]) -> Replica | None:
    """The replica with the fewest outstanding requests (the lowest index on a tie) of those that
    take requests (not down, not closed by an admission limit); None when none does."""
    best = min(replicas, key=_by_load)
    if _takes_requests(best):  # the usual case: every replica takes requests
        return best
    return min(filter(_takes_requests, replicas), key=_by_load, default=None)


class RoundRobin:
    """Each request to the next replica in turn."""

    def __init__(self, entry: Sequence[Replica], tier_threshold_tokens: int):
        self.entry, self.next = list(entry), 0

    def route(self, req: Request) -> Replica | None:
        for _ in range(len(self.entry)):  # down replicas are skipped
            rep = self.entry[self.next % len(self.entry)]
            self.next += 1
            if _takes_requests(rep):
                return rep
        return None


class LeastLoaded:
    """Each request to the replica with the fewest outstanding requests."""

    def __init__(self, entry: Sequence[Replica], tier_threshold_tokens: int):
        self.entry = list(entry)

    def route(self, req: Request) -> Replica | None:
        return least_loaded(self.entry)


class Tiered:
    """Prompts of at most ``tier_threshold_tokens`` to the small model's pool, the rest to the large
    model's, least-loaded within the pool."""

    def __init__(self, entry: Sequence[Replica], tier_threshold_tokens: int):
        self.small = [r for r in entry if r.role == PoolRole.SMALL]
        self.large = [r for r in entry if r.role == PoolRole.LARGE]
        if not self.small or not self.large:
            roles = sorted({r.role.value for r in entry})
            raise ValueError(f"the tiered router needs pools named 'small' and 'large', got {roles}")
        self.threshold = tier_threshold_tokens

    def route(self, req: Request) -> Replica | None:
        return least_loaded(self.small if req.prompt_tokens <= self.threshold else self.large)


ROUTERS: dict[str, Callable[[Sequence[Replica], int], Router]] = {
    "round-robin": RoundRobin,
    "least-loaded": LeastLoaded,
    "tiered": Tiered,
}
"""Routers by the scenario's ``router`` name: (replicas taking new requests, tier threshold) → router."""


def make_router(name: str, replicas: Sequence[Replica], tier_threshold_tokens: int) -> Router:
    if name not in ROUTERS:
        raise ValueError(f"router must be one of {', '.join(ROUTERS)}, got {name!r}")
    prefill = [r for r in replicas if r.role == PoolRole.PREFILL]
    return ROUTERS[name](prefill or replicas, tier_threshold_tokens)
