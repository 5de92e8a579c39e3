"""What the scenario fuzz tests share: a TOML writer, the run-a-few-steps property and a hang guard.

The property (:func:`check_scenario_file`): a scenario file is either rejected with a
:class:`ScenarioError` listing its problems (``aidc validate`` and ``aidc run`` exit with status 2),
or it builds and a few steps run with every output finite. No other exception is allowed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import re
import signal
import tomllib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, event, settings
from hypothesis.errors import InvalidArgument

from aidc.scenario import ScenarioError, load_scenario
from aidc.sim.build import build_simulation, run_memory_bytes
from aidc.sim.engine import Simulation, StepRecord
from aidc.telemetry.metrics import RunMetrics

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "aidc" / "examples"
EXAMPLE_DATA = {p.name: tomllib.loads(p.read_text()) for p in sorted(EXAMPLES.glob("*.toml"))}

STEPS = 3
MAX_BUILT_GPUS = 50_000  # valid halls above this are only sized (building one takes seconds)
CASE_TIME_LIMIT_S = 60  # a case is tens of ms; one still running after this has hung
LATENCY_PERCENTILE = re.compile(r"(ttft|tpot|e2e)_p\d+_s")


def fuzz_settings(examples: int | None = None, fuzz_examples: int | None = None) -> settings:
    """Settings of a fuzz test: the "fuzz" profile's (tests/conftest.py) when it is loaded, else the
    default profile's count (``examples`` if given) with no deadline: case times vary, a serving job
    builds its trace and a weather file its wet bulbs."""
    if settings.default is settings.get_profile("fuzz"):
        return settings(settings.default, max_examples=fuzz_examples or settings.default.max_examples)
    slow = [HealthCheck.too_slow, HealthCheck.data_too_large]
    return settings(
        max_examples=examples or settings.default.max_examples, deadline=None, suppress_health_check=slow
    )


# -- TOML ------------------------------------------------------------------------------------------
def toml_dumps(data: dict) -> str:
    """``data`` as TOML: one ``key = value`` line per top-level key, everything below inline."""
    return "".join(f"{_toml_key(k)} = {_toml_value(v)}\n" for k, v in data.items())


def _toml_key(key: str) -> str:
    return _toml_string(str(key))


def _toml_string(text: str) -> str:
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:  # TOML: control characters must be escaped
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _toml_string(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"no TOML for {type(v).__name__}")


# -- the property ----------------------------------------------------------------------------------
class Hang(BaseException):
    """A case ran longer than CASE_TIME_LIMIT_S (a BaseException: no ``except Exception`` hides it)."""


@contextlib.contextmanager
def time_limit(seconds: float = CASE_TIME_LIMIT_S) -> Iterator[None]:
    """Raise :class:`Hang` in the block after ``seconds`` of wall time (POSIX; main thread)."""

    def expire(signum, frame):
        raise Hang(f"case still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0.0)
        signal.signal(signal.SIGALRM, previous)


def write_scenario(folder: Path, data: dict | str, name: str = "scenario.toml") -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else toml_dumps(data), encoding="utf-8")
    return path


def check_problems(e: ScenarioError) -> None:
    assert e.problems, "a ScenarioError lists at least one problem"
    assert all(isinstance(p, str) and p.strip() for p in e.problems), e.problems


def check_scenario_file(path: Path) -> str:
    """Load, build and step the scenario at ``path``; the outcome, also recorded as a hypothesis event."""
    with time_limit():
        outcome = _outcome(path)
    with contextlib.suppress(InvalidArgument):  # outside a hypothesis test (a regression test)
        event(outcome)
    return outcome


def _outcome(path: Path) -> str:
    try:
        scenario = load_scenario(path)
    except ScenarioError as e:
        check_problems(e)
        return "rejected by the schema"
    if sum(h.gpu_count for h in scenario.halls) > MAX_BUILT_GPUS:
        assert run_memory_bytes(scenario) > 0
        return "valid, too large to build in a fuzz case"
    try:
        sim = build_simulation(scenario)
    except ScenarioError as e:
        check_problems(e)
        return "rejected when built"
    json.dumps(scenario.model_dump(mode="json"), allow_nan=False)  # the run's metadata.json
    json.dumps(sim.config(), allow_nan=False, default=str)
    step_a_few(sim)
    return "ran"


def step_a_few(sim: Simulation, steps: int = STEPS) -> dict:
    """Step ``sim`` from t = 0 and check every record and the summary are finite and non-negative."""
    metrics = RunMetrics(sim.config(), 0.0)
    dt = sim.scenario.dt_s
    for k in range(min(steps, sim.scenario.steps)):
        rec = sim.step(k * dt)
        check_record(rec)
        metrics.add(rec)
    summary = metrics.summary(sim.serving_results())
    for job in summary["serving"]:  # NaN there means no request finished (the result's convention)
        job = {k: v for k, v in job.items() if not LATENCY_PERCENTILE.fullmatch(k)}
        check_finite(job, "summary.serving")
    check_finite({k: v for k, v in summary.items() if k != "serving"}, "summary")
    assert all(v >= 0.0 for v in summary["energy_kwh"].values()), summary["energy_kwh"]
    if summary["pue"] is not None:
        assert summary["pue"] >= 1.0 - 1e-9, summary["pue"]
    return summary


def check_record(rec: StepRecord) -> None:
    check_finite(rec, "record")
    chain = rec.chain
    for name in ("it_w", "transformer_loss_w", "ups_loss_w", "pdu_loss_w", "cooling_w", "other_w"):
        assert getattr(chain, name) >= 0.0, (name, getattr(chain, name))
    for h in rec.halls:
        s = h.step
        # not gpu_w: the leakage linearized over a step can turn it negative (test_fuzz_regressions.py)
        assert min(s.node_fans_w, s.it_w, s.heat_to_liquid_w, s.server_airflow_m3_s) >= 0.0, s
        assert h.plant.total_w >= 0.0, h.plant


def check_finite(value: object, where: str) -> None:
    """Every number in ``value`` (dataclasses, dicts, lists, arrays; None allowed) is finite."""
    if value is None or isinstance(value, str | bool | slice):
        return
    if isinstance(value, int | float | np.number):
        assert math.isfinite(value), f"{where} = {value}"
    elif isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            bad = np.flatnonzero(~np.isfinite(value))
            assert not bad.size, f"{where}[{bad[0]}] = {value[bad[0]]}"
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            check_finite(getattr(value, f.name), f"{where}.{f.name}")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_finite(v, f"{where}.{k}")
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            check_finite(v, f"{where}.{i}")
