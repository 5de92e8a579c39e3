"""The scenario file: TOML validated into pydantic models.

Every field name carries its unit (``supply_air_temp_c``, ``power_cap_w``, ``dt_s``) and every
numeric field its allowed range; unknown keys are rejected. :func:`load_scenario` raises
:class:`ScenarioError` whose ``problems`` name the field path, the value, the unit and what is
allowed, before anything runs. Defaults are engineering values with their source in the field's
description.

The schema holds no physics and reads no data files: it checks names against the catalogs and
values against their ranges. What needs the components themselves (does the model fit the GPUs,
does the trace load, does the weather file parse) is checked when :mod:`aidc.sim.build` turns the
scenario into objects, with errors that name the same field paths.
"""

from aidc.scenario.common import ScenarioError
from aidc.scenario.facility import (
    AirCoolingConfig,
    CoolingConfig,
    HeatRejectionConfig,
    ImmersionCoolingConfig,
    LiquidCoolingConfig,
    PowerChainConfig,
    WeatherConfig,
)
from aidc.scenario.faults import FaultConfig
from aidc.scenario.hall import HallConfig, NodeConfig, ThermalConfig
from aidc.scenario.jobs import BurnJob, IdleJob, JobConfig, ServingJob, SharedPrefixConfig, TrainingJob
from aidc.scenario.root import (
    Scenario,
    TelemetryConfig,
    load_scenario,
    resolve_paths,
    scenario_data,
    validate_scenario,
)
from aidc.scenario.site import BatteryConfig, DemandResponseEvent, PVConfig, SiteConfig

__all__ = [
    "AirCoolingConfig",
    "BatteryConfig",
    "BurnJob",
    "CoolingConfig",
    "DemandResponseEvent",
    "FaultConfig",
    "HallConfig",
    "HeatRejectionConfig",
    "IdleJob",
    "ImmersionCoolingConfig",
    "JobConfig",
    "LiquidCoolingConfig",
    "NodeConfig",
    "PVConfig",
    "PowerChainConfig",
    "Scenario",
    "ScenarioError",
    "ServingJob",
    "SharedPrefixConfig",
    "SiteConfig",
    "TelemetryConfig",
    "ThermalConfig",
    "TrainingJob",
    "WeatherConfig",
    "load_scenario",
    "resolve_paths",
    "scenario_data",
    "validate_scenario",
]
