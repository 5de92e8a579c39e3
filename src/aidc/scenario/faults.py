"""Faults (``[[faults]]``): a piece of equipment lost from a time, or from when the weather makes
it trip, for a while or for the rest of the run. What each does is in :mod:`aidc.facility.faults`;
the component names here equal its table (a test checks them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from aidc.scenario.common import TEN_YEARS_S, FrozenModel

FaultComponent = Literal[
    "chiller", "heat_rejection", "air_handler", "coolant_pump", "power_path", "gpu", "utility"
]


class FaultConfig(FrozenModel):
    """One fault. ``lost_frac`` is the share of the units of that kind lost (chillers, towers or
    dry coolers, CRAHs, coolant pumps; racks for a power path); a GPU fault fails ``gpus`` GPUs
    from ``first_gpu`` on; a utility outage hits the whole site."""

    name: str | None = Field(None, description="the fault's name in the report; component@start if omitted")
    component: FaultComponent
    hall: str | None = Field(None, description="the hall it hits; every hall if omitted")
    start_s: float = Field(
        ge=0.0, le=TEN_YEARS_S, description="run time it starts (or is armed, with a trigger)"
    )
    duration_s: float | None = Field(
        None, gt=0.0, le=TEN_YEARS_S, description="until repaired; to the end of the run if omitted"
    )
    lost_frac: float = Field(1.0, gt=0.0, le=1.0, description="share of the units of that kind lost")
    gpus: int | None = Field(None, ge=1, le=10_000_000, description="gpu faults: how many GPUs fail")
    first_gpu: int = Field(0, ge=0, le=10_000_000, description="gpu faults: the hall's index of the first")
    trigger_dry_bulb_above_c: float | None = Field(
        None, ge=-60.0, le=70.0, description="starts at the first step from start_s this hot outdoors"
    )

    @model_validator(mode="after")
    def _check(self) -> FaultConfig:
        if (self.component == "gpu") != (self.gpus is not None):
            raise ValueError("gpus is set for gpu faults, and only for them")
        if self.component == "utility" and (self.hall is not None or self.lost_frac != 1.0):
            raise ValueError("a utility outage hits the whole site: no hall, no lost_frac")
        return self

    def label(self) -> str:
        return self.name or f"{self.component}@{self.start_s:g}s"
