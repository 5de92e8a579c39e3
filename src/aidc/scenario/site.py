"""The site beyond the meter: on-site PV and a battery (``[site]``; both optional).

Names (mountings, module types, chemistries, dispatch policies, bundled grid signals) are checked
here against the lists below; ``tests/facility/test_site.py`` checks that they equal the
components' own tables (:mod:`aidc.facility.solar`, :mod:`aidc.facility.storage`,
:mod:`aidc.facility.site`, :mod:`aidc.facility.grid`), which the schema does not import (pvlib and
pandas would load with every scenario)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from aidc.scenario.common import FrozenModel

ArrayType = Literal["fixed_open_rack", "fixed_roof_mount", "one_axis_backtracking"]
ModuleType = Literal["standard", "premium", "thin_film"]
Chemistry = Literal["li_ion_lfp", "lead_acid_vrla"]
DispatchName = Literal["self_consumption", "peak_shaving"]
GridSignalsName = Literal["ercot-2022"]


class PVConfig(FrozenModel):
    """A PVWatts v8 system on the site's weather (a bundled climate or a TMY file)."""

    dc_capacity_kw: float = Field(gt=0.05, le=500_000.0, description="nameplate at STC")
    tilt_deg: float = Field(20.0, ge=0.0, le=90.0, description="from horizontal; a tracker's axis")
    azimuth_deg: float = Field(180.0, ge=0.0, lt=360.0, description="clockwise from north: 180 faces south")
    array_type: ArrayType = "fixed_open_rack"
    module_type: ModuleType = "standard"
    losses_pct: float = Field(14.08, ge=-5.0, le=99.0, description="PVWatts system losses (Dobos 2014)")
    dc_ac_ratio: float = Field(1.2, ge=0.5, le=3.0, description="DC nameplate over inverter AC rating")
    inverter_efficiency_frac: float = Field(0.96, ge=0.9, le=0.995)
    gcr_frac: float = Field(0.4, ge=0.01, le=0.99, description="ground coverage ratio of the rows")


class BatteryConfig(FrozenModel):
    """A battery at the meter; efficiencies, SoC window and self-discharge default to the
    chemistry's cited values (``aidc.facility.storage.BATTERY_CHEMISTRY_PARAMETERS``)."""

    chemistry: Chemistry = "li_ion_lfp"
    capacity_kwh: float = Field(gt=0.0, le=1e8, description="nominal energy, SoC 0 to 1")
    max_charge_kw: float = Field(gt=0.0, le=1e8, description="at the bus")
    max_discharge_kw: float = Field(gt=0.0, le=1e8, description="at the bus")
    soc_min_frac: float | None = Field(None, ge=0.0, lt=1.0)
    soc_max_frac: float | None = Field(None, gt=0.0, le=1.0)
    initial_soc_frac: float | None = Field(None, ge=0.0, le=1.0)
    round_trip_efficiency_frac: float | None = Field(
        None, gt=0.3, le=1.0, description="split evenly into the charge and discharge directions"
    )

    @model_validator(mode="after")
    def _window(self) -> BatteryConfig:
        low, high = self.soc_min_frac, self.soc_max_frac
        if low is not None and high is not None and low >= high:
            raise ValueError(f"soc_min_frac = {low:g} must be below soc_max_frac = {high:g}")
        return self


class DemandResponseEvent(FrozenModel):
    """A call to hold the site's grid import at or below ``cap_kw`` from ``start_s`` to ``end_s``
    (run time). The battery discharges first; the GPUs' power caps follow what is left
    (:mod:`aidc.sim.site_cap`)."""

    start_s: float = Field(ge=0.0, le=10 * 365 * 86400.0)
    end_s: float = Field(gt=0.0, le=10 * 365 * 86400.0)
    cap_kw: float = Field(gt=0.0, le=1e8, description="grid import limit during the event")

    @model_validator(mode="after")
    def _order(self) -> DemandResponseEvent:
        if self.end_s <= self.start_s:
            raise ValueError(f"end_s = {self.end_s:g} s must be after start_s = {self.start_s:g} s")
        return self


class SiteConfig(FrozenModel):
    pv: PVConfig | None = None
    battery: BatteryConfig | None = None
    dispatch: DispatchName = Field(
        "self_consumption", description="the battery's policy (aidc.facility.site.DISPATCH)"
    )
    grid_limit_kw: float | None = Field(
        None, gt=0.0, le=1e8, description="peak_shaving: grid import held at or below this"
    )
    export_allowed: bool = Field(True, description="PV surplus exported; curtailed if false")
    demand_response: list[DemandResponseEvent] = Field(default_factory=list)
    grid_signals: GridSignalsName | None = Field(
        None, description="bundled hourly grid signals (aidc.facility.grid.BUNDLED_GRID_SIGNALS)"
    )
    grid_signals_file: Path | None = Field(
        None,
        description="CSV of hourly carbon_g_per_kwh (and price_usd_per_mwh) over a year, local "
        "standard time (aidc.facility.grid.read_grid_csv); read when the scenario is built",
    )

    @model_validator(mode="after")
    def _dispatch_needs(self) -> SiteConfig:
        if self.grid_signals is not None and self.grid_signals_file is not None:
            raise ValueError("give grid_signals (bundled) or grid_signals_file, not both")
        if self.dispatch == "peak_shaving" and self.grid_limit_kw is None:
            raise ValueError("dispatch = 'peak_shaving' needs grid_limit_kw (the import to stay under)")
        events = sorted(self.demand_response, key=lambda e: e.start_s)
        for a, b in itertools.pairwise(events):
            if b.start_s < a.end_s:
                raise ValueError(f"demand_response events overlap at {b.start_s:g} s")
        return self
