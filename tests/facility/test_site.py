import json
import math

import pytest

from aidc.facility.grid import BUNDLED_GRID_SIGNALS
from aidc.facility.site import DISPATCH, Site, dispatch_peak_shaving, dispatch_self_consumption
from aidc.facility.solar import ARRAY_TYPES, MODULE_TYPES
from aidc.facility.storage import BATTERY_CHEMISTRY_PARAMETERS, Battery, BatterySpec
from aidc.scenario.site import ArrayType, Chemistry, DispatchName, GridSignalsName, ModuleType


class _ConstantPV:
    """A PV plant stand-in with a fixed output (the real one is tested in test_solar.py)."""

    def __init__(self, w: float):
        self.w = w

    def step(self, t_s, dt_s):
        return type("S", (), {"ac_power_w": self.w})()

    def config(self):
        return {"ac_w": self.w}


def _battery(**kw) -> Battery:
    return Battery(BatterySpec(capacity_kwh=100.0, max_charge_kw=50.0, max_discharge_kw=50.0, **kw))


def _balance(o) -> float:
    """Sources minus sinks at the meter [W]; zero when the step closes."""
    return o.grid_w + o.pv_w + o.battery_w - (o.facility_w + o.pv_exported_w + o.pv_curtailed_w)


def test_the_schema_names_equal_the_components_tables():
    assert set(ArrayType.__args__) == set(ARRAY_TYPES)
    assert set(ModuleType.__args__) == set(MODULE_TYPES)
    assert set(Chemistry.__args__) == set(BATTERY_CHEMISTRY_PARAMETERS)
    assert set(DispatchName.__args__) == set(DISPATCH)
    assert set(GridSignalsName.__args__) == set(BUNDLED_GRID_SIGNALS)


def test_dispatch_rules_by_hand():
    assert dispatch_self_consumption(30e3, 50e3, math.inf) == 30e3  # cover the deficit
    assert dispatch_self_consumption(-20e3, 50e3, math.inf) == -20e3  # store the surplus
    assert dispatch_peak_shaving(130e3, 50e3, 100e3) == pytest.approx(30e3)  # shave above the limit
    assert dispatch_peak_shaving(80e3, 50e3, 100e3) == pytest.approx(-20e3)  # recharge in the headroom
    assert dispatch_peak_shaving(20e3, 50e3, 100e3) == pytest.approx(-50e3)  # at most its rating


@pytest.mark.parametrize(
    ("pv_w", "load_w", "dispatch", "export"),
    [
        (0.0, 80e3, "self_consumption", True),
        (120e3, 80e3, "self_consumption", True),
        (120e3, 80e3, "self_consumption", False),
        (500e3, 80e3, "self_consumption", True),
        (0.0, 160e3, "peak_shaving", True),
        (30e3, 60e3, "peak_shaving", True),
    ],
)
def test_every_step_closes_its_balance(pv_w, load_w, dispatch, export):
    site = Site(_ConstantPV(pv_w), _battery(), dispatch, 100e3, export)
    for k in range(500):  # through the SoC limits
        o = site.step(k * 60.0, 60.0, load_w)
        assert abs(_balance(o)) <= 1e-9 * max(load_w, pv_w)
        assert o.grid_w >= -1e-9 * load_w and min(o.pv_used_w, o.pv_to_battery_w, o.pv_exported_w) >= 0.0
        assert (o.pv_curtailed_w == 0.0) if export else (o.pv_exported_w == 0.0)


def test_self_consumption_covers_the_night_until_the_floor():
    site = Site(_ConstantPV(0.0), _battery(initial_soc_frac=0.5), "self_consumption")
    o = site.step(0.0, 3600.0, 20e3)
    assert o.battery_w == pytest.approx(20e3) and o.grid_w == pytest.approx(0.0, abs=1e-6)
    spec = site.battery.spec
    usable_kwh = (0.5 - spec.soc_min_frac) * 100.0 * spec.discharge_efficiency - 20.0  # after the first hour
    o = site.step(3600.0, 3600.0, 20e3)  # runs out within the hour: the grid takes the rest
    assert o.battery_w * 3600.0 / 3.6e6 == pytest.approx(usable_kwh, rel=1e-3)
    assert o.grid_w == pytest.approx(20e3 - o.battery_w)


def test_peak_shaving_holds_the_import_at_the_limit():
    site = Site(None, _battery(initial_soc_frac=0.9), "peak_shaving", 100e3)
    o = site.step(0.0, 600.0, 140e3)
    assert o.grid_w == pytest.approx(100e3) and o.battery_w == pytest.approx(40e3)


def test_during_an_event_the_battery_discharges_above_the_cap_and_never_charges_from_the_grid():
    site = Site(_ConstantPV(0.0), _battery(initial_soc_frac=0.5), "self_consumption")
    o = site.step(0.0, 60.0, 80e3, event_cap_w=60e3)
    assert o.battery_w == pytest.approx(20e3) and o.grid_w == pytest.approx(60e3)
    o = site.step(60.0, 60.0, 40e3, event_cap_w=60e3)  # under the cap: no charging from the grid
    assert o.battery_w == 0.0 and o.grid_w == pytest.approx(40e3)


def test_config_is_strict_json_without_a_grid_limit():
    """Found by the fuzz: an unlimited grid (inf) in the run's metadata is not JSON."""
    json.dumps(Site(_ConstantPV(1.0), _battery()).config(), allow_nan=False)
