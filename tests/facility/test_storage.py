"""Energy storage: hand-worked steps, efficiencies the right way round, the power and SoC limits
within a step, independence of the step length, the energy balance of every step, and the UPS
runtime by Peukert's law."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aidc.facility.storage import (
    BATTERY_CHEMISTRY_PARAMETERS,
    HOURS_PER_MONTH,
    Battery,
    BatterySpec,
    battery_step,
    peukert_runtime_s,
    self_discharge_exponential,
    time_to_level_s,
    ups_runtime_s,
)
from aidc.units import J_PER_KWH

H = 3600.0


def lossless_window(**overrides) -> BatterySpec:
    """100 kWh, 50 kW both ways, 95 % each way, no self-discharge, the whole 0–1 window."""
    params = dict(
        soc_min_frac=0.0,
        soc_max_frac=1.0,
        charge_efficiency=0.95,
        discharge_efficiency=0.95,
        self_discharge_frac_per_h=0.0,
        initial_soc_frac=1.0,
    )
    return BatterySpec(100.0, 50.0, 50.0, **{**params, **overrides})


def balance_residual_j(s) -> float:
    """Bus energy in − out − (ΔE_stored + losses) [J]."""
    return -s.bus_energy_j - (s.stored_change_j + s.conversion_loss_j + s.self_discharge_loss_j)


def balance_scale_j(s) -> float:
    return max(abs(s.bus_energy_j), abs(s.stored_change_j), s.losses_j, 1e-300)


# --- hand-worked values --------------------------------------------------------------------------


def test_discharge_divides_by_the_efficiency():
    # 50 kW at the bus for 1 h at η_d = 0.95: the cells give 50/0.95 = 52.63 kWh
    s = battery_step(lossless_window(), 100.0, 50e3, H)
    assert s.bus_energy_j == pytest.approx(50.0 * J_PER_KWH, rel=1e-12)
    assert -s.stored_change_j == pytest.approx(50.0 / 0.95 * J_PER_KWH, rel=1e-12)
    assert s.stored_kwh == pytest.approx(100.0 - 50.0 / 0.95, rel=1e-12)
    assert s.conversion_loss_j == pytest.approx(50.0 * (1 / 0.95 - 1) * J_PER_KWH, rel=1e-12)
    assert not s.power_limited and not s.soc_limited


def test_charge_multiplies_by_the_efficiency():
    # 50 kW from the bus for 1 h at η_c = 0.95: 47.5 kWh stored, 2.5 kWh lost
    s = battery_step(lossless_window(), 50.0, -50e3, H)
    assert s.bus_energy_j == pytest.approx(-50.0 * J_PER_KWH, rel=1e-12)
    assert s.stored_kwh == pytest.approx(97.5, rel=1e-12)
    assert s.conversion_loss_j == pytest.approx(2.5 * J_PER_KWH, rel=1e-12)
    assert s.bus_power_w == pytest.approx(-50e3)


def test_round_trip_returns_the_product_of_the_efficiencies_and_never_more():
    # 40 kW in for 1 h stores 38.8 kWh; 40 kW out until those are gone gives 40·0.97·0.93 kWh
    spec = lossless_window(charge_efficiency=0.97, discharge_efficiency=0.93, soc_min_frac=0.2)
    charged = battery_step(spec, 20.0, -40e3, H)
    assert charged.stored_kwh == pytest.approx(58.8, rel=1e-12)
    back = battery_step(spec, charged.stored_kwh, 40e3, H)
    assert back.stored_kwh == pytest.approx(20.0, rel=1e-12) and back.soc_limited
    assert back.bus_energy_j / -charged.bus_energy_j == pytest.approx(0.97 * 0.93, rel=1e-12)
    assert spec.round_trip_efficiency == pytest.approx(0.97 * 0.93)


def test_power_rating_cuts_the_request():
    s = battery_step(lossless_window(), 100.0, 200e3, H / 4)
    assert s.bus_power_w == pytest.approx(50e3) and s.power_limited and not s.soc_limited
    c = battery_step(lossless_window(), 0.0, -80e3, H / 4)
    assert c.bus_power_w == pytest.approx(-50e3) and c.power_limited


def test_discharge_reaching_the_floor_mid_step_stops_there():
    # 30 kWh stored, floor 20 kWh: 10 kWh of cells at 50/0.95 kW last 0.19 h and give 9.5 kWh
    spec = lossless_window(soc_min_frac=0.2, initial_soc_frac=0.5)
    s = battery_step(spec, 30.0, 50e3, H)
    assert s.soc_frac == pytest.approx(0.2, abs=1e-15) and s.soc_limited and not s.power_limited
    assert s.bus_energy_j == pytest.approx(9.5 * J_PER_KWH, rel=1e-12)
    assert s.bus_power_w == pytest.approx(9.5e3, rel=1e-12)  # the mean over the hour
    again = battery_step(spec, s.stored_kwh, 50e3, 60.0)
    assert again.bus_energy_j == 0.0 and again.soc_limited


def test_charge_reaching_the_ceiling_holds_it_on_float():
    # at the ceiling (90 kWh), 1 %/h self-discharge: float charging draws 0.9 kWh/h · 1/η_c
    spec = lossless_window(soc_max_frac=0.9, self_discharge_frac_per_h=0.01, initial_soc_frac=0.9)
    s = battery_step(spec, 90.0, -10e3, H)
    assert s.stored_kwh == pytest.approx(90.0, rel=1e-15) and s.soc_limited
    assert s.bus_energy_j == pytest.approx(-0.9 / 0.95 * J_PER_KWH, rel=1e-12)
    assert s.self_discharge_loss_j == pytest.approx(0.9 * J_PER_KWH, rel=1e-12)
    tiny = battery_step(spec, 90.0, -100.0, H)  # below the float need: the charge cannot hold it
    assert tiny.stored_kwh < 90.0 and not tiny.soc_limited


@pytest.mark.parametrize("capacity_kwh", [815.87196876612, 28.41683917834842])
def test_a_full_battery_keeps_stepping(capacity_kwh):
    # capacities whose kWh → J → kWh round trip rounds up: a full battery must stay within capacity
    spec = BatterySpec(capacity_kwh, 50.0, 50.0, soc_min_frac=0.0, soc_max_frac=1.0, initial_soc_frac=1.0)
    stored_kwh = capacity_kwh
    for _ in range(3):
        stored_kwh = battery_step(spec, stored_kwh, -10e3, 60.0).stored_kwh
        assert stored_kwh <= capacity_kwh


def test_past_a_limit_the_request_is_blocked_not_teleported():
    spec = lossless_window(soc_min_frac=0.2, soc_max_frac=0.8, initial_soc_frac=0.5)
    above = battery_step(spec, 90.0, -10e3, H)
    below = battery_step(spec, 10.0, 10e3, H)
    for s, start in ((above, 90.0), (below, 10.0)):
        assert s.bus_energy_j == 0.0 and s.soc_limited and s.stored_kwh == start


def test_self_discharge_is_exponential():
    # 1 %/h for 100 h from 80 kWh: 80·e^−1 left, the rest lost
    spec = lossless_window(self_discharge_frac_per_h=0.01)
    s = battery_step(spec, 80.0, 0.0, 100 * H)
    assert s.stored_kwh == pytest.approx(80.0 * math.exp(-1.0), rel=1e-12)
    assert s.self_discharge_loss_j == pytest.approx(80.0 * (1 - math.exp(-1.0)) * J_PER_KWH, rel=1e-12)
    change, loss = self_discharge_exponential(80.0, 0.0, 0.01 / H, 100 * H)
    assert change == pytest.approx(-loss, rel=1e-15)


def test_time_to_level_hand_values():
    assert time_to_level_s(0.0, 100.0, 10.0, 0.0) == pytest.approx(10.0)
    assert time_to_level_s(100.0, 40.0, -10.0, 0.0) == pytest.approx(6.0)
    # E_eq = P/λ = 50 J < 100 J: never reached; from E0 = 0 the time to 25 J is ln 2 / λ
    assert time_to_level_s(0.0, 100.0, 5.0, 0.1) == math.inf
    assert time_to_level_s(0.0, 25.0, 5.0, 0.1) == pytest.approx(math.log(2.0) / 0.1, rel=1e-12)
    assert time_to_level_s(5.0, 5.0, 0.0, 0.1) == math.inf


# --- the step length -----------------------------------------------------------------------------


def run_constant(spec: BatterySpec, stored_kwh: float, request_w: float, dt_s: float, total_s: float):
    bus_j = loss_j = 0.0
    for _ in range(round(total_s / dt_s)):
        s = battery_step(spec, stored_kwh, request_w, dt_s)
        stored_kwh, bus_j, loss_j = s.stored_kwh, bus_j + s.bus_energy_j, loss_j + s.losses_j
    return stored_kwh, bus_j, loss_j


@pytest.mark.parametrize(
    ("start_kwh", "request_w"),
    [
        (500.0, 100e3),  # a plain discharge
        (300.0, 200e3),  # reaches the floor (150 kWh) after ~0.70 h, between step boundaries
        (800.0, -250e3),  # reaches the ceiling (950 kWh) after ~0.65 h, then float
        (700.0, -400e3),  # power-limited charge into the ceiling
    ],
)
def test_an_hour_does_not_depend_on_the_step_length(start_kwh, request_w):
    spec = BatterySpec(1000.0, 250.0, 250.0, self_discharge_frac_per_h=0.005)
    results = [run_constant(spec, start_kwh, request_w, dt, H) for dt in (1.0, 60.0, 900.0)]
    for stored_kwh, bus_j, loss_j in results[1:]:
        assert stored_kwh == pytest.approx(results[0][0], rel=1e-9)
        assert bus_j == pytest.approx(results[0][1], rel=1e-9)
        assert loss_j == pytest.approx(results[0][2], rel=1e-9)


# --- energy balance ------------------------------------------------------------------------------


SPECS = [
    BatterySpec(1000.0, 250.0, 250.0),
    BatterySpec.for_chemistry("lead_acid_vrla", 200.0, 40.0, 800.0),
    BatterySpec(50.0, 100.0, 10.0, 0.3, 0.6, 0.8, 0.7, 0.02, 0.5),  # high self-discharge
]


@pytest.mark.parametrize("spec", SPECS)
def test_energy_balance_over_thousands_of_random_steps(spec):
    rng = np.random.default_rng(20240611)
    stored_kwh = spec.initial_soc_frac * spec.capacity_kwh
    start_kwh, bus_j, loss_j, throughput_j, worst = stored_kwh, 0.0, 0.0, 0.0, 0.0
    rating_w = 1e3 * max(spec.max_charge_kw, spec.max_discharge_kw)
    for _ in range(5000):
        request_w = float(rng.choice([0.0, rng.uniform(-1.5, 1.5) * rating_w]))
        dt_s = float(10 ** rng.uniform(0.0, 4.0))
        s = battery_step(spec, stored_kwh, request_w, dt_s)
        worst = max(worst, abs(balance_residual_j(s)) / balance_scale_j(s))
        assert s.conversion_loss_j >= 0.0 and s.self_discharge_loss_j >= 0.0
        assert 0.0 <= s.stored_kwh <= spec.capacity_kwh
        stored_kwh, bus_j, loss_j = s.stored_kwh, bus_j + s.bus_energy_j, loss_j + s.losses_j
        throughput_j += abs(s.bus_energy_j)
    assert worst < 1e-9
    total = -bus_j - ((stored_kwh - start_kwh) * J_PER_KWH + loss_j)
    assert abs(total) < 1e-9 * throughput_j


@settings(max_examples=400, deadline=None)
@given(
    stored_frac=st.floats(0.0, 1.0),
    request_w=st.one_of(st.just(0.0), st.floats(-2e6, 2e6)),
    dt_s=st.floats(1e-3, 1e5),
    self_discharge=st.floats(0.0, 0.05),
)
def test_every_step_balances(stored_frac, request_w, dt_s, self_discharge):
    spec = BatterySpec(1000.0, 250.0, 500.0, self_discharge_frac_per_h=self_discharge)
    s = battery_step(spec, stored_frac * 1000.0, request_w, dt_s)
    assert abs(balance_residual_j(s)) <= 1e-9 * balance_scale_j(s)
    assert s.conversion_loss_j >= 0.0 and s.self_discharge_loss_j >= 0.0
    assert 0.0 <= s.stored_kwh <= 1000.0
    assert (s.stored_kwh - stored_frac * 1000.0) * J_PER_KWH == pytest.approx(s.stored_change_j, abs=1e-3)


# --- UPS runtime ---------------------------------------------------------------------------------


def test_peukert_hand_value():
    # 100 kWh rated at 10 h, k = 1.25, 50 kW: t = 10 h · (100/(50·10))^1.25 = 1.3375 h
    t_s = peukert_runtime_s(50e3, 100e3, 10.0, 1.25)
    assert t_s / H == pytest.approx(10.0 * 0.2**1.25, rel=1e-12)
    assert t_s / H == pytest.approx(1.3375, abs=1e-4)
    assert peukert_runtime_s(5e3, 100e3, 10.0, 1.25) == pytest.approx(20 * H)  # below rated: E/P
    assert peukert_runtime_s(0.0, 100e3, 10.0, 1.25) == math.inf


def ups(chemistry: str) -> BatterySpec:
    return BatterySpec.for_chemistry(
        chemistry, 100.0, 20.0, 2000.0, soc_min_frac=0.0, soc_max_frac=1.0, initial_soc_frac=1.0
    )


def test_doubling_the_load_more_than_halves_lead_acid_and_about_halves_li_ion_runtime():
    lead, li = ups("lead_acid_vrla"), ups("li_ion_lfp")
    lead_ratio = ups_runtime_s(lead, 800e3) / ups_runtime_s(lead, 400e3)
    li_ratio = ups_runtime_s(li, 800e3) / ups_runtime_s(li, 400e3)
    assert lead_ratio == pytest.approx(2**-1.25, rel=1e-12) and lead_ratio < 0.5
    assert li_ratio == pytest.approx(0.5, abs=0.02) and li_ratio <= 0.5
    ideal = ups_runtime_s(BatterySpec(100.0, 20.0, 2000.0, peukert_exponent=1.0), 400e3)
    assert ups_runtime_s(BatterySpec(100.0, 20.0, 2000.0, peukert_exponent=1.0), 800e3) == pytest.approx(
        ideal / 2
    )


def test_ups_runtime_at_exponent_one_matches_stepping_the_battery_to_its_floor():
    spec = BatterySpec(100.0, 20.0, 400.0, peukert_exponent=1.0, self_discharge_frac_per_h=0.0)
    expected_s = ups_runtime_s(spec, 300e3)
    # (0.5 − 0.15) · 100 kWh at 300/η_d kW
    assert expected_s == pytest.approx(0.35 * 100 / (300 / spec.discharge_efficiency) * H, rel=1e-12)
    battery, elapsed_s = Battery(spec), 0.0
    while not battery.step(300e3, 7.0).soc_limited:
        elapsed_s += 7.0
    assert elapsed_s <= expected_s < elapsed_s + 7.0
    assert battery.state().soc_frac == pytest.approx(0.15, abs=1e-12)


def test_ups_runtime_scales_with_the_charge_left_and_stops_above_the_rating():
    lead = ups("lead_acid_vrla")
    assert ups_runtime_s(lead, 400e3, stored_kwh=50.0) == pytest.approx(ups_runtime_s(lead, 400e3) / 2)
    assert ups_runtime_s(lead, 2.5e6) == 0.0


# --- spec, presets and the component -------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity_kwh", 0.0),
        ("max_charge_kw", -1.0),
        ("soc_min_frac", 0.96),
        ("soc_max_frac", 1.2),
        ("charge_efficiency", 1.05),
        ("discharge_efficiency", 0.0),
        ("self_discharge_frac_per_h", -0.01),
        ("initial_soc_frac", 0.99),
        ("peukert_exponent", 0.9),
        ("rated_discharge_h", 0.0),
        ("capacity_kwh", math.nan),
    ],
)
def test_invalid_specs_name_the_field(field, value):
    params = {"capacity_kwh": 100.0, "max_charge_kw": 10.0, "max_discharge_kw": 10.0, field: value}
    with pytest.raises(ValueError, match=f"BatterySpec.{field} = "):
        BatterySpec(**params)


def test_presets_and_their_derived_constants():
    assert HOURS_PER_MONTH * 12 == 8760.0
    li = BATTERY_CHEMISTRY_PARAMETERS["li_ion_lfp"]
    assert li["charge_efficiency"] * li["discharge_efficiency"] == pytest.approx(0.85)  # NREL ATB
    assert li["self_discharge_frac_per_h"] * HOURS_PER_MONTH == pytest.approx(0.02)
    lead = BatterySpec.for_chemistry("lead_acid_vrla", 10.0, 1.0, 10.0)
    assert lead.round_trip_efficiency == pytest.approx(0.80) and lead.peukert_exponent == 1.25
    assert BatterySpec(10.0, 1.0, 1.0) == BatterySpec.for_chemistry("li_ion_lfp", 10.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="nickel"):
        BatterySpec.for_chemistry("nickel", 10.0, 1.0, 1.0)


def test_battery_component_config_state_step():
    battery = Battery(BatterySpec(1000.0, 250.0, 250.0))
    assert battery.config()["capacity_kwh"] == 1000.0
    assert battery.config()["round_trip_efficiency"] == pytest.approx(0.85)
    assert battery.state().soc_frac == 0.5 and battery.state().bus_power_w == 0.0
    s = battery.step(-300e3, 600.0)
    state = battery.state()
    assert state.bus_power_w == pytest.approx(-250e3) and state.power_limited
    assert state.stored_kwh == s.stored_kwh > 500.0
    assert state.losses_w == pytest.approx(s.losses_j / 600.0)
