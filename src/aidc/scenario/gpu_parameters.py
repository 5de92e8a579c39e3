"""A GPU parameter file: one device's calibrated power split and thermal path, which a hall names.

``aidc calibrate`` writes it; a scenario's hall reads it with ``gpu_parameters = "FILE.toml"``
(relative to the scenario). The file says which catalog GPU it refines; what it does not set stays
the catalog's (the power split) or the hall's (the thermal path)::

    gpu = "H100-SXM"
    static_power_w = 46.1
    leakage_ref_w = 249.2
    leakage_doubling_c = 12.54
    dynamic_max_w = 509.8

    [thermal]
    cold_plate_resistance_k_w = 0.0363
    capacitance_j_k = 784.0

    [fit]            # how it was fitted: free text and figures, for people
    recording = "runs/host"
"""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import Field, ValidationError, field_validator

from aidc.hardware.catalog import GPU_CATALOG, GPUSpec
from aidc.scenario.common import FrozenModel, known_name


class ThermalParameters(FrozenModel):
    """The thermal path fields a parameter file may set (the ranges of ``halls.thermal``)."""

    cold_plate_resistance_k_w: float | None = Field(None, ge=0.001, le=1.0)
    immersion_resistance_k_w: float | None = Field(None, ge=0.001, le=1.0)
    capacitance_j_k: float | None = Field(None, ge=1.0, le=1e5)


class GPUParameters(FrozenModel):
    gpu: str
    static_power_w: float | None = Field(None, ge=0.0, le=2000.0)
    leakage_ref_w: float | None = Field(None, ge=0.0, le=5000.0)
    leakage_doubling_c: float | None = Field(None, ge=3.0, le=40.0)
    dynamic_max_w: float | None = Field(None, ge=0.0, le=5000.0)
    thermal: ThermalParameters = Field(default_factory=ThermalParameters)
    fit: dict[str, Any] = Field(default_factory=dict, description="how it was fitted (not read)")

    @field_validator("gpu")
    @classmethod
    def _known_gpu(cls, v: str) -> str:
        return known_name(v, GPU_CATALOG, "GPU")

    def spec(self) -> GPUSpec:
        """The catalog entry with this file's power split."""
        split = self.model_dump(
            include={"static_power_w", "leakage_ref_w", "leakage_doubling_c", "dynamic_max_w"}
        )
        base = GPU_CATALOG[self.gpu]
        sources = {**base.sources, "physics": "calibrated: aidc calibrate (this hall's gpu_parameters file)"}
        return dataclasses.replace(
            base, **{k: v for k, v in split.items() if v is not None}, sources=MappingProxyType(sources)
        )

    def thermal_overrides(self) -> dict[str, float]:
        return self.thermal.model_dump(exclude_none=True)


def load_gpu_parameters(path: str | Path) -> GPUParameters:
    """Read and validate a parameter file; ``ValueError`` naming the file and each bad field."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"cannot read {p}: {e.strerror or e}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"{p}: not valid TOML: {e}") from None
    try:
        return GPUParameters.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(map(str, err['loc'])) or '(file)'} = {err.get('input')!r}: {err['msg']}"
            for err in e.errors()
        )
        raise ValueError(f"{p}: {problems}") from None


def gpu_parameters_toml(params: GPUParameters) -> str:
    """The TOML text of ``params`` (numbers to six significant digits; the fit section as written)."""
    lines = [f'gpu = "{params.gpu}"']
    top = params.model_dump(exclude={"gpu", "thermal", "fit"}, exclude_none=True)
    lines += [f"{k} = {v:.6g}" for k, v in top.items()]
    thermal = params.thermal_overrides()
    if thermal:
        lines += ["", "[thermal]"] + [f"{k} = {v:.6g}" for k, v in thermal.items()]
    if params.fit:
        lines += ["", "[fit]"] + [f"{k} = {_toml_value(v)}" for k, v in params.fit.items()]
    return "\n".join(lines) + "\n"


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return f"{v:.6g}"
    return '"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
