"""Scenario sections of the facility: weather, cooling plants, power chain."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from aidc.facility.chillers import CHILLER_CURVES
from aidc.facility.climates import BUNDLED_CLIMATES
from aidc.scenario.common import FrozenModel, known_name


class WeatherConfig(FrozenModel):
    """Either a bundled climate, a TMY file, or constant conditions (a laboratory)."""

    climate: str | None = Field(None, description="bundled climate name, see aidc.facility.weather")
    file: Path | None = Field(None, description="TMY3 or TMY2 file (read when the scenario is built)")
    format: Literal["tmy3", "tmy2"] = "tmy3"
    dry_bulb_c: float | None = Field(None, ge=-60.0, le=60.0)
    relative_humidity_pct: float | None = Field(None, ge=0.0, le=100.0)
    start: str = Field("01-01 00:00", description="start in the typical year, 'MM-DD HH:MM'")

    @model_validator(mode="after")
    def _one_source(self) -> WeatherConfig:
        chosen = sum(x is not None for x in (self.climate, self.file, self.dry_bulb_c))
        if chosen != 1:
            raise ValueError("give exactly one of climate, file, or dry_bulb_c (constant weather)")
        if self.climate is not None and self.climate not in BUNDLED_CLIMATES:
            raise ValueError(f"unknown climate {self.climate!r}; bundled: {', '.join(BUNDLED_CLIMATES)}")
        if self.dry_bulb_c is not None and self.relative_humidity_pct is None:
            raise ValueError("constant weather needs relative_humidity_pct too")
        self.start_hour_of_year()
        return self

    def start_hour_of_year(self) -> float:
        m = re.fullmatch(r"(\d{2})-(\d{2}) (\d{2}):(\d{2})", self.start)
        if not m:
            raise ValueError(f"start must be 'MM-DD HH:MM', got {self.start!r}")
        month, day, hour, minute = (int(g) for g in m.groups())
        days_in_month = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
        if not (1 <= month <= 12 and 1 <= day <= days_in_month[month - 1] and hour < 24 and minute < 60):
            raise ValueError(f"start {self.start!r} is not a date of a 365-day year")
        return (sum(days_in_month[: month - 1]) + day - 1) * 24.0 + hour + minute / 60.0


def _known_chiller(v: str) -> str:
    return known_name(v, CHILLER_CURVES, "chiller")


ChillerName = Annotated[str, AfterValidator(_known_chiller)]


class HeatRejectionConfig(FrozenModel):
    type: Literal["cooling_tower", "dry_cooler"]
    design_approach_k: float = Field(
        4.0,
        gt=0.5,
        le=20.0,
        description="leaving water minus ambient (wet-bulb: towers, dry-bulb: dry coolers) at design heat",
    )
    specific_fan_power_w_per_kw: float = Field(
        12.7,
        gt=0.0,
        le=100.0,
        description="fan power at design per kW rejected; 12.7 = ASHRAE 90.1-2019 Table 6.8.1-7 minimum for "
        "axial open towers (40.2 gpm/hp at 35/29.4/23.9 °C)",
    )


def _tower() -> HeatRejectionConfig:
    return HeatRejectionConfig(type="cooling_tower")


def _dry_cooler() -> HeatRejectionConfig:
    # Dry coolers: 8 K approach and 25 W/kW are typical catalogue design points for adiabatic-free
    # units (assumption; no single published standard value).
    return HeatRejectionConfig(type="dry_cooler", design_approach_k=8.0, specific_fan_power_w_per_kw=25.0)


def _chiller_restart_s() -> Any:
    return Field(
        300.0,
        ge=0.0,
        le=7200.0,
        description="power back to chillers cooling again; 45 s best case (Trane RTAE IOM), 2–8 min typical",
    )


def _facility_water_l() -> Any:
    return Field(
        None, ge=1.0, le=1e8, description="facility water in the loop; 2.5 min of design flow if omitted"
    )


class AirCoolingConfig(FrozenModel):
    type: Literal["air"] = "air"
    supply_air_temp_c: float = Field(24.0, ge=10.0, le=35.0, description="ASHRAE TC9.9 recommended 18–27 °C")
    chw_supply_temp_c: float = Field(14.0, ge=4.0, le=25.0)
    chw_delta_t_k: float = Field(6.0, gt=1.0, le=20.0)
    crah_coil_approach_k: float = Field(3.0, ge=0.5, le=10.0)
    crah_delta_t_k: float = Field(12.0, gt=2.0, le=30.0, description="air temperature rise at design airflow")
    crah_fan_pressure_pa: float = Field(
        400.0, gt=0.0, le=2000.0, description="total pressure of CRAH fans (assumption)"
    )
    crah_fan_efficiency_frac: float = Field(
        0.6, gt=0.1, le=0.95, description="EC plug fan wire-to-air (assumption)"
    )
    crah_min_airflow_frac: float = Field(0.3, ge=0.0, le=1.0)
    economizer: bool = True
    economizer_hx_approach_k: float = Field(1.5, ge=0.0, le=10.0)
    chiller: ChillerName = "mcquay-pfh-2124kw-6.03cop"
    chiller_units: int = Field(2, ge=1, le=64)
    heat_rejection: HeatRejectionConfig = Field(default_factory=_tower)
    pump_head_kpa: float = Field(250.0, gt=0.0, le=2000.0)
    pump_efficiency_frac: float = Field(0.7, gt=0.1, le=0.95)
    chiller_restart_s: float = _chiller_restart_s()
    chw_loop_volume_l: float | None = Field(
        None, ge=1.0, le=1e8, description="chilled water in the loop; 2.5 min of design flow if omitted"
    )
    chw_storage_m3: float = Field(0.0, ge=0.0, le=1e5, description="chilled-water storage tank on the loop")
    room_volume_m3: float | None = Field(
        None, ge=1.0, le=1e7, description="air in the hall; from the racks' floor area if omitted"
    )


class LiquidCoolingConfig(FrozenModel):
    type: Literal["liquid"] = "liquid"
    facility_supply_temp_c: float = Field(32.0, ge=2.0, le=45.0, description="ASHRAE W32 class by default")
    cdu_approach_k: float = Field(3.0, ge=0.5, le=15.0)
    fws_delta_t_k: float = Field(6.0, gt=1.0, le=20.0)
    tcs_delta_t_k: float = Field(8.0, gt=1.0, le=20.0)
    cdu_pump_head_kpa: float = Field(200.0, gt=0.0, le=2000.0)
    fws_pump_head_kpa: float = Field(150.0, gt=0.0, le=2000.0)
    pump_efficiency_frac: float = Field(0.7, gt=0.1, le=0.95)
    heat_rejection: HeatRejectionConfig = Field(default_factory=_dry_cooler)
    chiller: ChillerName = "mcquay-pfh-2124kw-6.03cop"
    chiller_units: int = Field(2, ge=1, le=64)
    residual_air: AirCoolingConfig = Field(default_factory=AirCoolingConfig)
    chiller_restart_s: float = _chiller_restart_s()
    loop_volume_l: float | None = _facility_water_l()


class ImmersionCoolingConfig(FrozenModel):
    type: Literal["immersion"] = "immersion"
    facility_supply_temp_c: float = Field(35.0, ge=2.0, le=50.0)
    hx_approach_k: float = Field(3.0, ge=0.5, le=15.0)
    fluid_delta_t_k: float = Field(8.0, gt=1.0, le=30.0)
    fluid_density_kg_m3: float = Field(
        820.0, gt=500.0, le=2000.0, description="PAO-6 class hydrocarbon near 40 °C"
    )
    fluid_cp_j_kgk: float = Field(
        2200.0, gt=500.0, le=5000.0, description="PAO-6 class hydrocarbon near 40 °C"
    )
    fluid_pump_head_kpa: float = Field(150.0, gt=0.0, le=2000.0)
    fws_delta_t_k: float = Field(6.0, gt=1.0, le=20.0)
    fws_pump_head_kpa: float = Field(150.0, gt=0.0, le=2000.0)
    pump_efficiency_frac: float = Field(0.7, gt=0.1, le=0.95)
    heat_rejection: HeatRejectionConfig = Field(default_factory=_dry_cooler)
    chiller: ChillerName = "mcquay-pfh-2124kw-6.03cop"
    chiller_units: int = Field(2, ge=1, le=64)
    chiller_restart_s: float = _chiller_restart_s()
    fluid_volume_l: float | None = Field(
        None, ge=1.0, le=1e8, description="fluid in the tanks; 9 L per kW of design heat if omitted"
    )
    loop_volume_l: float | None = _facility_water_l()


CoolingConfig = Annotated[
    AirCoolingConfig | LiquidCoolingConfig | ImmersionCoolingConfig, Field(discriminator="type")
]


class PowerChainConfig(FrozenModel):
    distribution: Literal["ac", "dc_800v"] = "ac"
    pdu_efficiency_frac: float = Field(0.985, gt=0.8, le=1.0, description="PDU with isolation transformer")
    # 10 GW bounds the site loads above any campus built or announced (a few GW); it keeps every
    # energy sum of a run far from overflow.
    lighting_w: float = Field(0.0, ge=0.0, le=1e10)
    other_loads_w: float = Field(0.0, ge=0.0, le=1e10, description="offices, security, building loads")
    redundancy: Literal["N", "2N"] = Field(
        "N", description="IT power paths: 2N feeds every rack from two, so losing one drops nothing"
    )
    ups_runtime_s: float = Field(
        300.0,
        ge=6.0,
        le=36_000.0,
        description="a full UPS battery at the rated IT load (assumption: the usual 5–10 min design, "
        "which covers a generator start and retries)",
    )
    ups_chemistry: Literal["lead_acid_vrla", "li_ion_lfp"] = "lead_acid_vrla"
    generator: bool = Field(True, description="a standby generator takes the load after a utility loss")
    generator_start_s: float = Field(
        10.0, gt=0.0, le=3600.0, description="utility loss to generator on load; NFPA 110 Type 10: ≤ 10 s"
    )
    cooling_on_ups: bool = Field(
        False, description="CRAH fans and coolant pumps ride the UPS (Uptime Institute's Continuous Cooling)"
    )
