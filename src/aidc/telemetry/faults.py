"""What each fault of a run did: how fast the GPUs heated, how many it reached, what the UPS and the
generator carried, and the work and service it cost.

Times are from the fault's start to the first GPU at its maximum operating temperature (where the
driver starts throttling), at its hardware slowdown temperature, and to the first thermal shutdown;
each is interpolated linearly within the step in which it happens (between the hottest junction
at the step's start and end; the hall's own trip time for a shutdown), so it does not round up to
the step. The work lost is the pre-fault
rate (TFLOPS over the run's steps before any fault, after warm-up) times the fault's window minus
what was delivered in it: an estimate that assumes the workload would have gone on at that rate,
which holds for training and burns, not for serving a trace whose rate varies. Serving loses no
request to a fault (they are queued elsewhere); what it loses is service, below. The window
runs from the start until the delivered TFLOPS is back within 1 % of that rate after the fault has
ended (or the run ends). Serving's SLO loss compares the share of requests that finished within
every SLO among those arriving in the window with the share among those arriving before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from aidc.hardware.catalog import get_gpu
from aidc.units import J_PER_KWH

if TYPE_CHECKING:  # types only: the report reads summaries without loading the simulator
    from aidc.sim.engine import StepRecord
    from aidc.workload.serving import ServingResult

RECOVERED_FRAC = 0.99
"""A fault's window ends once the delivered TFLOPS is back to this share of the pre-fault rate."""


@dataclass
class _Fault:
    name: str
    start_s: float
    end_s: float
    to_throttle_s: float | None = None
    to_slowdown_s: float | None = None
    to_shutdown_s: float | None = None
    gpus_throttled_max: int = 0
    gpus_shut_down_max: int = 0
    gpus_off_max: int = 0
    gpu_temp_max_c: float = -math.inf
    supply_max_c: float = -math.inf  # the warmest coolant or supply air the IT saw
    ups_kwh: float = 0.0
    ups_soc_min_frac: float | None = None
    generator_kwh: float = 0.0
    window_s: float = 0.0
    tflop: float = 0.0
    output_tokens: float = 0.0  # of every serving job, in the window
    requeued: int = 0  # requests moved off lost replicas, in the window
    recovered_s: float | None = None  # from the start to the window's end
    open: bool = True
    serving: list[dict] = field(default_factory=list)


def _crossing_s(t_s: float, dt_s: float, before_c: float, after_c: float, threshold_c: float) -> float | None:
    """When within the step the hottest junction crossed ``threshold_c`` (None: it did not)."""
    if after_c < threshold_c:
        return None
    if before_c >= threshold_c:
        return t_s
    return t_s + dt_s * (threshold_c - before_c) / (after_c - before_c)


class FaultMetrics:
    """Accumulates what each fault did, from every step record (warm-up included: a fault is
    reported wherever it happens)."""

    def __init__(self, components: dict, warmup_s: float):
        self.specs = [get_gpu(h["gpu"]) for h in components["halls"]]
        self.warmup_s = warmup_s
        self.faults: dict[str, _Fault] = {}
        self._ref_s = self._ref_tflop = 0.0
        self._hot = [-math.inf] * len(self.specs)  # hottest junction per hall at the last step's end
        self._tokens = 0.0  # output tokens of every serving job so far
        self._requeued = 0  # requests of every serving job moved off a lost replica so far

    def _rates(self) -> float:
        """The pre-fault rate of delivered TFLOPS."""
        return self._ref_tflop / self._ref_s if self._ref_s > 0.0 else 0.0

    def add(self, rec: StepRecord) -> None:
        dt = rec.dt_s
        tflops = sum(h.step.tflops_sum for h in rec.halls)
        states = [sv for h in rec.halls for sv in h.state.serving]
        tokens, requeued = sum(sv.output_tokens for sv in states), sum(sv.requeued for sv in states)
        step_tokens, self._tokens = tokens - self._tokens, tokens
        step_requeued, self._requeued = requeued - self._requeued, requeued
        active = rec.faults.active if rec.faults else {}
        if not self.faults and not active and rec.t_s >= self.warmup_s:
            self._ref_s += dt
            self._ref_tflop += tflops * dt
        for name, (start, end) in active.items():
            if name not in self.faults:
                self.faults[name] = _Fault(name, start, math.inf if end is None else end)
        rate = self._rates()
        hot = [float(h.state.temp_c.max()) for h in rec.halls]
        for f in self.faults.values():
            if not f.open:
                continue
            self._step(f, rec, hot, name_active=f.name in active)
            f.window_s += dt
            f.tflop += tflops * dt
            f.output_tokens += step_tokens
            f.requeued += step_requeued
            if f.name not in active and rec.t_s + dt >= f.end_s and tflops >= RECOVERED_FRAC * rate:
                f.open = False
                f.recovered_s = rec.t_s + dt - f.start_s
        self._hot = hot

    def _step(self, f: _Fault, rec: StepRecord, hot: list[float], name_active: bool) -> None:
        t, dt = rec.t_s, rec.dt_s
        for h, spec, before, after in zip(rec.halls, self.specs, self._hot, hot, strict=True):
            temp = h.state.temp_c
            for attr, threshold in (
                ("to_throttle_s", spec.max_operating_temp_c),
                ("to_slowdown_s", spec.slowdown_temp_c),
            ):
                crossed = _crossing_s(t, dt, before, after, threshold)
                if getattr(f, attr) is None and crossed is not None:
                    setattr(f, attr, max(crossed - f.start_s, 0.0))
            if f.to_shutdown_s is None and h.state.trip_s is not None:  # the hall's own trip time
                f.to_shutdown_s = max(h.state.trip_s - f.start_s, 0.0)
            shut = int(np.count_nonzero(h.state.shutdown))
            f.gpus_shut_down_max = max(f.gpus_shut_down_max, shut)
            throttled = int(np.count_nonzero((temp >= spec.max_operating_temp_c) & ~h.state.shutdown))
            f.gpus_throttled_max = max(f.gpus_throttled_max, throttled)
            f.gpu_temp_max_c = max(f.gpu_temp_max_c, after)
            liquid = h.plant.liquid_supply_c or -math.inf  # 0: no liquid loop
            f.supply_max_c = max(f.supply_max_c, liquid, h.plant.supply_air_c)
        if rec.faults is not None:
            off = sum(
                int(np.count_nonzero((s < t + dt) & (e > t)))
                for s, e in zip(rec.faults.off_start_s, rec.faults.off_end_s, strict=True)
                if s is not None and e is not None
            )
            f.gpus_off_max = max(f.gpus_off_max, off)
        if (b := rec.backup) is not None:
            f.ups_kwh += b.ups_w * dt / J_PER_KWH
            f.generator_kwh += rec.supplies.generator_w * dt / J_PER_KWH if rec.supplies else 0.0
            if b.ups_w > 0.0 or name_active:
                soc = b.ups_soc_frac
                f.ups_soc_min_frac = soc if f.ups_soc_min_frac is None else min(f.ups_soc_min_frac, soc)

    def summary(self, serving_results: list[ServingResult] = ()) -> list[dict[str, object]]:
        rate_tflops = self._rates()
        out = []
        for f in self.faults.values():
            row = {k: v for k, v in vars(f).items() if k not in ("open", "serving")}
            row["end_s"] = f.end_s if math.isfinite(f.end_s) else None  # JSON
            row["gpu_temp_max_c"] = f.gpu_temp_max_c if math.isfinite(f.gpu_temp_max_c) else None
            row["supply_max_c"] = f.supply_max_c if math.isfinite(f.supply_max_c) else None
            row["pflop_lost"] = max(rate_tflops * f.window_s - f.tflop, 0.0) / 1e3 if self._ref_s else None
            row["serving"] = [_slo_loss(r, f) for r in serving_results]
            out.append(row)
        return out


def _slo_loss(res: ServingResult, f: _Fault) -> dict[str, float | int | None]:
    """Share of requests served within their SLOs: arriving before the fault, and in its window
    (None: none arrived then)."""
    arrival, ok = res.arrival_s, res.served_ok
    before = arrival < f.start_s
    during = (arrival >= f.start_s) & (arrival < f.start_s + f.window_s)

    def share(mask: np.ndarray) -> float | None:
        return float(ok[mask].mean()) if mask.any() else None

    return {"served_ok_before_frac": share(before), "served_ok_during_frac": share(during)}
