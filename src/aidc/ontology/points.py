"""Which run-store column is which Brick point, and whose: the vocabulary of
:func:`aidc.ontology.brick.brick_model` (columns of :mod:`aidc.telemetry.rows`; the unit comes
from each column's suffix, :func:`aidc.units.unit_of`)."""

from __future__ import annotations

from typing import NamedTuple

import rdflib

BRICK = rdflib.Namespace("https://brickschema.org/schema/Brick#")
AIDC = rdflib.Namespace("urn:aidc:schema#")


class PointSpec(NamedTuple):
    column: str
    cls: rdflib.URIRef
    owner: str  # the entity it is a point of (a name in the model, or a role: "hall", "supply")
    group: str = "base"  # facility columns: "base", "site" (a [site] section) or "backup" (faults)
    stored: bool = True  # has a time series in the run store


POWER = BRICK.Electric_Power_Sensor

FACILITY_POINTS: tuple[PointSpec, ...] = (
    PointSpec("dry_bulb_c", BRICK.Outside_Air_Temperature_Sensor, "site"),
    PointSpec("wet_bulb_c", BRICK.Outside_Air_Wet_Bulb_Temperature_Sensor, "site"),
    PointSpec("it_w", POWER, "meter"),
    PointSpec("gpu_w", POWER, "meter"),
    PointSpec("node_fans_w", POWER, "meter"),
    PointSpec("crah_fans_w", POWER, "meter"),
    PointSpec("pumps_w", POWER, "meter"),
    PointSpec("chiller_w", POWER, "meter"),
    PointSpec("heat_rejection_w", POWER, "meter"),
    PointSpec("cooling_w", POWER, "meter"),
    PointSpec("distribution_loss_w", POWER, "meter"),
    PointSpec("other_w", POWER, "meter"),
    PointSpec("facility_w", POWER, "meter"),
    PointSpec("pue", AIDC.Efficiency_Sensor, "meter"),
    PointSpec("grid_w", POWER, "meter", "site"),
    PointSpec("pv_w", POWER, "pv/inverter", "site"),
    PointSpec("pv_exported_w", POWER, "pv/inverter", "site"),
    PointSpec("pv_curtailed_w", POWER, "pv/inverter", "site"),
    PointSpec("battery_w", POWER, "battery/cells", "site"),
    PointSpec("battery_soc_frac", AIDC.State_Of_Charge_Sensor, "battery/cells", "site"),
    PointSpec("event_cap_w", POWER, "meter", "site"),
    PointSpec("grid_carbon_g_per_kwh", AIDC.Carbon_Intensity_Sensor, "meter", "site"),
    PointSpec("grid_price_usd_per_mwh", AIDC.Price_Sensor, "meter", "site"),
    PointSpec("utility_w", POWER, "meter", "backup"),
    PointSpec("generator_w", POWER, "generator", "backup"),
    PointSpec("ups_w", POWER, "ups-a", "backup"),
    PointSpec("ups_charge_w", POWER, "ups-a", "backup"),
    PointSpec("ups_soc_frac", AIDC.State_Of_Charge_Sensor, "ups-a", "backup"),
    PointSpec("faults_active", AIDC.Count_Sensor, "site", "backup"),
)

HALL_POINTS: tuple[PointSpec, ...] = (
    PointSpec("gpus_running", AIDC.Count_Sensor, "hall"),
    PointSpec("gpu_w", POWER, "hall"),
    PointSpec("it_w", POWER, "hall"),
    PointSpec("supply_air_c", BRICK.Supply_Air_Temperature_Sensor, "supply"),
    PointSpec("liquid_supply_c", BRICK.Leaving_Water_Temperature_Sensor, "supply"),
    PointSpec("gpu_temp_mean_c", AIDC.GPU_Temperature_Sensor, "hall"),
    PointSpec("gpu_temp_p99_c", AIDC.GPU_Temperature_Sensor, "hall"),
    PointSpec("gpu_temp_max_c", AIDC.GPU_Temperature_Sensor, "hall"),
    PointSpec("clock_mean_mhz", AIDC.GPU_Clock_Sensor, "hall"),
    PointSpec("tflops_per_gpu", AIDC.Throughput_Sensor, "hall"),
    PointSpec("throttled_frac", AIDC.Efficiency_Sensor, "hall"),
    PointSpec("gpus_shut_down", AIDC.Count_Sensor, "hall"),
)

GPU_POINTS: tuple[PointSpec, ...] = (
    PointSpec("temp_c", AIDC.GPU_Temperature_Sensor, "gpu"),
    PointSpec("power_w", AIDC.GPU_Power_Sensor, "gpu"),
    PointSpec("clock_mhz", AIDC.GPU_Clock_Sensor, "gpu"),
    PointSpec("tflops", AIDC.Throughput_Sensor, "gpu"),
)
