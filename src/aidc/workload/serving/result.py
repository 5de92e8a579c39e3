"""What a serving run reports: latencies, tokens, memory events, goodput under the SLOs.

Definitions: time to first token (TTFT) from arrival to the step that samples the first token;
time per output token (TPOT) over the tokens after the first, ``(done − first) / (output − 1)``,
undefined for one-token outputs; end to end (E2E) from arrival to the last token. Goodput counts
finished requests meeting every SLO that is set (a one-token output has no TPOT to miss) per
second of the span from the first arrival to the last completion.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from aidc.workload.kvmemory import MemoryEvent
from aidc.workload.serving.replica import Replica
from aidc.workload.serving.request import SLO, Request, RequestState


@dataclass
class ServingResult:
    requests: int
    finished: int
    duration_s: float  # first arrival to last completion
    ttft_s: np.ndarray  # one per finished request
    tpot_s: np.ndarray  # one per finished request with more than one output token
    e2e_s: np.ndarray
    input_tokens: int  # prompts of the finished requests
    output_tokens: float
    kills: int
    swaps: int
    memory_events: dict[str, int]
    memory_log: list[MemoryEvent]
    prefix_hit_rate: float
    goodput_rps: float | None  # None when no SLO is set
    replicas: list[dict] = field(default_factory=list)
    requeues: int = 0  # requests moved off a replica that was lost (a fault)
    arrival_s: np.ndarray = field(default_factory=lambda: np.zeros(0))  # every request's
    served_ok: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))  # finished, every SLO met

    @staticmethod
    def percentiles(values: np.ndarray, qs=(50, 90, 99)) -> dict[str, float]:
        if values.size == 0:
            return {f"p{q}": math.nan for q in qs}
        return {f"p{q}": float(np.percentile(values, q)) for q in qs}


def meets_slo(r: Request, slo: SLO) -> bool:
    """A request finished and met every SLO that is set (a one-token output has no TPOT to miss)."""
    if r.state != RequestState.DONE:
        return False
    tpot = r.tpot_s
    return (
        (slo.ttft_s is None or r.ttft_s <= slo.ttft_s)
        and (slo.e2e_s is None or r.e2e_s <= slo.e2e_s)
        and (slo.tpot_s is None or math.isnan(tpot) or tpot <= slo.tpot_s)
    )


def goodput_rps(done: Sequence[Request], slo: SLO, duration_s: float) -> float | None:
    """Finished requests per second that meet every SLO that is set."""
    if not slo.any or duration_s <= 0:
        return None
    return sum(meets_slo(r, slo) for r in done) / duration_s


def _replica_row(rep: Replica) -> dict:
    return {
        "index": rep.index,
        "pool": rep.role.value,
        "steps": rep.steps,
        "busy_s": rep.busy_s,
        "activity_s": rep.activity_s,
        "prefill_tokens": rep.prefill_tokens,
        "output_tokens": rep.output_tokens,
        "swap_s": rep.swap_s,
        "max_queue": rep.max_queue,
        "kv_blocks": rep.kv.hbm_blocks,
    }


def serving_result(requests: Sequence[Request], replicas: Sequence[Replica], slo: SLO) -> ServingResult:
    done = [r for r in requests if r.state == RequestState.DONE]
    counts: Counter = Counter()
    log: list[MemoryEvent] = []
    for rep in replicas:
        counts.update(rep.kv.counts)
        log += rep.kv.log
    log.sort(key=lambda e: e.t_s)
    last = max((r.done_s for r in done), default=0.0)
    duration = last - (requests[0].arrival_s if requests else 0.0)
    hits = sum(rep.prefix_hit_tokens for rep in replicas)
    lookups = sum(rep.prefix_lookup_tokens for rep in replicas)
    return ServingResult(
        requests=len(requests),
        finished=len(done),
        duration_s=duration,
        ttft_s=np.array([r.ttft_s for r in done]),
        tpot_s=np.array([r.tpot_s for r in done if r.output_tokens > 1]),
        e2e_s=np.array([r.e2e_s for r in done]),
        input_tokens=sum(r.prompt_tokens for r in done),
        output_tokens=float(sum(rep.output_tokens for rep in replicas)),
        kills=sum(r.kills for r in requests),
        swaps=sum(r.swaps for r in requests),
        memory_events=dict(counts),
        memory_log=log,
        prefix_hit_rate=hits / lookups if lookups else 0.0,
        goodput_rps=goodput_rps(done, slo, duration),
        replicas=[_replica_row(rep) for rep in replicas],
        requeues=sum(r.requeues for r in requests),
        arrival_s=np.array([r.arrival_s for r in requests]),
        served_ok=np.array([meets_slo(r, slo) for r in requests], dtype=bool),
    )
