"""Where the joules go: a site's energy attributed to its parts, over windows of a running twin
(shaped like Zeus's ``ZeusMonitor.begin_window``/``end_window``) or over a stored run.

The parts, per hall: the GPUs' static, leakage and dynamic power (the split of
:func:`aidc.hardware.gpu.gpu_power_and_leakage`, the leakage at each step's temperatures; the
dynamic part is what remains of the GPUs' power), the servers' fans, the rest of the servers'
wall power (CPUs, memory, NICs, their power supplies' losses), and the cooling plant by
subsystem (CRAH fans, pumps, chillers, heat rejection); for the site, the power chain's losses
(transformer, UPS, PDU) and the other loads. They add up to the facility's energy by the twin's
own bookkeeping; :attr:`Window.closure` says how exactly.

Jobs: a monitor made with :meth:`EnergyMonitor.for_scenario` also splits each hall's GPU energy
by the job its GPUs belong to (``HALL/JOB/part``; GPUs in no job under ``(no job)``). The servers',
the cooling's and the power chain's energy is not shared out to jobs: any split would be a policy,
not a measurement.

Not attributed yet: serving replicas and phases (prefill, decode, KV transfer) and communication:
the twin books a GPU's power per step, not per phase.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aidc.scenario import Scenario
from aidc.sim.engine import HallRecord, StepRecord
from aidc.telemetry.store import Run, RunError

HALL_PARTS = (
    "gpu_static",
    "gpu_leakage",
    "gpu_dynamic",
    "node_fans",
    "node_other",
    "crah_fans",
    "pumps",
    "chillers",
    "heat_rejection",
)
SITE_PARTS = ("distribution_loss", "other_loads")


def step_power_w(rec: StepRecord) -> dict[str, float]:
    """Each part's power over the step [W], keyed ``HALL/part`` or ``site/part``."""
    out: dict[str, float] = {}
    for h in rec.halls:
        s, p, name = h.step, h.plant, h.state.name
        parts = (
            s.gpu_static_w,
            s.gpu_leakage_w,
            s.gpu_w - s.gpu_static_w - s.gpu_leakage_w,
            s.node_fans_w,
            s.it_w - s.gpu_w - s.node_fans_w,
            p.crah_fans_w,
            p.pumps_w,
            p.chiller_w,
            p.heat_rejection_w,
        )
        out |= {f"{name}/{part}": w for part, w in zip(HALL_PARTS, parts, strict=True)}
    out["site/distribution_loss"] = rec.chain.distribution_loss_w
    out["site/other_loads"] = rec.chain.other_w
    return out


@dataclass
class Window:
    """What a window of the twin's run used."""

    name: str
    seconds: float = 0.0
    facility_j: float = 0.0
    energy_j: dict[str, float] = field(default_factory=dict)  # per HALL/part and site/part
    jobs_j: dict[str, float] = field(default_factory=dict)  # GPU parts per HALL/JOB/part

    @property
    def closure(self) -> float:
        """|Σ parts − facility energy| / facility energy."""
        return (
            abs(sum(self.energy_j.values()) - self.facility_j) / self.facility_j if self.facility_j else 0.0
        )

    def by_part(self) -> dict[str, float]:
        """The energy of each part summed over the halls [J]."""
        out: dict[str, float] = {}
        for key, j in self.energy_j.items():
            part = key.rsplit("/", 1)[1]
            out[part] = out.get(part, 0.0) + j
        return out


class EnergyMonitor:
    """Windows over a running twin: pass :meth:`observe` as ``on_step`` (``aidc.api.simulate``,
    ``run_scenario``) or call it with each step's record; open and close windows by name between
    steps. Windows may overlap and nest."""

    def __init__(self, jobs: dict[str, dict[str, slice]] | None = None) -> None:
        self._open: dict[str, Window] = {}
        self.jobs = jobs or {}  # hall → job → its GPUs

    @classmethod
    def for_scenario(cls, scenario: Scenario) -> EnergyMonitor:
        """A monitor that also splits each hall's GPU energy by job."""
        return cls(
            {h.name: dict(zip((j.name for j in h.jobs), h.job_gpus(), strict=True)) for h in scenario.halls}
        )

    def begin_window(self, name: str) -> None:
        if name in self._open:
            raise ValueError(f"window {name!r} is already open")
        self._open[name] = Window(name)

    def end_window(self, name: str) -> Window:
        try:
            return self._open.pop(name)
        except KeyError:
            raise ValueError(f"no open window {name!r}; open: {', '.join(self._open) or 'none'}") from None

    def observe(self, rec: StepRecord) -> None:
        if not self._open:
            return
        dt = rec.dt_s
        power = step_power_w(rec)
        jobs = {
            k: v
            for h in rec.halls
            if h.state.name in self.jobs
            for k, v in _job_power_w(h, self.jobs).items()
        }
        for w in self._open.values():
            w.seconds += dt
            w.facility_j += rec.chain.facility_w * dt
            for key, watts in power.items():
                w.energy_j[key] = w.energy_j.get(key, 0.0) + watts * dt
            for key, watts in jobs.items():
                w.jobs_j[key] = w.jobs_j.get(key, 0.0) + watts * dt


def _job_power_w(h: HallRecord, jobs: dict[str, dict[str, slice]]) -> dict[str, float]:
    """GPU static, leakage and dynamic power of each job's GPUs in one hall [W]."""
    st = h.state
    n = st.power_w.size
    share = np.broadcast_to(np.asarray(st.static_share, dtype=np.float64), (n,))
    leakage = st.leakage_w if st.leakage_w is not None else np.zeros(n)
    static_w = h.step.gpu_static_w / max(float(share.sum()), 1e-300) * share  # per GPU
    owned = np.zeros(n, dtype=bool)
    out = {}
    for job, sl in [*jobs[st.name].items(), ("(no job)", None)]:
        mask = ~owned if sl is None else np.zeros(n, dtype=bool)
        if sl is not None:
            mask[sl] = True
            owned |= mask
        s, lk, p = float(static_w[mask].sum()), float(leakage[mask].sum()), float(st.power_w[mask].sum())
        out |= {f"{st.name}/{job}/gpu_static": s, f"{st.name}/{job}/gpu_leakage": lk}
        out[f"{st.name}/{job}/gpu_dynamic"] = p - s - lk
    return out


_HALL_SQL = """SELECT hall, sum(gpu_static_w), sum(gpu_leakage_w), sum(gpu_w - gpu_static_w - gpu_leakage_w),
    sum(node_fans_w), sum(it_w - gpu_w - node_fans_w), sum(crah_fans_w), sum(pumps_w), sum(chiller_w),
    sum(heat_rejection_w) FROM halls WHERE t_s >= {warmup} GROUP BY hall ORDER BY hall"""
_SITE_SQL = """SELECT sum(distribution_loss_w) AS distribution_loss, sum(other_w) AS other_loads,
    sum(facility_w) AS facility, count(*) AS rows FROM facility WHERE t_s >= {warmup}"""


def profile_run(path: str) -> Window:
    """A stored run's energy by part after its warm-up, from its ``halls`` and ``facility`` tables:
    each stored row stands for one sampling interval (every step unless ``telemetry.sample_s``).
    ``ValueError`` for a folder that is not a run, or a run made before these columns existed."""
    try:
        run = Run(path)
        scenario = run.metadata.get("scenario") or {}
        sample_s = float((scenario.get("telemetry") or {}).get("sample_s") or scenario["dt_s"])
        warmup = float(scenario.get("warmup_s") or 0.0)
        if "gpu_static_w" not in run.query("SELECT * FROM halls LIMIT 0").column_names:
            raise ValueError(
                f"{path}: its halls table has no gpu_static_w (made before aidc profile: run it again)"
            )
        halls = run.query(_HALL_SQL.format(warmup=warmup)).to_pylist()
        site = run.query(_SITE_SQL.format(warmup=warmup)).to_pylist()[0]
    except (RunError, KeyError) as e:
        raise ValueError(f"{path}: not a readable run ({e})") from None
    w = Window(str(path), seconds=site["rows"] * sample_s, facility_j=(site["facility"] or 0.0) * sample_s)
    for row in halls:
        name, *sums = row.values()
        w.energy_j |= {
            f"{name}/{part}": (v or 0.0) * sample_s for part, v in zip(HALL_PARTS, sums, strict=True)
        }
    for part in SITE_PARTS:
        w.energy_j[f"site/{part}"] = (site[part] or 0.0) * sample_s
    return w
