"""Run metrics: energy by subsystem, PUE, delivered throughput, TFLOPS/kW, throttling, temperature
percentiles, water. Accumulated step by step (memory independent of run length).

Definitions
-----------
* PUE = facility energy / IT energy (The Green Grid, WP #49; ISO/IEC 30134-2). IT energy is the
  servers' wall power (GPUs, CPUs, memory, network, server fans, PSU losses).
* TFLOPS per GPU: delivered TFLOPS averaged over GPUs running a job.
* TFLOPS/kW as in "Cooling Matters" (arXiv 2507.16781): mean per-GPU TFLOPS divided by mean
  whole-node wall power in kW, over the nodes that run jobs.
* Throttled share: GPU-time with a running job during which the power limit or the hardware
  thermal slowdown held the clock below what GPU Boost allowed (NVML clock-event reasons
  SW Power Cap and HW Thermal Slowdown).
* Facility peak power: the highest mean over a 15-minute demand interval of run time (the utility's
  billing demand, :data:`aidc.telemetry.site_metrics.DEMAND_INTERVAL_S`; a partial interval at
  either end counts by its own length), so it does not depend on the time step as a step's own
  peak would.
* Temperature percentiles: over all (GPU, step) samples of running GPUs, by a 0.05 K histogram.
* Serving: J per output token at the GPU (the job's GPUs), at the IT load (its nodes' wall power)
  and at the facility (that times the step's PUE), over the measured window; tokens per facility
  kWh is its inverse. Latency percentiles (TTFT, TPOT, end to end) cover every request finished
  in the run, warm-up included.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from aidc.hardware import kernels
from aidc.telemetry.faults import FaultMetrics
from aidc.telemetry.site_metrics import SiteAccumulator, book_by_interval
from aidc.units import J_PER_KWH

if TYPE_CHECKING:  # types only: the report imports ENERGY_KEYS without loading the simulator
    from aidc.sim.engine import HallRecord, StepRecord
    from aidc.workload.serving import ServingResult
    from aidc.workload.serving.deploy import ServingState

ENERGY_KEYS = (
    "it",
    "gpu",
    "node_fans",
    "crah_fans",
    "pumps",
    "chiller",
    "heat_rejection",
    "cooling",
    "distribution_loss",
    "other",
    "facility",
)
"""The energy totals of a run summary, in the order the report lists them."""

_T_LO, _T_HI, _T_BIN = -30.0, 130.0, 0.05
_EDGES = int((_T_HI - _T_LO) / _T_BIN)
_ALL = np.ones(0, dtype=np.bool_)  # the histogram's mask when every GPU ran (not read)


@dataclass
class _HallAccumulator:
    name: str
    gpus: int
    gpu_seconds_running: float = 0.0
    gpu_seconds_power_capped: float = 0.0
    gpu_seconds_thermal: float = 0.0
    tflop: float = 0.0
    node_wall_j: float = 0.0
    node_seconds_running: float = 0.0
    gpu_energy_j: float = 0.0
    temp_hist: np.ndarray = field(default_factory=lambda: np.zeros(_EDGES, dtype=np.int64))
    temp_sum: np.ndarray | None = None
    temp_count: float = 0.0
    max_shutdown: int = 0

    def add(self, h: HallRecord, dt: float) -> None:
        st, hs = h.state, h.step
        self.gpu_seconds_running += hs.active_gpus * dt
        self.gpu_seconds_power_capped += hs.power_capped_gpus * dt
        self.gpu_seconds_thermal += hs.thermal_gpus * dt
        self.tflop += hs.tflops_sum * dt
        self.max_shutdown = max(self.max_shutdown, hs.shutdown_gpus)
        if not hs.active_gpus:
            return
        temps = st.temp_c
        if self.temp_sum is None:
            self.temp_sum = np.zeros(temps.size)
        everyone = hs.active_gpus >= temps.size
        if everyone:  # every GPU ran all step: the hall's totals, no masks
            self.gpu_energy_j += hs.gpu_w * dt
            self.node_wall_j += hs.it_w * dt
            self.node_seconds_running += st.node_wall_w.size * dt
            self.temp_sum += temps
            running = _ALL
        else:
            running = st.resident > 0.0
            self.gpu_energy_j += float(st.power_w[running].sum()) * dt
            node_running = running.reshape(-1, st.gpus_per_node).any(axis=1)
            self.node_wall_j += float(st.node_wall_w[node_running].sum()) * dt
            self.node_seconds_running += float(node_running.sum()) * dt
            self.temp_sum += np.where(running, st.temp_c, 0.0)
        if kernels.enabled():
            kernels.histogram_add(self.temp_hist, temps, running, not everyone, _T_LO, _T_BIN)
        else:
            idx = (((temps if everyone else temps[running]) - _T_LO) / _T_BIN).astype(np.int64)
            self.temp_hist += np.bincount(np.minimum(np.maximum(idx, 0), _EDGES - 1), minlength=_EDGES)
        self.temp_count += 1.0

    def summary(self) -> dict[str, float | int | str | None]:
        run_s = self.gpu_seconds_running
        tflops = self.tflop / run_s if run_s else 0.0
        node_kw = self.node_wall_j / self.node_seconds_running / 1e3 if self.node_seconds_running else 0.0
        out: dict[str, float | int | str | None] = {
            "hall": self.name,
            "gpus": self.gpus,
            "tflops_per_gpu": tflops,
            "node_power_kw": node_kw,
            "tflops_per_kw": tflops / node_kw if node_kw else 0.0,
            "gpu_power_mean_w": self.gpu_energy_j / run_s if run_s else 0.0,
            "throttled_share": (self.gpu_seconds_power_capped + self.gpu_seconds_thermal) / run_s
            if run_s
            else 0.0,
            "power_capped_share": self.gpu_seconds_power_capped / run_s if run_s else 0.0,
            "thermal_slowdown_share": self.gpu_seconds_thermal / run_s if run_s else 0.0,
            "gpus_shut_down_max": self.max_shutdown,
        }
        total = int(self.temp_hist.sum())
        if total:
            cdf = np.cumsum(self.temp_hist) / total
            for q in (5, 50, 95, 99):
                out[f"gpu_temp_p{q}_c"] = _T_LO + (int(np.searchsorted(cdf, q / 100.0)) + 0.5) * _T_BIN
            nz = np.nonzero(self.temp_hist)[0]
            out["gpu_temp_min_c"] = _T_LO + nz[0] * _T_BIN
            out["gpu_temp_max_c"] = _T_LO + (nz[-1] + 1) * _T_BIN
        if self.temp_sum is not None and self.temp_count:
            mean_per_gpu = self.temp_sum / self.temp_count
            out["gpu_mean_temp_lowest_c"] = float(mean_per_gpu.min())
            out["gpu_mean_temp_highest_c"] = float(mean_per_gpu.max())
        return out


@dataclass
class _ServingAccumulator:
    """Energy and tokens of one serving job over the measured (post-warm-up) window."""

    hall: str
    job: str
    model: str
    replicas: int
    gpu_j: float = 0.0
    it_j: float = 0.0
    facility_j: float = 0.0
    before: ServingState | None = None  # the state when the measured window starts (None: zero)
    last: ServingState | None = None
    kv_used_sum: float = 0.0
    kv_used_max: float = 0.0
    steps: int = 0
    seconds: float = 0.0

    def add(self, h: HallRecord, sv: ServingState, pue: float, dt: float) -> None:
        self.last = sv
        st = h.state
        sl = sv.gpus
        gpn = st.gpus_per_node
        gpu_w = float(st.power_w[sl].sum())
        node_w = float(st.node_wall_w[sl.start // gpn : -(-sl.stop // gpn)].sum())
        self.gpu_j += gpu_w * dt
        self.it_j += node_w * dt
        self.facility_j += node_w * pue * dt
        self.kv_used_sum += sv.kv_used_frac
        self.kv_used_max = max(self.kv_used_max, sv.kv_used_frac)
        self.steps += 1
        self.seconds += dt

    def summary(self, res: ServingResult) -> dict[str, object]:
        before, last = self.before, self.last
        tokens = prefill = 0.0
        if last is not None:
            tokens = last.output_tokens - (before.output_tokens if before else 0.0)
            prefill = last.prefill_tokens - (before.prefill_tokens if before else 0)

        def per_token(j: float) -> float | None:
            return j / tokens if tokens > 0 else None

        out: dict[str, object] = {
            "hall": self.hall,
            "job": self.job,
            "model": self.model,
            "replicas": self.replicas,
            "requests_arrived": last.arrived if last else 0,
            "requests_finished": res.finished,
            "output_tokens_per_s": tokens / self.seconds if self.seconds else 0.0,
            "prefill_tokens_per_s": prefill / self.seconds if self.seconds else 0.0,
            "j_per_output_token_gpu": per_token(self.gpu_j),
            "j_per_output_token_it": per_token(self.it_j),
            "j_per_output_token_facility": per_token(self.facility_j),
            "output_tokens_per_facility_kwh": tokens / (self.facility_j / J_PER_KWH)
            if self.facility_j
            else None,
            "kv_used_mean_frac": self.kv_used_sum / self.steps if self.steps else 0.0,
            "kv_used_max_frac": self.kv_used_max,
            "prefix_hit_rate": res.prefix_hit_rate,
            "swap_outs": res.memory_events.get("swap_out", 0),
            "kills": res.memory_events.get("kill", 0),
            "reclaims": res.memory_events.get("reclaim", 0),
            "goodput_req_per_s": res.goodput_rps,
        }
        for name, values in (("ttft", res.ttft_s), ("tpot", res.tpot_s), ("e2e", res.e2e_s)):
            for key, v in res.percentiles(values).items():
                out[f"{name}_{key}_s"] = v
        return out


class RunMetrics:
    """Accumulates a run's summary from step records after ``warmup_s``.

    ``components`` is the simulation's ``config()`` (what the run metadata records): it names the
    halls, their GPU counts and their serving jobs. :meth:`summary` takes the serving jobs' results
    in the order the halls list them.
    """

    def __init__(self, components: dict, warmup_s: float):
        halls = [(h["name"], h["gpus"]) for h in components["halls"]]
        serving = [
            (h["name"], s["job"], s["model"], s["replicas"])
            for h in components["halls"]
            for s in h["workload"]["serving"]
        ]
        self.warmup_s = warmup_s
        self.energy_j = dict.fromkeys(ENERGY_KEYS, 0.0)
        self.water_kg = 0.0
        self.seconds = 0.0
        self.pue_min = np.inf
        self.pue_max = 0.0
        self.facility_window_j: dict[int, float] = {}  # facility energy per demand interval
        self.facility_window_s: dict[int, float] = {}
        self.halls = {name: _HallAccumulator(name, gpus) for name, gpus in halls}
        self.serving = [_ServingAccumulator(*s) for s in serving]
        site = components.get("site")
        signals = (site or {}).get("grid_signals") or {}
        self.site = SiteAccumulator(signals.get("carbon_mean_g_per_kwh")) if site else None
        self.faults = FaultMetrics(components, warmup_s) if components.get("faults") else None

    def add(self, rec: StepRecord) -> None:
        if self.faults is not None:
            self.faults.add(rec)
        if rec.t_s < self.warmup_s:
            states = [sv for h in rec.halls for sv in h.state.serving]
            for acc, sv in zip(self.serving, states, strict=True):
                acc.before = sv  # the window starts after this step
            return
        dt = rec.dt_s
        self.seconds += dt
        e = self.energy_j
        chain = rec.chain
        for h in rec.halls:
            hs, po = h.step, h.plant
            e["gpu"] += hs.gpu_w * dt
            e["node_fans"] += hs.node_fans_w * dt
            e["crah_fans"] += po.crah_fans_w * dt
            e["pumps"] += po.pumps_w * dt
            e["chiller"] += po.chiller_w * dt
            e["heat_rejection"] += po.heat_rejection_w * dt
            self.water_kg += po.water_kg
            self.halls[h.state.name].add(h, dt)
        if self.serving:
            pue = chain.facility_w / chain.it_w if chain.it_w > 0 else 1.0
            states = [(h, sv) for h in rec.halls for sv in h.state.serving]
            for acc, (h, sv) in zip(self.serving, states, strict=True):
                acc.add(h, sv, pue, dt)
        e["it"] += chain.it_w * dt
        e["cooling"] += chain.cooling_w * dt
        e["distribution_loss"] += chain.distribution_loss_w * dt
        e["other"] += chain.other_w * dt
        e["facility"] += chain.facility_w * dt
        book_by_interval(self.facility_window_j, rec.t_s, dt, chain.facility_w, self.facility_window_s)
        if self.site is not None and rec.site is not None:
            self.site.add(rec.t_s, dt, rec.site)
            if rec.event_cap_w is not None:
                tflops = sum(h.step.tflops_sum for h in rec.halls)
                self.site.add_event(dt, rec.site, rec.event_cap_w, tflops)
        if chain.it_w > 0:
            pue = chain.facility_w / chain.it_w
            self.pue_min = min(self.pue_min, pue)
            self.pue_max = max(self.pue_max, pue)

    def summary(self, serving_results: list[ServingResult] = ()) -> dict[str, object]:
        e = self.energy_j
        it_kwh = e["it"] / J_PER_KWH
        tflop = sum(a.tflop for a in self.halls.values())
        return {
            "seconds": self.seconds,
            "energy_kwh": {k: v / J_PER_KWH for k, v in e.items()},
            "pue": e["facility"] / e["it"] if e["it"] else None,
            "pue_min": None if not np.isfinite(self.pue_min) else self.pue_min,
            "pue_max": self.pue_max or None,
            "it_power_mean_kw": e["it"] / self.seconds / 1e3 if self.seconds else 0.0,
            "facility_power_mean_kw": e["facility"] / self.seconds / 1e3 if self.seconds else 0.0,
            "facility_power_peak_15min_kw": max(
                (j / self.facility_window_s[k] for k, j in self.facility_window_j.items()), default=0.0
            )
            / 1e3,
            "pflop_delivered": tflop / 1e3,
            "tflop_per_facility_kwh": tflop / (e["facility"] / J_PER_KWH) if e["facility"] else 0.0,
            "water_m3": self.water_kg / 1e3,
            "water_l_per_it_kwh": self.water_kg / it_kwh if it_kwh else 0.0,
            "halls": [a.summary() for a in self.halls.values()],
            "serving": [a.summary(r) for a, r in zip(self.serving, serving_results, strict=True)],
            "site": self.site.summary(e["facility"]) if self.site else None,
            "faults": self.faults.summary(serving_results) if self.faults else None,
        }
