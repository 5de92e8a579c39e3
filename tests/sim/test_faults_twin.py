"""Faults in the twin: ride-through of a liquid hall losing its pumps and of an air hall losing its
chillers, a utility outage on the UPS and the generator, lost power paths with and without a
second one, failed GPUs under a serving job, and the energy balance with emergency power."""

from __future__ import annotations

import pytest

from aidc.scenario import validate_scenario
from aidc.sim.build import build_simulation
from aidc.telemetry.metrics import RunMetrics


def scenario(cooling: dict, faults: list[dict], *, dt_s: float = 1.0, duration_s: float = 600.0, **over):
    hall = {
        "name": "h",
        "rows": 1,
        "racks_per_row": 4,
        "nodes_per_rack": 2,
        "gpu": "H100-SXM",
        "cooling": cooling,
        "jobs": [{"type": "burn", "name": "b", "precision": "bf16", "activity_frac": 0.9, "mfu_frac": 0.4}],
    }
    hall |= over.pop("hall", {})
    data = {
        "name": "faults",
        "duration_s": duration_s,
        "dt_s": dt_s,
        "weather": {"dry_bulb_c": 25.0, "relative_humidity_pct": 45.0},
        "halls": [hall],
        "faults": faults,
    } | over
    return validate_scenario(data)


def simulate(sc):
    sim = build_simulation(sc)
    metrics = RunMetrics(sim.config(), sc.warmup_s)
    records = []
    for rec in sim.run():
        metrics.add(rec)
        records.append(rec)
    return metrics.summary(sim.serving_results()), records


def test_a_dlc_hall_losing_its_pumps_at_full_load_shuts_down_in_under_a_minute():
    # Alkharabsheh et al., J. Electron. Packag. 140 (2018) 020902: DLC failure can shut a data
    # centre down "in less than a minute"; here 600 J/K per GPU at 700 W rises ~1.2 K/s
    pump = {"component": "coolant_pump", "start_s": 300.0, "duration_s": 120.0}
    summary, _ = simulate(scenario({"type": "liquid"}, [pump]))
    f = summary["faults"][0]
    assert 10.0 < f["to_throttle_s"] < f["to_slowdown_s"] < f["to_shutdown_s"] < 60.0
    assert f["gpus_shut_down_max"] == 64
    assert f["pflop_lost"] > 0.0


def test_ride_through_times_converge_with_the_time_step():
    pump = {"component": "coolant_pump", "start_s": 300.0, "duration_s": 120.0}
    fine = simulate(scenario({"type": "liquid"}, [pump], dt_s=1.0))[0]["faults"][0]
    coarse = simulate(scenario({"type": "liquid"}, [pump], dt_s=2.0))[0]["faults"][0]
    for key in ("to_throttle_s", "to_shutdown_s"):
        assert coarse[key] == pytest.approx(fine[key], abs=1.0), key
    assert coarse["pflop_lost"] == pytest.approx(fine["pflop_lost"], rel=0.03)


def test_chilled_water_storage_buys_an_air_hall_time_after_a_chiller_trip():
    # no economizer: a warm day's chillers carry it all; the loop and the room ride it out
    trip = {"component": "chiller", "start_s": 60.0}
    times = []
    for storage_m3 in (0.0, 0.5):
        cooling = {"type": "air", "economizer": False, "chw_storage_m3": storage_m3}
        summary, _ = simulate(scenario(cooling, [trip], duration_s=1800.0, dt_s=2.0))
        times.append(summary["faults"][0]["to_throttle_s"])
    assert times[0] is not None and times[1] is not None
    assert times[1] > 1.5 * times[0]


def test_a_utility_outage_rides_the_ups_for_the_generator_start_and_the_loop_for_the_chillers():
    outage = {"component": "utility", "start_s": 120.0, "duration_s": 300.0}
    sc = scenario({"type": "air"}, [outage], duration_s=900.0)
    summary, records = simulate(sc)
    f = summary["faults"][0]
    c = records[100].chain
    # 10 s of the IT path (IT, PDU and UPS losses) from the battery
    assert f["ups_kwh"] == pytest.approx((c.it_w + c.pdu_loss_w + c.ups_loss_w) * 10.0 / 3.6e6, rel=0.01)
    assert f["ups_soc_min_frac"] < 1.0
    assert f["generator_kwh"] > 0.0
    assert f["gpus_shut_down_max"] == 0
    dark = records[125]  # on the UPS alone: chillers, towers, CRAHs and pumps stopped
    assert dark.supplies.utility_w == dark.supplies.generator_w == 0.0
    assert dark.halls[0].plant.chiller_w == 0.0 and dark.backup.ups_w > 0.0
    restarting = records[200]  # on the generator, chillers restarting for 5 minutes
    assert restarting.supplies.generator_w > 0.0 and restarting.halls[0].plant.chiller_w == 0.0
    assert restarting.halls[0].plant.loop_c > sc.halls[0].cooling.chw_supply_temp_c
    assert restarting.backup.ups_charge_w > 0.0  # the generator recharges the UPS
    assert records[500].supplies.utility_w > 0.0 and records[500].supplies.generator_w == 0.0


def test_every_joule_has_a_source_through_an_outage():
    outage = {"component": "utility", "start_s": 60.0, "duration_s": 120.0}
    _, records = simulate(scenario({"type": "liquid"}, [outage], duration_s=400.0, dt_s=5.0))
    for rec in records:
        s, b = rec.supplies, rec.backup
        sources = s.utility_w + s.generator_w + b.ups_w
        assert sources == pytest.approx(rec.chain.facility_w + b.ups_charge_w - s.unserved_w, rel=1e-9)


def test_without_a_generator_the_ups_runs_out_and_the_gpus_go_dark():
    outage = {"component": "utility", "start_s": 60.0, "duration_s": 900.0}
    pc = {"generator": False, "ups_runtime_s": 120.0, "cooling_on_ups": True}  # the CDU pumps ride it
    summary, records = simulate(scenario({"type": "liquid"}, [outage], duration_s=900.0, power_chain=pc))
    f = summary["faults"][0]
    assert f["gpus_off_max"] == 0  # the faults' own list: an outage switches nothing off by itself
    late = records[600]
    assert late.halls[0].step.gpu_w == 0.0 and late.halls[0].step.tflops_sum == 0.0
    assert late.backup.ups_soc_frac == pytest.approx(0.0, abs=1e-9)
    assert f["ups_soc_min_frac"] == pytest.approx(0.0, abs=1e-9)


def test_a_lost_power_path_drops_its_racks_unless_a_second_one_carries_them():
    path = {"component": "power_path", "start_s": 100.0, "duration_s": 100.0, "lost_frac": 0.25}
    runs = {}
    for redundancy in ("N", "2N"):
        pc = {"redundancy": redundancy}
        runs[redundancy] = simulate(scenario({"type": "liquid"}, [path], duration_s=300.0, power_chain=pc))
    (n, n_records), (two_n, two_n_records) = runs["N"], runs["2N"]
    assert n["faults"][0]["gpus_off_max"] == 16  # one rack of four: 2 nodes × 8 GPUs
    assert two_n["faults"][0]["gpus_off_max"] == 0
    assert n_records[150].halls[0].step.it_w < 0.8 * two_n_records[150].halls[0].step.it_w
    lost = n["pflop_delivered"] - two_n["pflop_delivered"]
    expected = 16 * 100.0 * float(two_n_records[150].halls[0].state.tflops.mean()) / 1e3
    assert -lost == pytest.approx(expected, rel=0.1)


def test_failed_gpus_under_a_serving_job_requeue_their_requests_and_lose_none():
    # one 8×H100 node, eight Llama-3.1-8B replicas at 40 requests/s; two GPUs fail for a minute
    serving = {"type": "serving", "name": "chat", "model": "llama-3.1-8b", "trace": "azure-conv"}
    serving["rate_per_s"] = 40.0
    hall = {"racks_per_row": 1, "nodes_per_rack": 1, "jobs": [serving]}
    gpu_fault = {"component": "gpu", "start_s": 30.0, "duration_s": 60.0, "gpus": 2}
    summary, records = simulate(scenario({"type": "air"}, [gpu_fault], duration_s=180.0, dt_s=2.0, hall=hall))
    fault = summary["faults"][0]
    assert fault["gpus_off_max"] == 2
    assert fault["requeued"] > 0
    during = records[30].halls[0].state  # 60 s
    assert during.power_w[:2].max() == 0.0 and during.tflops[:2].max() == 0.0
    end = records[-1].halls[0].state.serving[0]
    assert end.arrived == end.finished + end.waiting + end.running + end.swapped  # none lost
    back = records[-1].halls[0].state
    assert back.tflops[:2].min() > 0.0  # the replicas serve again once their GPUs are back
