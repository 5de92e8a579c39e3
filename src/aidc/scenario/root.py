"""The scenario file's root: the whole scenario, its validation and its loading from TOML."""

from __future__ import annotations

import math
import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from aidc.scenario.common import TEN_YEARS_S, FrozenModel, SafeName, ScenarioError
from aidc.scenario.facility import PowerChainConfig, WeatherConfig
from aidc.scenario.faults import FaultConfig
from aidc.scenario.hall import HallConfig
from aidc.scenario.site import SiteConfig
from aidc.units import unit_of


class TelemetryConfig(FrozenModel):
    sample_s: float | None = Field(
        None, gt=0.0, le=TEN_YEARS_S, description="keep one sample every sample_s; every step if omitted"
    )
    per_gpu: bool = Field(False, description="also store every GPU's series (small sites only)")
    chunk_rows: int = Field(2048, ge=1, le=1_000_000)


class Scenario(FrozenModel):
    name: SafeName = Field("scenario", description="the run's name, and its folder runs/<name> by default")
    description: str = ""
    seed: int = Field(0, ge=0)
    duration_s: float = Field(3600.0, gt=0.0, le=TEN_YEARS_S)
    dt_s: float = Field(10.0, ge=1.0, le=900.0, description="time step, 1 s to 15 min")
    warmup_s: float = Field(
        0.0, ge=0.0, description="time kept out of the run's summary metrics while temperatures settle"
    )
    weather: WeatherConfig
    halls: list[HallConfig] = Field(min_length=1)
    power_chain: PowerChainConfig = Field(default_factory=PowerChainConfig)
    site: SiteConfig | None = Field(None, description="on-site PV and a battery at the meter")
    faults: list[FaultConfig] = Field(default_factory=list, description="equipment lost during the run")
    telemetry: TelemetryConfig = Field(default_factory=TelemetryConfig)

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        if self.dt_s > self.duration_s:
            raise ValueError(f"dt_s = {self.dt_s:g} s is longer than duration_s = {self.duration_s:g} s")
        if self.warmup_s >= self.duration_s:
            raise ValueError(
                f"warmup_s = {self.warmup_s:g} s leaves nothing of duration_s = {self.duration_s:g} s"
            )
        if self.telemetry.sample_s is not None and self.telemetry.sample_s < self.dt_s:
            raise ValueError("telemetry.sample_s must be at least dt_s")
        if self.site is not None and self.site.pv is not None and self.weather.dry_bulb_c is not None:
            raise ValueError("site.pv needs sunlight: a weather climate or TMY file, not constant conditions")
        names = [h.name for h in self.halls]
        if len(set(names)) != len(names):
            raise ValueError(f"hall names must be unique, got {names}")
        self._check_faults(names)
        return self

    def _check_faults(self, names: list[str]) -> None:
        labels = [f.label() for f in self.faults]
        if len(set(labels)) != len(labels):
            raise ValueError(f"fault names must be unique (name them), got {labels}")
        for i, f in enumerate(self.faults):
            if f.hall is not None and f.hall not in names:
                raise ValueError(f"faults.{i}.hall = {f.hall!r}: no such hall; halls are {names}")
            if f.gpus is None:
                continue
            for hall in self.halls if f.hall is None else [h for h in self.halls if h.name == f.hall]:
                if f.first_gpu + f.gpus > hall.gpu_count:
                    raise ValueError(
                        f"faults.{i}: GPUs {f.first_gpu}–{f.first_gpu + f.gpus - 1} are beyond hall "
                        f"{hall.name!r}'s {hall.gpu_count}"
                    )

    @property
    def steps(self) -> int:
        return math.ceil(self.duration_s / self.dt_s - 1e-9)


def _describe(err: dict[str, Any]) -> str:
    loc = [str(p) for p in err["loc"] if not str(p).startswith(("function-", "tagged-union"))]
    path = ".".join(loc) or "(scenario)"
    field = loc[-1] if loc else ""
    unit = unit_of(field)
    unit_s = f" {unit}" if unit and not unit.startswith(("fraction", "ratio")) else ""
    ctx = err.get("ctx") or {}
    bounds = []
    for key, sym in (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<")):
        if key in ctx:
            bounds.append(f"{sym} {ctx[key]}{unit_s}")
    allowed = f" (allowed: {' and '.join(bounds)})" if bounds else ""
    if err["type"] == "extra_forbidden":
        return f"{path}: unknown key"
    if err["type"] == "missing":
        return f"{path}: required"
    value = err.get("input")
    shown = "" if isinstance(value, dict | list) else f" = {_short_repr(value)}{unit_s}"
    if err["type"] == "finite_number":
        return f"{path}{shown}: must be a finite number"
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{path}{shown}: {msg}{allowed}"


def _short_repr(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 1]}…"


def validate_scenario(data: dict[str, Any], source: str = "scenario") -> Scenario:
    """Validate a parsed scenario; ``ScenarioError`` lists every problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError([_describe(err) for err in e.errors()], source) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario TOML file. Relative file paths in it (the weather file, serving
    traces) resolve against the file's folder, whatever the working directory."""
    return validate_scenario(scenario_data(path), str(path))


def scenario_data(path: str | Path) -> dict[str, Any]:
    """A scenario TOML file as parsed, its relative file paths made absolute against its folder,
    not validated (what a sweep edits before validating each variant); ``ScenarioError`` if it
    cannot be read."""
    p = Path(path)
    if p.is_dir():
        raise ScenarioError([f"{p} is a directory, not a scenario file"], str(p))
    if not p.is_file():
        raise ScenarioError([f"file not found: {p}"], str(p))
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ScenarioError([f"cannot read {p}: {e.strerror or e}"], str(p)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ScenarioError([f"not valid TOML: {e}"], str(p)) from None
    except RecursionError:
        raise ScenarioError(["not valid TOML: nested too deeply"], str(p)) from None
    resolve_paths(data, p.resolve().parent)
    return data


def resolve_paths(data: dict[str, Any], folder: Path) -> None:
    """Make the relative file paths of a parsed scenario absolute, against ``folder``.

    A serving job's ``trace`` is a file when it has a path separator or a suffix, or names a file in
    ``folder``; otherwise it is a bundled trace's name (``azure-conv``), checked when built.
    """
    weather = data.get("weather")
    if isinstance(weather, dict):
        _resolve(weather, "file", folder)
    site = data.get("site")
    if isinstance(site, dict):
        _resolve(site, "grid_signals_file", folder)
    for hall in _dicts(data.get("halls")):
        _resolve(hall, "gpu_parameters", folder)
        for job in _dicts(hall.get("jobs")):
            trace = job.get("trace")
            if isinstance(trace, str) and (
                Path(trace).suffix or "/" in trace or "\\" in trace or (folder / trace).is_file()
            ):
                _resolve(job, "trace", folder)


def _dicts(items: object) -> list[dict[str, Any]]:
    return [x for x in items if isinstance(x, dict)] if isinstance(items, list) else []


def _resolve(section: dict[str, Any], key: str, folder: Path) -> None:
    value = section.get(key)
    if isinstance(value, str) and value and not Path(value).is_absolute():
        section[key] = os.path.normpath(folder / value)  # lexical: a bad path fails when it is read
