"""Thermal masses held at a setpoint: the exact piecewise-linear step, energy, and the sizes."""

from __future__ import annotations

import pytest

from aidc.facility.thermal_mass import (
    LOOP_TURNOVER_S,
    held_mass_step,
    loop_volume_l,
    room_step,
    water_loop_capacitance_j_k,
)
from aidc.units import CP_WATER_J_KGK, RHO_WATER_KG_M3


def test_a_plant_that_keeps_up_holds_the_setpoint_and_removes_what_comes_in():
    s = held_mass_step(14.0, 14.0, 1e6, 1.2e6, 1e7, 10.0)
    assert (s.end_c, s.mean_c, s.removed_w) == (14.0, 14.0, 1e6)


def test_a_mass_without_its_plant_warms_at_the_heat_over_its_capacity():
    # 1 MW into 10 MJ/K with nothing removed: 0.1 K/s
    s = held_mass_step(14.0, 14.0, 1e6, 0.0, 1e7, 30.0)
    assert s.end_c == pytest.approx(17.0)
    assert s.mean_c == pytest.approx(15.5)
    assert s.removed_w == 0.0


def test_a_mass_pulled_back_to_its_setpoint_stops_there_within_the_step():
    # 2 K above the setpoint, 0.5 MW net pull-down on 10 MJ/K: 40 s to reach it, then held
    s = held_mass_step(16.0, 14.0, 1e6, 1.5e6, 1e7, 60.0)
    assert s.end_c == pytest.approx(14.0)
    assert s.mean_c == pytest.approx((40.0 * 15.0 + 20.0 * 14.0) / 60.0)
    assert s.removed_w == pytest.approx((40.0 * 1.5e6 + 20.0 * 1e6) / 60.0)


@pytest.mark.parametrize("start_c, capacity_w", [(14.0, 0.4e6), (18.0, 1.3e6), (14.0, 2e6)])
def test_one_long_step_equals_many_short_ones_and_energy_closes(start_c, capacity_w):
    c, q, dt = 1e7, 1e6, 120.0
    one = held_mass_step(start_c, 14.0, q, capacity_w, c, dt)
    t, removed = start_c, 0.0
    for _ in range(120):
        s = held_mass_step(t, 14.0, q, capacity_w, c, 1.0)
        t, removed = s.end_c, removed + s.removed_w
    assert one.end_c == pytest.approx(t, abs=1e-9)
    assert one.removed_w * dt == pytest.approx(removed, rel=1e-12)
    stored = c * (one.end_c - max(start_c, 14.0))
    assert stored == pytest.approx((q - one.removed_w) * dt, rel=1e-9, abs=1e-3)


def test_a_loops_water_is_its_design_flow_over_its_turnover_time():
    # 1 MW at 6 K: 39.8 L/s; 150 s of it is 5,972 L, 6 US gal per ton at the AHRI flow
    litres = loop_volume_l(1e6, 6.0)
    assert litres == pytest.approx(1e6 / (RHO_WATER_KG_M3 * CP_WATER_J_KGK * 6.0) * 1e3 * LOOP_TURNOVER_S)
    # Carrier's 6 US gal per ton holds at the AHRI 550/590 rating flow, 2.4 gpm/ton: a 10 °F rise
    ahri_litres = loop_volume_l(1e6, 10.0 / 1.8)
    assert ahri_litres == pytest.approx(6.0 * 3.78541 * 1e6 / 3516.85, rel=0.01)  # gal/ton × tons
    assert water_loop_capacitance_j_k(1000.0) == pytest.approx(RHO_WATER_KG_M3 * CP_WATER_J_KGK)


def test_a_step_must_have_a_length():
    with pytest.raises(ValueError, match="dt_s"):
        held_mass_step(14.0, 14.0, 1.0, 1.0, 1.0, 0.0)


# -- the room: air and servers ---------------------------------------------------------------------
CA, CS, G = 2e5, 6.4e6, 6e4  # 1 MW hall: ~170 m³ of air, the servers' mass, their airflow ṁ·c_p


def test_a_held_room_stays_put():
    s = room_step(24.0, 24.0, 24.0, 1e6, 1.2e6, CA, CS, G, 10.0)
    assert (s.air_c, s.servers_c, s.removed_w) == (24.0, 24.0, 1e6)


def test_a_room_without_coils_keeps_every_joule_and_settles_to_the_combined_mass():
    s = room_step(24.0, 24.0, 24.0, 1e6, 0.0, CA, CS, G, 600.0)
    stored = CA * (s.air_c - 24.0) + CS * (s.servers_c - 24.0)
    assert stored == pytest.approx(1e6 * 600.0, rel=1e-12)
    # the air first outruns the servers (its own mass is small), then both rise at Q/(C_a + C_s)
    early = room_step(24.0, 24.0, 24.0, 1e6, 0.0, CA, CS, G, 5.0)
    assert early.air_c - 24.0 > 5.0 * 1e6 / (CA + CS) * 5
    later = room_step(s.air_c, s.servers_c, 24.0, 1e6, 0.0, CA, CS, G, 1.0)
    assert later.air_c - s.air_c == pytest.approx(1e6 / (CA + CS), rel=1e-3)


@pytest.mark.parametrize(
    "air_c, servers_c, capacity_w", [(24.0, 24.0, 0.3e6), (30.0, 28.0, 1.5e6), (24.0, 30.0, 1.2e6)]
)
def test_one_long_room_step_equals_many_short_ones(air_c, servers_c, capacity_w):
    one = room_step(air_c, servers_c, 24.0, 1e6, capacity_w, CA, CS, G, 120.0)
    a, s_, removed = air_c, servers_c, 0.0
    for _ in range(120):
        st = room_step(a, s_, 24.0, 1e6, capacity_w, CA, CS, G, 1.0)
        a, s_, removed = st.air_c, st.servers_c, removed + st.removed_w
    assert one.air_c == pytest.approx(a, abs=1e-6)
    assert one.servers_c == pytest.approx(s_, abs=1e-6)
    assert one.removed_w * 120.0 == pytest.approx(removed, rel=1e-6)
    stored = CA * (one.air_c - air_c) + CS * (one.servers_c - servers_c)
    assert stored == pytest.approx((1e6 - one.removed_w) * 120.0, rel=1e-6, abs=1.0)


def test_without_server_airflow_the_room_is_its_air():
    s = room_step(24.0, 24.0, 24.0, 1e6, 0.0, CA, CS, 0.0, 2.0)
    assert s.air_c == pytest.approx(24.0 + 2.0 * 1e6 / CA)
    assert s.servers_c == 24.0
