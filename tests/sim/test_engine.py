import math

import pytest

from aidc.api import simulate
from aidc.scenario import validate_scenario
from aidc.sim.build import build_simulation


def test_same_seed_same_result(small_scenario):
    a = simulate(validate_scenario(small_scenario))
    b = simulate(validate_scenario(small_scenario))
    assert a == b


def test_seed_changes_the_gpu_spread(small_scenario):
    other = dict(small_scenario, seed=small_scenario["seed"] + 1)
    a = simulate(validate_scenario(small_scenario))["halls"][0]
    b = simulate(validate_scenario(other))["halls"][0]
    assert a["gpu_temp_max_c"] != b["gpu_temp_max_c"]


def test_energy_balance_every_step(small_scenario):
    sim = build_simulation(validate_scenario(small_scenario))
    for rec in sim.run():
        c = rec.chain
        parts = c.it_w + c.transformer_loss_w + c.ups_loss_w + c.pdu_loss_w + c.cooling_w + c.other_w
        assert c.facility_w == pytest.approx(parts)
        (h,) = rec.halls
        hs, po = h.step, h.plant
        assert c.cooling_w == pytest.approx(po.total_w)
        assert hs.heat_to_air_w + hs.heat_to_liquid_w == pytest.approx(hs.it_w)
        assert c.facility_w / c.it_w > 1.0


@pytest.mark.parametrize("cooling", ["air", "liquid", "immersion"])
def test_every_plant_runs_through_a_year_of_weather(small_scenario, cooling):
    d = dict(small_scenario)
    d["weather"] = {"climate": "miami-fl", "start": "08-01 12:00"}
    d["halls"] = [dict(d["halls"][0], cooling={"type": cooling}, thermal={})]
    s = simulate(validate_scenario(d))
    assert 1.0 < s["pue"] < 2.0
    assert math.isfinite(s["halls"][0]["gpu_temp_max_c"])


def test_hot_coolant_throttles_and_costs_throughput(small_scenario):
    cool = simulate(validate_scenario(small_scenario))["halls"][0]
    hot = dict(small_scenario)
    hot["halls"] = [dict(hot["halls"][0], cooling={"type": "liquid", "facility_supply_temp_c": 45.0})]
    warm = simulate(validate_scenario(hot))["halls"][0]
    assert warm["gpu_temp_p50_c"] > cool["gpu_temp_p50_c"] + 15.0
    assert warm["tflops_per_gpu"] < cool["tflops_per_gpu"]
    assert warm["gpu_power_mean_w"] > cool["gpu_power_mean_w"]


def test_free_cooling_in_a_cold_climate(small_scenario):
    d = dict(small_scenario)
    d["weather"] = {"climate": "sand-point-ak", "start": "01-15 00:00"}
    d["halls"] = [dict(d["halls"][0], cooling={"type": "air"}, thermal={})]
    sim = build_simulation(validate_scenario(d))
    recs = list(sim.run())
    assert all(h.plant.free_cooling_frac == 1.0 and h.plant.chiller_w == 0.0 for r in recs for h in r.halls)
