"""Cooling control sensed and acted on at a chosen interval, over physics that steps every second:
the measurement behind "resolution is speed" (``experiments/resolution_is_speed.py``).

The twin's physics keeps its own step (1 s here) whatever the controller's interval; the controller
sees the hall at the end of each of its intervals and its setpoints hold until the next. The
shield's rate limits are ramp rates in time (:data:`aidc.control.spaces.RATE_REFERENCE_S`), so a
fast controller cannot move equipment faster than a slow one, only sooner. The predictive shield
is off: its look-ahead is one control interval, which would give slow controllers a longer
preview and confound the comparison; the reactive shield (ranges, ramps, the margin fallback) is on.

Each event is a day of the bundled Greensboro TMY3 year with one fast change an hour into the
window (:data:`EVENTS`). The plant's own local loops (a chiller holding its leaving water, a CRAH
its supply air) are ideal within their capacity in the twin (:mod:`aidc.facility.thermal_mass`),
so this measures supervisory setpoint control, not the loops under it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from aidc.control.api import resolve_controller
from aidc.control.env import CoolingEnv
from aidc.control.offline import controller_action
from aidc.control.twin import HallTwin, control_scenario


@dataclass(frozen=True)
class Event:
    """A window of the twin with one fast change at ``at_s``."""

    description: str
    start: str  # weather start, "MM-DD HH:MM" of the bundled Greensboro TMY3 year
    job_start_s: float = 0.0
    faults: dict[str, dict] = field(default_factory=dict)  # per hall kind: one [[faults]] entry


EVENTS: dict[str, Event] = {
    "load-step": Event(
        "a 1,024-GPU training job starts on an idle hall (IT power ×4 in one step) at 11:00 on 15 July",
        "07-15 10:00",
        job_start_s=3600.0,
    ),
    "weather-front": Event(
        "the largest 3-hour fall of the year in the TMY3 file: 33.9 → 21.1 °C from 14:00 on 2 June "
        "(a thunderstorm's outflow)",
        "06-02 12:00",
    ),
    "fault": Event(
        "half the coolant pumps (liquid) or a third of the chillers (air) lost for 30 minutes at "
        "11:00 on 15 July: capacity the hall survives, with an excursion",
        "07-15 10:00",
        faults={
            "liquid": {
                "component": "coolant_pump",
                "start_s": 3600.0,
                "duration_s": 1800.0,
                "lost_frac": 0.5,
            },
            "air": {"component": "chiller", "start_s": 3600.0, "duration_s": 1800.0, "lost_frac": 0.34},
        },
    ),
    "severe-fault": Event(
        "half the dry coolers (liquid) or half the chillers (air) lost for the rest of the window at "
        "11:00 on 15 July: more than the hall survives, so what counts is how long it lasts",
        "07-15 10:00",
        faults={
            "liquid": {"component": "heat_rejection", "start_s": 3600.0, "lost_frac": 0.5},
            "air": {"component": "chiller", "start_s": 3600.0, "lost_frac": 0.5},
        },
    ),
}


def event_scenario(kind: str, event: str, *, racks: int = 32, dt_s: float = 1.0) -> dict:
    """The control environment's hall (:func:`~aidc.control.twin.control_scenario`) on ``event``'s
    day, its physics stepped every ``dt_s``."""
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; known: {', '.join(EVENTS)}")
    ev = EVENTS[event]
    sc = control_scenario(kind, racks=racks)
    sc["dt_s"] = dt_s
    sc["weather"]["start"] = ev.start
    sc["halls"][0]["jobs"][0]["start_s"] = ev.job_start_s
    if kind in ev.faults:
        sc["faults"] = [ev.faults[kind]]
    return sc


def run_at_interval(
    scenario: dict, controller: str | Path, interval_s: float, hours: float, *, seed: int = 0
) -> dict[str, float]:
    """``controller`` (a baseline name or a policy file) sensing and acting every ``interval_s``
    for ``hours`` of ``scenario``; the PI's integral is scaled to the interval. Totals: energies
    [kWh], the work delivered [PFLOP] and the facility energy per EFLOP, GPU-hours within 2 K of
    slowdown or throttled, throttled GPU-hours, the hottest junction at any physics step [°C], the
    share of time the shield's fallback was in control, and the hour of the first thermal shutdown
    in the physics' time (NaN when none). The run stops at the control step that sees it; the
    GPU-hours near slowdown are counted to the shutdown, the energies and work to that step's end."""
    env = CoolingEnv(
        HallTwin(scenario), control_step_s=interval_s, episode_hours=hours, predictive_shield=False
    )
    params = {"dt_s": interval_s} if controller == "pid" else {}
    ctl = resolve_controller(env, str(controller), **params)
    env.reset(seed=seed)
    start_s = env.twin.t_s
    ctl.reset()
    keys = ("cooling_kwh", "it_kwh", "facility_kwh", "work_pflop", "gpu_violation_gpu_h", "throttled_gpu_h")
    out = dict.fromkeys(keys, 0.0) | {"gpu_temp_peak_c": -math.inf, "fallback_share": 0.0}
    out["shutdown_h"] = math.nan
    steps = 0
    while True:
        _, _, terminated, truncated, info = env.step(controller_action(env, ctl))
        steps += 1
        if terminated:  # count to the first shutdown, which a slow controller only sees later
            info = info | {"gpu_violation_gpu_h": info["gpu_violation_before_shutdown_gpu_h"]}
            out["shutdown_h"] = (info["shutdown_t_s"] - start_s) / 3600.0
        for k in keys:
            out[k] += info[k]
        out["gpu_temp_peak_c"] = max(out["gpu_temp_peak_c"], info["gpu_temp_peak_c"])
        out["fallback_share"] += any(i.startswith("fallback") for i in info["shield"])
        if terminated or truncated:
            break
    out["fallback_share"] /= steps
    out["pue"] = out["facility_kwh"] / out["it_kwh"]
    work = out["work_pflop"]
    out["facility_kwh_per_eflop"] = out["facility_kwh"] / work * 1e3 if work > 0.0 else math.nan
    return out
