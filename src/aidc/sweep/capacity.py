"""Capacity planning: the largest value of one field (GPUs, a request rate) that a site holds under
its limits (a power budget, GPU temperatures the cooling must keep, a latency SLO), found by
bisection over real runs of the scenario.

A limit is a path into a run's summary, ``<=`` or ``>=``, and a number:
``facility_power_peak_15min_kw<=5000``, ``halls.0.gpu_temp_p99_c<=85``,
``serving.0.ttft_p99_s<=2``. A run meets its limits when every one holds; a figure the run does
not have (no request finished, so no TTFT) does not hold. The search assumes the limits are
monotone in the field (more GPUs draw more power and run hotter; more requests wait longer), takes
the low end as the start and probes the high end first; each probe is one run.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aidc.api import simulate
from aidc.scenario import Scenario, ScenarioError, validate_scenario
from aidc.sweep.runner import summary_value
from aidc.sweep.spec import set_field

_LIMIT = re.compile(r"^\s*([A-Za-z0-9_.]+)\s*(<=|>=)\s*([-+0-9.eE]+)\s*$")


@dataclass(frozen=True)
class Limit:
    path: str
    op: str  # "<=" or ">="
    value: float

    @classmethod
    def parse(cls, text: str) -> Limit:
        """``halls.0.gpu_temp_p99_c<=85``; ``ValueError`` naming the form otherwise."""
        m = _LIMIT.match(text)
        if not m:
            raise ValueError(f"limit {text!r}: write PATH<=NUMBER or PATH>=NUMBER, e.g. pue<=1.3")
        try:
            return cls(m.group(1), m.group(2), float(m.group(3)))
        except ValueError:
            raise ValueError(f"limit {text!r}: {m.group(3)!r} is not a number") from None

    def holds(self, summary: dict[str, Any]) -> bool:
        v = summary_value(summary, self.path)
        if not isinstance(v, int | float):
            return False
        return v <= self.value if self.op == "<=" else v >= self.value

    def __str__(self) -> str:
        return f"{self.path} {self.op} {self.value:g}"


@dataclass(frozen=True)
class Probe:
    value: float
    summary: dict[str, Any]
    failing: tuple[str, ...]  # the limits that did not hold

    @property
    def fits(self) -> bool:
        return not self.failing


def probe_scenario(base: dict[str, Any], field: str, value: float) -> Scenario:
    data = copy.deepcopy(base)
    try:
        set_field(data, field, value)
    except (KeyError, IndexError, TypeError) as e:
        raise ScenarioError([f"{field}: {e.args[0]}"], field) from None
    return validate_scenario(data, f"{field} = {value:g}")


def most_that_fits(
    base: dict[str, Any],
    field: str,
    low: float,
    high: float,
    limits: list[Limit],
    *,
    integer: bool = True,
    rel_tol: float = 0.01,
    run: Callable[[Scenario], dict[str, Any]] = simulate,
    on_probe: Callable[[Probe], None] | None = None,
) -> tuple[float | None, list[Probe]]:
    """The largest value of ``field`` in [low, high] whose run meets ``limits`` (None: not even
    ``low``), to one unit (``integer``) or to ``rel_tol`` of ``high``; and every probe. Every probe
    value is validated before the first run (``ScenarioError`` naming the field and value)."""
    for v in (low, high):
        probe_scenario(base, field, int(v) if integer else v)
    probes: list[Probe] = []

    def probe(value: float) -> bool:
        value = int(value) if integer else value
        summary = run(probe_scenario(base, field, value))
        p = Probe(value, summary, tuple(str(lim) for lim in limits if not lim.holds(summary)))
        probes.append(p)
        if on_probe is not None:
            on_probe(p)
        return p.fits

    if not probe(low):
        return None, probes
    if probe(high):
        return high, probes
    good, bad = low, high
    step = 1 if integer else rel_tol * abs(high)
    while bad - good > step:
        mid = (good + bad) // 2 if integer else (good + bad) / 2
        if probe(mid):
            good = mid
        else:
            bad = mid
    return good, probes
