"""Power quality of a synchronized training job below the twin's time step: the swing between its
compute and communication phases as the grid sees it, its spectrum, and what a GPU power floor, a
ramp-rate limit or a battery at the meter make of it.

The twin books a training job's energy per step from its time-averaged activity
(:mod:`aidc.workload.jobs`); here the same job is resolved in time. Every GPU of the job runs
the same phase at the same time (data-parallel steps are synchronous: the worst case and the
common one, Power Stabilization for AI Training Datacenters, arXiv 2508.14318), each phase at
the clock the power limiter gives its activity (the limiter settles within ~0.1 s,
:mod:`aidc.hardware.clocks`, so phases are taken to be longer than that) and at the junction
temperature the twin reached. Phase changes are steps: the GPU's own power slew (milliseconds)
is not resolved, so a swing's ramp is its size within one sample unless a limit is applied.
The rest of the hall (node base power, fans, cooling) is taken as constant over seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from aidc.facility.storage import Battery, BatterySpec
from aidc.hardware.catalog import GPUSpec
from aidc.hardware.governor import power_limit_governor
from aidc.hardware.gpu import boost_clock_limit, gpu_power, hardware_slowdown_factor
from aidc.scenario import TrainingJob
from aidc.sim.engine import Simulation, StepRecord
from aidc.units import J_PER_KWH

FloatArray = NDArray[np.float64]

OSCILLATION_BAND_HZ = (0.1, 20.0)
"""The critical band for a large load's power oscillations [Hz]: the example of Power Stabilization
for AI Training Datacenters (arXiv 2508.14318, §III), where grid resonances run from ~0.16 Hz
(transmission) through 1–2.5 Hz (coupled generators) to 7 Hz and above (turbine shafts)."""

BAND_ENERGY_LIMIT_FRAC = 0.20
"""The same paper's example limit: spectral energy within the band capped at 20 % of the total
(§III; an example specification, not a utility's rule). Applied here to the energy of the load's
departures from its mean."""

POWER_FLOOR_MAX_FRAC = 0.90
"""The highest GPU power floor GB200 power smoothing allows, as a share of TDP (arXiv 2508.14318,
§IV: a 90 % floor on a production trace cost 10.5 % more energy; its square-wave test used 65 %)."""


@dataclass(frozen=True)
class PhasePower:
    """One GPU's power and clock in each phase of a training step, and the phases' lengths."""

    compute_w: float
    comm_w: float
    compute_mhz: float
    comm_mhz: float
    compute_s: float
    comm_s: float

    @property
    def period_s(self) -> float:
        return self.compute_s + self.comm_s

    @property
    def mean_w(self) -> float:
        return (self.compute_w * self.compute_s + self.comm_w * self.comm_s) / self.period_s


def phase_power(job: TrainingJob, spec: GPUSpec, power_cap_w: float, temp_c: float) -> PhasePower:
    """Each phase at the clock the power limit gives its activity, at the junction ``temp_c``."""
    ceiling = float(boost_clock_limit(temp_c, spec) * hardware_slowdown_factor(temp_c, spec))
    f_c, f_m = (
        float(power_limit_governor(power_cap_w, a, temp_c, ceiling, spec))
        for a in (job.compute_activity_frac, job.comm_activity_frac)
    )
    return PhasePower(
        compute_w=float(gpu_power(job.compute_activity_frac, f_c, temp_c, spec)),
        comm_w=float(gpu_power(job.comm_activity_frac, f_m, temp_c, spec)),
        compute_mhz=f_c,
        comm_mhz=f_m,
        compute_s=job.compute_s_at_max_clock * spec.clock_max_mhz / f_c,
        comm_s=job.comm_s,
    )


def phase_waveform(phase: PhasePower, seconds: float, sample_hz: float, floor_w: float = 0.0) -> FloatArray:
    """One GPU's power sampled at ``sample_hz`` over ``seconds`` [W]: compute, then
    communication, repeated; each sample the mean over its interval (a phase edge inside a sample
    shares it). ``floor_w``: no phase below it (a power floor: the GPU burns the difference)."""
    n = round(seconds * sample_hz)
    edges = np.arange(n + 1) / sample_hz
    # time spent in the compute phase up to each edge, in closed form over whole periods
    period, tc = phase.period_s, phase.compute_s
    whole, rest = np.divmod(edges, period)
    compute_time = whole * tc + np.minimum(rest, tc)
    share = np.diff(compute_time) * sample_hz  # of each sample spent computing
    comm_w = max(phase.comm_w, floor_w)
    return np.maximum(share * phase.compute_w + (1.0 - share) * comm_w, floor_w)


def ramp_limited(power_w: FloatArray, sample_hz: float, up_w_s: float, down_w_s: float) -> FloatArray:
    """``power_w`` with its rises and falls limited to ``up_w_s`` and ``down_w_s`` [W/s]; a fall
    held back burns the difference (what NVIDIA's GB300 power smoothing does), a rise held back
    delays the work (not resolved here: the shape is the point)."""
    out = np.empty_like(power_w)
    up, down = up_w_s / sample_hz, down_w_s / sample_hz
    level = float(power_w[0])
    for i, p in enumerate(power_w):
        level = min(p, level + up) if p >= level else max(p, level - down)
        out[i] = level
    return out


def band_oscillation(
    power_w: FloatArray, sample_hz: float, band: tuple[float, float] = OSCILLATION_BAND_HZ
) -> dict[str, float]:
    """The part of ``power_w`` within ``band`` [Hz]: its share of the energy of the load's
    departures from its mean (Parseval, over the record's spectrum), its peak-to-peak and RMS
    [kW], and the strongest line of the one-sided amplitude spectrum in the band (frequency [Hz],
    amplitude [kW])."""
    x = power_w - power_w.mean()
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1.0 / sample_hz)
    inside = (freqs >= band[0]) & (freqs <= band[1])
    banded = np.fft.irfft(np.where(inside, spectrum, 0.0), n=x.size)
    amplitude = 2.0 * np.abs(spectrum) / x.size
    k = int(np.argmax(np.where(inside, amplitude, -1.0)))
    energy = np.abs(spectrum[1:]) ** 2  # of the departures from the mean, by frequency
    share = float(energy[inside[1:]].sum() / energy.sum()) if energy.sum() > 0.0 else 0.0
    return {
        "band_energy_frac": share,
        "band_peak_to_peak_kw": float(banded.max() - banded.min()) / 1e3,
        "band_rms_kw": float(np.sqrt(np.mean(banded**2))) / 1e3,
        "strongest_hz": float(freqs[k]),
        "strongest_amplitude_kw": float(amplitude[k]) / 1e3,
    }


def battery_smoothed(
    load_w: FloatArray, sample_hz: float, spec: BatterySpec, window_s: float
) -> tuple[FloatArray, FloatArray, float]:
    """The grid's power and the battery's when a battery at the meter serves the load's departure
    from its moving mean over ``window_s`` (a smoothing controller); the battery's ratings and
    state of charge limit what it can serve. Returns the grid's power [W], the battery's at the bus
    [W, + discharge] and the change of its stored energy over the record [J]."""
    k = max(round(window_s * sample_hz), 1)
    kernel = np.ones(k) / k
    # trailing mean, the controller's estimate, already running before the record starts
    padded = np.concatenate([np.full(k - 1, load_w.mean()), load_w])
    target = np.convolve(padded, kernel, mode="valid")
    battery = Battery(spec)
    dt = 1.0 / sample_hz
    served = np.empty_like(load_w)
    start_kwh = battery.stored_kwh
    for i, (load, grid) in enumerate(zip(load_w, target, strict=True)):
        served[i] = battery.step(load - grid, dt).bus_power_w
    return load_w - served, served, (battery.stored_kwh - start_kwh) * J_PER_KWH


@dataclass(frozen=True)
class Mitigations:
    """What is tried against the swing: a GPU power floor as a share of TDP, a ramp-rate limit on
    each GPU [W/s], and a battery at the meter (power [kW], energy [kWh], smoothing window [s])."""

    floor_frac: float = 0.0
    ramp_w_per_s: float | None = None
    battery_kw: float = 0.0
    battery_kwh: float = 0.0
    battery_window_s: float = 10.0


def swing_figures(load_w: FloatArray, sample_hz: float, baseline_j: float) -> dict[str, float]:
    """A site's load waveform summed up: mean, min, max and swing [kW], the swing and the band's
    RMS as shares of the mean, the largest step between samples [kW/s], the band oscillation
    (:func:`band_oscillation`) and the energy over ``baseline_j`` [J]."""
    steps = np.abs(np.diff(load_w)) * sample_hz if load_w.size > 1 else np.zeros(1)
    mean_w = float(load_w.mean())
    band = band_oscillation(load_w, sample_hz)
    return {
        "mean_kw": mean_w / 1e3,
        "min_kw": float(load_w.min()) / 1e3,
        "max_kw": float(load_w.max()) / 1e3,
        "swing_kw": float(load_w.max() - load_w.min()) / 1e3,
        "swing_frac_of_mean": float(load_w.max() - load_w.min()) / mean_w,
        "band_rms_frac_of_mean": band["band_rms_kw"] * 1e3 / mean_w,
        "ramp_max_kw_per_s": float(steps.max()) / 1e3,
        **band,
        "energy_overhead_frac": float(load_w.sum()) / sample_hz / baseline_j - 1.0 if baseline_j else 0.0,
    }


def _warm(sim: Simulation, until_s: float) -> StepRecord:
    """Step ``sim`` from its start through ``until_s`` (at least one step); the last record."""
    rec = None
    for rec in sim.run():
        if rec.t_s >= until_s:
            break
    assert rec is not None  # a scenario has at least one step
    return rec


def training_power_quality(
    sim: Simulation,
    hall: int,
    job: int,
    seconds: float = 120.0,
    sample_hz: float = 100.0,
    mitigations: Mitigations = Mitigations(),
) -> dict[str, object]:
    """Resolve training job ``job`` of hall ``hall`` of ``sim`` in time, after stepping the twin
    through its warm-up (at least one step) to reach the job's temperatures and the site's other
    loads; what the grid sees raw and with each mitigation. The returned dict holds the figures
    (:func:`swing_figures` per case) and the waveforms (``t_s``, one array per case) for a page."""
    scenario = sim.scenario
    cfg = scenario.halls[hall].jobs[job]
    if not isinstance(cfg, TrainingJob):
        raise ValueError(f"halls.{hall}.jobs.{job} is a {cfg.type} job; power quality needs a training job")
    gpus = scenario.halls[hall].job_gpus()[job]
    rec = _warm(sim, max(scenario.warmup_s, cfg.start_s))
    h = sim.halls[hall]
    node = h.node
    temp = float(np.mean(h.state().temp_c[gpus]))
    phase = phase_power(cfg, h.spec, h.power_cap_w, temp)
    n = gpus.stop - gpus.start
    to_wall = 1.0 / (node.psu_efficiency_frac * sim.chain.pdu_efficiency)  # GPU → facility meter
    rest_w = rec.chain.facility_w - n * phase.mean_w * to_wall  # the rest of the site, held
    raw = phase_waveform(phase, seconds, sample_hz)
    cases = {"raw": raw}
    if mitigations.floor_frac > 0.0:
        cases["power floor"] = phase_waveform(
            phase, seconds, sample_hz, mitigations.floor_frac * h.spec.tdp_w
        )
    if mitigations.ramp_w_per_s:
        r = mitigations.ramp_w_per_s
        cases["ramp limit"] = ramp_limited(raw, sample_hz, r, r)
    site = {name: rest_w + n * w * to_wall for name, w in cases.items()}
    baseline_j = float(site["raw"].sum()) / sample_hz
    out: dict[str, object] = {
        "gpus": n,
        "junction_c": temp,
        # the twin's time-averaged power of the same GPUs in the same step, against the phases' mean
        "twin_gpu_w": float(np.mean(h.state().power_w[gpus])),
        "phase": phase,
        "rest_kw": rest_w / 1e3,
        "sample_hz": sample_hz,
        "cases": {name: swing_figures(w, sample_hz, baseline_j) for name, w in site.items()},
    }
    if mitigations.battery_kw > 0.0 and mitigations.battery_kwh > 0.0:
        spec = BatterySpec.for_chemistry(
            "li_ion_lfp", mitigations.battery_kwh, mitigations.battery_kw, mitigations.battery_kw
        )
        grid, battery, stored_j = battery_smoothed(site["raw"], sample_hz, spec, mitigations.battery_window_s)
        site["battery"] = grid
        figures = swing_figures(grid, sample_hz, baseline_j)
        figures["energy_overhead_frac"] -= stored_j / baseline_j  # what it gave up is drawn later
        figures["battery_max_kw"] = float(np.abs(battery).max()) / 1e3
        out["cases"]["battery"] = figures
    out["t_s"] = np.arange(raw.size) / sample_hz
    out["waveforms_kw"] = {name: w / 1e3 for name, w in site.items()}
    return out
