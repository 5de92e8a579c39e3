"""Results do not depend on the time step (the coupling contract, :mod:`aidc.workload.demand`).

The same scenario at ``dt_s`` = 1, 5 and 30 s gives the same output tokens, GPU energy and median
latencies within 2 %: work is booked in the step in which it happens, at the clock the GPU has in
that step, and leakage follows the junction temperature within a step. A burst of requests that
reaches idle GPUs is served at the boost clock at once (a resident job holds its clock), as fast as
the serving simulator alone at the maximum clock.
"""

from __future__ import annotations

import pytest

from aidc.api import simulate
from aidc.hardware.catalog import get_gpu
from aidc.model.presets import get_preset
from aidc.scenario import validate_scenario
from aidc.workload.serving import ServingSim
from aidc.workload.steptime import Deployment
from aidc.workload.traces import make_trace
from conftest import example_dict

STEPS = (1.0, 5.0, 30.0)
SERVING_KEYS = ("output_tokens_per_s", "ttft_p50_s", "tpot_p50_s", "e2e_p50_s")


def _at(d: dict, dt_s: float) -> dict:
    return {**d, "dt_s": dt_s}


def dense_serving() -> dict:
    """Llama-3.1-70B BF16, tensor-parallel over the air-cooled 8×H100 node, 2 requests/s."""
    d = example_dict("cooling_matters_air.toml")
    d["duration_s"], d["warmup_s"] = 600, 0
    job = dict(type="serving", name="chat", model="llama-3.1-70b", gpus_per_replica=8, rate_per_s=2.0)
    d["halls"][0]["jobs"] = [job]
    return d


def deepseek_serving() -> dict:
    """The DeepSeek-V3 example on one liquid-cooled 8×H200 node, 3 requests/s."""
    d = example_dict("serving_deepseek_v3.toml")
    d["duration_s"], d["warmup_s"] = 600, 0
    d["halls"][0].update(racks_per_row=1, nodes_per_rack=1)
    d["halls"][0]["jobs"][0]["rate_per_s"] = 3.0
    return d


def burst_at_idle_gpus(tmp_path) -> dict:
    """Eight Llama-3.1-8B replicas on the air node, idle for 30 s, then 64 requests at once."""
    rows = "".join(f"{30.0 + 0.001 * i},800,200\n" for i in range(64))
    trace = tmp_path / "burst.csv"
    trace.write_text("arrival_s,prompt_tokens,output_tokens\n0,10,2\n" + rows)
    d = example_dict("cooling_matters_air.toml")
    d["duration_s"], d["warmup_s"] = 120, 0
    d["halls"][0]["jobs"] = [dict(type="serving", name="burst", model="llama-3.1-8b", trace=str(trace))]
    return d


def _assert_same(runs: dict[float, dict], keys: tuple[str, ...], rel: float = 0.02) -> None:
    ref = runs[1.0]
    for dt, run in runs.items():
        for key in keys:
            assert run[key] == pytest.approx(ref[key], rel=rel), f"{key} at dt_s = {dt:g} s"


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [dense_serving, deepseek_serving], ids=["dense", "deepseek-v3"])
def test_serving_results_do_not_depend_on_the_time_step(scenario):
    runs = {}
    for dt in STEPS:
        s = simulate(validate_scenario(_at(scenario(), dt)))
        runs[dt] = {**s["serving"][0], "gpu_kwh": s["energy_kwh"]["gpu"]}
    assert runs[1.0]["output_tokens_per_s"] > 100.0
    _assert_same(runs, (*SERVING_KEYS, "gpu_kwh"))


def test_training_results_do_not_depend_on_the_time_step():
    d = example_dict("cooling_matters_air.toml")  # power-capped: the clock ↔ activity fixed point
    d["duration_s"], d["warmup_s"] = 900, 0
    runs = {}
    for dt in STEPS:
        s = simulate(validate_scenario(_at(d, dt)))
        runs[dt] = {"gpu_kwh": s["energy_kwh"]["gpu"], "pflop": s["pflop_delivered"]}
        assert s["halls"][0]["power_capped_share"] > 0.5
    _assert_same(runs, ("gpu_kwh", "pflop"))


def test_a_burst_at_idle_gpus_is_served_at_the_boost_clock_whatever_the_time_step(tmp_path):
    d = burst_at_idle_gpus(tmp_path)
    runs = {}
    for dt in STEPS:
        s = simulate(validate_scenario(_at(d, dt)))
        runs[dt] = {**s["serving"][0], "gpu_kwh": s["energy_kwh"]["gpu"]}
        assert runs[dt]["requests_finished"] == 65
    _assert_same(runs, (*SERVING_KEYS, "gpu_kwh"))
    # the same burst on the serving simulator alone, at the maximum clock: the GPUs of the twin
    # (junctions near 35 °C, below where GPU Boost sheds clock) serve it as fast
    dep = Deployment(get_preset("llama-3.1-8b"), get_gpu("H100-SXM"))
    arrival = [0.0] + [30.0 + 0.001 * i for i in range(64)]
    trace = make_trace("burst", arrival, [10] + [800] * 64, [2] + [200] * 64)
    alone = ServingSim([(dep, 8)], trace, router="least-loaded").run()
    assert runs[1.0]["ttft_p50_s"] == pytest.approx(float(alone.percentiles(alone.ttft_s)["p50"]), rel=0.05)


def test_the_facility_peak_does_not_depend_on_the_time_step():
    """The 15-minute peak of facility power, with a burn starting and ending within intervals; a
    step of 7 s does not divide the interval, so steps are split at its edges."""
    d = example_dict("cooling_matters_air.toml")
    d["duration_s"], d["warmup_s"] = 3600, 0
    burn = dict(
        type="burn", name="b", precision="fp8", activity_frac=0.9, mfu_frac=0.5, start_s=1000, end_s=2300
    )
    d["halls"][0]["jobs"] = [burn]
    runs = {}
    for dt in (*STEPS, 7.0):
        s = simulate(validate_scenario(_at(d, dt)))
        runs[dt] = {"peak": s["facility_power_peak_15min_kw"], "mean": s["facility_power_mean_kw"]}
    assert runs[1.0]["peak"] > 1.3 * runs[1.0]["mean"]
    _assert_same(runs, ("peak",), rel=0.01)
