"""Controllers for site power (:class:`~aidc.control.site_env.SitePowerEnv`), by name
(:data:`SITE_CONTROLLERS`). Each reads the :class:`~aidc.control.site_env.SiteObservation` and the
environment's static facts (ratings, GPU counts, the scenario's grid signals) and returns an
action in the environment's ``[-1, 1]`` space.

* ``hold``: no lever moves: the battery idles, the GPUs at their highest cap, every job runs,
  every serving job admits all it may.
* ``follow-cap``: the greedy baseline for demand response. During a call the battery discharges
  what exceeds the cap; what it cannot cover lowers every GPU's cap by an integral rule; with the
  caps at their lowest and the site still over, flexible jobs pause, then serving jobs close
  replicas to new requests step by step. Outside calls the battery recharges at a fifth of its
  rating and every lever returns.
* ``carbon-threshold``: Sukprasert et al.'s threshold policy ("On the Limitations of
  Carbon-Aware Temporal and Spatial Workload Shifting in the Cloud", EuroSys 2024): flexible jobs
  pause in the hours whose carbon intensity is above a percentile of the day's, both from the
  day-ahead forecast made at midnight (:mod:`aidc.facility.forecast`, Holt-Winters by default;
  ``forecast=None`` reads the signal itself, an oracle), and run in the others; the battery
  charges in the clean hours and discharges in the dirty ones. It meets calls as ``follow-cap``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from aidc.control.site_env import SiteObservation, SitePowerEnv
from aidc.facility.forecast import HOURS_PER_DAY, day_ahead
from aidc.workload.pause import JobSchedule

CAP_GAIN = 0.5
"""Share of a step's excess over the cap the GPU caps take back per step (an integral gain; a
design choice: a call is met within a few 15-minute steps without oscillating)."""
RECHARGE_FRAC = 0.2
"""Battery recharge outside calls, as a share of its charge rating."""


class Hold:
    def __init__(self, env: SitePowerEnv):
        self.n, self.m = len(env.flexible), len(env.serving)

    def act(self, obs: SiteObservation) -> np.ndarray:
        return np.array([0.0, 1.0, *([-1.0] * self.n), *([1.0] * self.m)], dtype=np.float32)


class FollowCap:
    def __init__(self, env: SitePowerEnv):
        self.n, self.m = len(env.flexible), len(env.serving)
        battery = env.sim.site.battery if env.sim is not None else None
        self.battery_kw = battery.spec.max_discharge_kw if battery is not None else 0.0
        self.soc_floor = battery.spec.soc_min_frac if battery is not None else 1.0
        halls = env.sim.halls
        self.gpu_range_kw = sum(h.n * (h.spec.power_cap_max_w - h.spec.power_cap_min_w) for h in halls) / 1e3
        self.share = 1.0  # the GPU caps, in the action's units
        self.pause = False
        self.admit = 1.0  # serving jobs' admission, in the action's units

    def act(self, obs: SiteObservation) -> np.ndarray:
        if obs.cap_kw <= 0.0:
            self.share, self.pause, self.admit = 1.0, False, 1.0
            recharge = -RECHARGE_FRAC if obs.battery_soc_frac < 0.9 else 0.0
            return self._action(recharge)
        need_kw = obs.facility_kw - obs.pv_kw - obs.cap_kw  # what the grid must not carry
        battery_kw = self.battery_kw if obs.battery_soc_frac > self.soc_floor + 0.01 else 0.0  # not empty
        battery = float(np.clip(need_kw / battery_kw, 0.0, 1.0)) if battery_kw else 0.0
        left_kw = need_kw - battery * battery_kw
        self.share = float(np.clip(self.share - CAP_GAIN * 2.0 * left_kw / self.gpu_range_kw, -1.0, 1.0))
        if self.share <= -1.0 and left_kw > 0.0:
            if self.pause or not self.n:  # paused already (or nothing to pause): fewer replicas
                self.admit = max(self.admit - 0.5, -1.0)
            self.pause = True
        return self._action(battery)

    def _action(self, battery: float) -> np.ndarray:
        pause = 1.0 if self.pause else -1.0
        levers = [battery, self.share, *([pause] * self.n), *([self.admit] * self.m)]
        return np.array(levers, dtype=np.float32)


class CarbonThreshold(FollowCap):
    def __init__(self, env: SitePowerEnv, percentile: float = 50.0, forecast: str | None = "holt-winters"):
        super().__init__(env)
        self.env, self.percentile, self.method = env, percentile, forecast
        signals = env.sim.site.signals
        self.series = None if signals is None else signals.carbon_g_per_kwh
        self._day: int | None = None
        self._plan = np.zeros(HOURS_PER_DAY)  # the day's intensity as the controller sees it

    def _intensity_and_threshold(self) -> tuple[float, float]:
        """The hour's intensity and the day's threshold, from the day-ahead forecast made at the
        day's midnight (or, with ``forecast=None``, the signal itself: an oracle)."""
        hour = int(self.env.hour_of_year())
        day = hour // HOURS_PER_DAY
        if day != self._day:
            midnight = day * HOURS_PER_DAY
            if self.method is None:
                self._plan = np.take(self.series, np.arange(midnight, midnight + HOURS_PER_DAY), mode="wrap")
            else:
                self._plan = day_ahead(self.series, midnight, self.method)
            self._day = day
        plan = self._plan
        return float(plan[hour % HOURS_PER_DAY]), float(np.percentile(plan, self.percentile))

    def act(self, obs: SiteObservation) -> np.ndarray:
        action = super().act(obs)
        if self.series is None or obs.cap_kw > 0.0:
            return action
        intensity, threshold = self._intensity_and_threshold()
        dirty = intensity > threshold
        action[0] = 1.0 if dirty else (-1.0 if obs.battery_soc_frac < 0.95 else 0.0)
        action[2 : 2 + self.n] = 1.0 if dirty else -1.0
        return action


class CleanestHours(FollowCap):
    """Deadline-aware carbon shifting: each flexible job with a work target runs in the day's
    cleanest forecast hours, as many as its remaining work needs spread evenly over the days left
    (at its measured rate), and every hour once it would otherwise miss the episode's end."""

    def __init__(self, env: SitePowerEnv, forecast: str = "holt-winters"):
        super().__init__(env)
        self.env, self.method = env, forecast
        signals = env.sim.site.signals
        self.series = None if signals is None else signals.carbon_g_per_kwh
        self.end_h = env.sim.start_hour + env.scenario.duration_s / 3600.0
        self.schedules = [env.sim.halls[h].workload.schedules[name][1] for h, name in env.flexible]
        self.rates = [_nominal_rate_pflop_h(env, h, name) for h, name in env.flexible]
        self._day: int | None = None
        self._run_hours: list[set[int]] = [set() for _ in self.schedules]
        self._last: list[tuple[float, float] | None] = [None] * len(self.schedules)  # (hour, done) running

    def _plan(self, hour: int) -> None:
        """At a day's first hour: the hours each job runs today."""
        day = hour // HOURS_PER_DAY
        midnight = day * HOURS_PER_DAY
        forecast = day_ahead(self.series, midnight, self.method)
        order = np.argsort(forecast)  # cleanest first
        hours_left = max(self.end_h - hour, 1.0)
        days_left = max(math.ceil(hours_left / HOURS_PER_DAY), 1)
        for i, (schedule, rate) in enumerate(zip(self.schedules, self.rates, strict=True)):
            need_h = schedule.remaining_frac * (schedule.target_pflop or 0.0) / rate if rate > 0.0 else 0.0
            today = min(HOURS_PER_DAY, math.ceil(need_h / days_left + 1e-9))
            self._run_hours[i] = {midnight + int(k) for k in order[:today]}
        self._day = day

    def act(self, obs: SiteObservation) -> np.ndarray:
        action = super().act(obs)
        if self.series is None or obs.cap_kw > 0.0 or not self.schedules:
            return action
        hour = int(self.env.hour_of_year())
        if hour // HOURS_PER_DAY != self._day:
            self._plan(hour)
        now = self.env.hour_of_year()
        for i, schedule in enumerate(self.schedules):
            self._measure(i, schedule, now)
            rate = self.rates[i]
            need_h = schedule.remaining_frac * (schedule.target_pflop or 0.0) / rate if rate > 0.0 else 0.0
            # run every step left once what is needed, a restore and a step of margin fill them
            step_h = self.env.control_step_s / 3600.0
            late = need_h + schedule.restore_s / 3600.0 >= self.end_h - now - step_h
            run = late or hour in self._run_hours[i]
            action[2 + i] = -1.0 if run else 1.0
            self._last[i] = (now, schedule.done_pflop) if run else None
        return action

    def _measure(self, i: int, schedule: JobSchedule, now: float) -> None:
        """The job's rate over the last step it ran a whole step (the power cap and the heat make it
        slower than the nominal one), as the rate plans go by from then on."""
        last = self._last[i]
        if last is not None and now > last[0] and schedule.done_pflop > last[1]:
            measured = (schedule.done_pflop - last[1]) / (now - last[0])
            self.rates[i] = min(self.rates[i], measured) if schedule.remaining_frac > 0.0 else self.rates[i]


def _nominal_rate_pflop_h(env: SitePowerEnv, hall: int, job: str) -> float:
    """A training job's work per hour at its GPUs' maximum clock [PFLOP/h] (the power cap and
    temperatures make it somewhat less: a plan from it runs a little late, and catches up)."""
    workload = env.sim.halls[hall].workload
    sl = workload.schedules[job][0]
    _, tflops = workload.profile(np.full(workload.n, workload.clock_max_mhz))
    return float(tflops[sl].sum()) * 3600.0 / 1e3


SITE_CONTROLLERS: dict[str, Callable[[SitePowerEnv], Hold | FollowCap]] = {
    "hold": Hold,
    "follow-cap": FollowCap,
    "carbon-threshold": CarbonThreshold,
    "cleanest-hours": CleanestHours,
}
"""Site-power controllers by name: (an environment after ``reset``) → controller."""


def run_site_controller(env: SitePowerEnv, name: str) -> dict[str, float]:
    """One episode of controller ``name`` on ``env``; the totals of the step infos and the reward."""
    env.reset(seed=0)
    controller = SITE_CONTROLLERS[name](env)
    totals: dict[str, float] = {"reward": 0.0}
    while True:
        _, reward, terminated, truncated, info = env.step(controller.act(env.site_observation))
        totals["reward"] += reward
        for k, v in info.items():
            totals[k] = totals.get(k, 0.0) + v
        if terminated or truncated:
            return totals
