"""The UPS battery: sized for its runtime, drained at Peukert's rate, recharged afterwards."""

from __future__ import annotations

import pytest

from aidc.facility.backup import BackupPower, peukert_drain_factor, ups_battery_spec
from aidc.facility.storage import BATTERY_CHEMISTRY_PARAMETERS, Battery, ups_runtime_s

LEAD_ACID = {**BATTERY_CHEMISTRY_PARAMETERS["lead_acid_vrla"], "initial_soc_frac": 1.0}


def test_a_ups_sized_for_five_minutes_carries_its_rated_load_for_five_minutes():
    spec = ups_battery_spec(1e6, 300.0, LEAD_ACID)
    assert ups_runtime_s(spec, 1e6, spec.capacity_kwh) == pytest.approx(300.0, rel=1e-9)
    # the high rate costs capacity: the cells hold more than 5 minutes of the load
    assert spec.capacity_kwh * spec.discharge_efficiency > 1e3 * 5 / 60


def test_stepping_a_constant_load_empties_the_ups_at_peukerts_runtime():
    spec = ups_battery_spec(1e6, 300.0, LEAD_ACID)
    ups = BackupPower(Battery(spec), generator_start_s=10.0)
    load, delivered, t = 6e5, 0.0, 0.0
    runtime = ups_runtime_s(spec, load, spec.capacity_kwh)
    while t < runtime + 20.0:
        step = ups.step(1.0, load, 1.0)
        delivered += step.ups_w
        t += 1.0
        if step.ups_empty_s is not None:
            break
    assert t == pytest.approx(runtime, abs=1.0)
    assert delivered == pytest.approx(load * runtime, rel=0.01)
    assert peukert_drain_factor(spec, load) > 1.0


def test_after_an_outage_the_ups_recharges_at_its_chargers_rate_and_then_draws_nothing():
    spec = ups_battery_spec(1e6, 300.0, LEAD_ACID)
    ups = BackupPower(Battery(spec), generator_start_s=10.0)
    ups.step(10.0, 8e5, 1.0)
    charging = ups.step(10.0, 8e5, 0.0)
    assert charging.ups_charge_w == pytest.approx(spec.max_charge_kw * 1e3)
    while ups.step(60.0, 8e5, 0.0).ups_charge_w > 0.0:
        pass
    assert ups.state().ups_soc_frac == pytest.approx(1.0)
    assert ups.step(60.0, 8e5, 0.0).ups_charge_w == 0.0  # on float: part of the UPS's losses
