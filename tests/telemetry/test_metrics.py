"""Run metrics from hand-made step records: energy integrated over the measured window, PUE, the
hall's throughput and throttled share, and a serving job's energy per token over its window."""

from __future__ import annotations

import numpy as np
import pytest

from aidc.facility.cooling import PlantOutputs
from aidc.facility.power import PowerChainOutputs
from aidc.sim.engine import HallRecord, StepRecord
from aidc.sim.hall import HallState, HallStep
from aidc.telemetry.metrics import RunMetrics
from aidc.workload.serving.deploy import ServingState
from aidc.workload.serving.result import ServingResult

COMPONENTS = {
    "halls": [{"name": "h", "gpus": 4, "workload": {"serving": [{"job": "s", "model": "m", "replicas": 1}]}}]
}


def serving_state(tokens: float) -> ServingState:
    return ServingState("s", slice(0, 2), 0, 1, 0, 0.5, 0, tokens, int(tokens), 3, 1, 0, 0)


def record(t_s: float, gpu_w: float, tokens: float, capped: float = 0.0) -> StepRecord:
    n = 4
    state = HallState(
        name="h",
        gpus_per_node=2,
        temp_c=np.array([40.0, 50.0, 60.0, 70.0]),
        clock_mhz=np.full(n, 1800.0),
        power_w=np.full(n, gpu_w / n),
        tflops=np.full(n, 100.0),
        resident=np.ones(n),
        node_wall_w=np.array([1000.0, 1000.0]),
        shutdown=np.zeros(n, dtype=bool),
        power_capped=np.zeros(n, dtype=bool),
        thermal=np.zeros(n, dtype=bool),
        supply_air_c=24.0,
        inlet_max_c=26.0,
        serving=(serving_state(tokens),),
    )
    step = HallStep(gpu_w, 50.0, 2000.0, 0.0, 2000.0, 0.5, 400.0, 4.0, capped, 0.0, 0)
    plant = PlantOutputs(crah_fans_w=100.0, chiller_w=300.0, water_kg=1.0)
    chain = PowerChainOutputs(2000.0, 10.0, 50.0, 30.0, 400.0, 0.0)
    return StepRecord(t_s, 10.0, 25.0, 20.0, [HallRecord(state, step, plant)], chain)


def result() -> ServingResult:
    arr = np.array([0.1, 0.2, 0.3])
    return ServingResult(3, 3, 30.0, arr, arr, arr, 300, 0.0, 0, 0, {}, [], 0.0, None)


def test_energy_pue_and_hall_figures_over_the_measured_window():
    m = RunMetrics(COMPONENTS, warmup_s=10.0)
    m.add(record(0.0, 1600.0, 100.0))  # warm-up: not counted
    m.add(record(10.0, 1600.0, 300.0, capped=2.0))
    m.add(record(20.0, 1600.0, 600.0))
    s = m.summary([result()])
    assert s["seconds"] == 20.0
    assert s["energy_kwh"]["gpu"] == pytest.approx(1600.0 * 20.0 / 3.6e6)
    assert s["energy_kwh"]["facility"] == pytest.approx(2490.0 * 20.0 / 3.6e6)  # 2000+10+50+30+400
    assert s["pue"] == pytest.approx(2490.0 / 2000.0) == s["pue_min"] == s["pue_max"]
    assert s["water_m3"] == pytest.approx(2e-3)
    (h,) = s["halls"]
    assert h["tflops_per_gpu"] == pytest.approx(100.0)
    assert h["power_capped_share"] == pytest.approx(2.0 * 10.0 / (4.0 * 20.0))
    assert h["gpu_power_mean_w"] == pytest.approx(400.0)
    assert h["node_power_kw"] == pytest.approx(1.0) and h["tflops_per_kw"] == pytest.approx(100.0)
    assert h["gpu_mean_temp_lowest_c"] == 40.0 and h["gpu_mean_temp_highest_c"] == 70.0


def test_serving_energy_per_token_counts_from_the_state_before_the_window():
    m = RunMetrics(COMPONENTS, warmup_s=10.0)
    for k, tokens in enumerate((100.0, 300.0, 600.0)):
        m.add(record(10.0 * k, 1600.0, tokens))
    (sv,) = m.summary([result()])["serving"]
    # 500 tokens in the window (from 100 after warm-up to 600), on the job's 2 GPUs of 400 W
    assert sv["output_tokens_per_s"] == pytest.approx(500.0 / 20.0)
    assert sv["j_per_output_token_gpu"] == pytest.approx(2 * 400.0 * 20.0 / 500.0)
    assert sv["j_per_output_token_it"] == pytest.approx(1000.0 * 20.0 / 500.0)  # its node's wall
    assert sv["j_per_output_token_facility"] == pytest.approx(1000.0 * 20.0 * 2490.0 / 2000.0 / 500.0)
    assert sv["requests_arrived"] == 3 and sv["ttft_p50_s"] == pytest.approx(0.2)
