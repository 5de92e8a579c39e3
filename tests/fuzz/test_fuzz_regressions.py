"""Every failure the scenario fuzz found, with its exact input.

The fixed ones pass. The open ones are bugs of the physics outside the scenario layer; each is a
strict xfail naming its cause, so the fix turns it into a failure that asks for the marker to go
(and for tests/fuzz/valid.py to widen the ranges it draws from).
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path

import pytest
from fuzzing import EXAMPLE_DATA, check_scenario_file, step_a_few, write_scenario

from aidc.api import run_scenario
from aidc.hardware.catalog import GPU_CATALOG
from aidc.scenario import ScenarioError, validate_scenario
from aidc.sim.build import build_simulation


def _outcome(data: dict) -> str:
    with tempfile.TemporaryDirectory() as folder:
        return check_scenario_file(write_scenario(Path(folder), data))


def _example(name: str, **changes) -> dict:
    data = copy.deepcopy(EXAMPLE_DATA[name])
    for path, value in changes.items():
        node = data
        *parents, last = path.split("__")
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        node[last] = value
    return data


# -- fixed -----------------------------------------------------------------------------------------
def test_negative_zero_spread_is_zero():
    """inlet_offset_std_c = -0.0 passed ge=0 and numpy's normal(scale=-0.0) raised 'scale < 0'."""
    assert _outcome(_example("cooling_matters_liquid.toml", halls__0__inlet_offset_std_c=-0.0)) == "ran"


def test_liquid_hall_sending_no_heat_to_liquid_runs():
    """A liquid hall whose nodes put none of their heat into the liquid sized its loop for 0 W and
    divided by it (ZeroDivisionError in facility/equipment.py)."""
    hall = {
        "name": "hall-1",
        "gpu": "B200",
        "inlet_offset_std_c": 0.0,
        "node": {
            "gpus_per_node": 1,
            "fan_temp_low_c": 0.0,
            "fan_temp_high_c": 0.7165470913909388,
            "airflow_full_speed_m3_s": 0.06,
            "gpu_rows_in_airflow": 1,
            "gpu_heat_to_liquid_frac": 0.0,
            "other_heat_to_liquid_frac": 0.0,
        },
        "cooling": {"type": "liquid", "chiller_units": 1, "residual_air": {"crah_delta_t_k": 2.00001}},
        "power_cap_w": 200.0,
    }
    data = {"name": "W__13", "duration_s": 104.85, "dt_s": 31.811398974338758, "halls": [hall]}
    data["weather"] = {"dry_bulb_c": 2.3484765194197337, "relative_humidity_pct": 41.53383880169083}
    assert _outcome(data) == "ran"


def test_vanishing_thermal_values_are_rejected():
    """Airflow, capacitance and cold-plate flow of 1e-309 and less passed gt=0 and divided by zero in
    hardware/node.py; the schema's lower bounds now name them."""
    data = _example(
        "cooling_matters_liquid.toml",
        halls__0__node__airflow_full_speed_m3_s=2.225073858507203e-309,
        halls__0__thermal__capacitance_j_k=2.225073858507203e-309,
        halls__0__thermal__cold_plate_flow_l_min=5e-324,
    )
    with pytest.raises(ScenarioError) as e:
        validate_scenario(data)
    assert [p.split(" =")[0] for p in e.value.problems] == [
        "halls.0.node.airflow_full_speed_m3_s",
        "halls.0.thermal.capacitance_j_k",
        "halls.0.thermal.cold_plate_flow_l_min",
    ]


def test_fans_below_the_heat_sink_model_range_are_rejected():
    """fan_min_speed_frac = 0.05 (the heat-sink model holds from 0.2) let an idle hall at 590 s steps
    diverge to −8e233 W; now the schema states the model's range."""
    data = {
        "name": "O",
        "seed": 112,
        "duration_s": 1108.1221929770068,
        "dt_s": 589.7123890498693,
        "weather": {"climate": "sand-point-ak", "start": "08-14 03:29"},
        "halls": [
            {
                "nodes_per_rack": 5,
                "inlet_offset_mean_c": 1.9671210775196677,
                "inlet_offset_std_c": 8.044297570117012,
                "node": {
                    "gpus_per_node": 1,
                    "fan_min_speed_frac": 0.05,
                    "fan_temp_low_c": 55.703835414673996,
                    "fan_temp_high_c": 77.73273597154449,
                    "airflow_full_speed_m3_s": 0.06,
                    "gpu_rows_in_airflow": 1,
                },
                "thermal": {
                    "heatsink_base_resistance_k_w": 0.012,
                    "heatsink_convective_resistance_k_w": 0.01,
                },
            }
        ],
    }
    with pytest.raises(ScenarioError, match=r"halls\.0\.node\.fan_min_speed_frac = 0\.05: .*≥ 0\.2"):
        validate_scenario(data)
    data["halls"][0]["node"]["fan_min_speed_frac"] = 0.2
    assert _outcome(data) == "ran"


def test_a_gpu_that_cannot_be_cooled_starts_shut_down():
    """A 1 K/W heat sink put the first steady state at ~720 °C; leakage overflowed, the room model
    (issue 13) took the infinite heat and the chiller a NaN load (sim/hall.py init_temperatures)."""
    data = _example("cooling_matters_air.toml", halls__0__thermal__heatsink_convective_resistance_k_w=1)
    assert _outcome(data) == "ran"
    sim = build_simulation(validate_scenario(data))
    assert (
        sim.halls[0].shutdown.all() and (sim.halls[0].temp_c <= GPU_CATALOG["H100-SXM"].shutdown_temp_c).all()
    )


def test_a_vanishing_work_target_ends_its_job_without_an_infinite_mean():
    """work_pflop = 5e-324 booked a subnormal share of a step: the summary's mean power per active
    GPU divided by it (inf; workload/jobs.py _book_work)."""
    job = {"name": "job-0", "gpus": 1, "start_s": 0.0, "precision": "bf16", "type": "training"}
    hall = {
        "name": "hall-0",
        "gpu": "B200",
        "inlet_offset_mean_c": 0.0,
        "inlet_offset_std_c": 0.0,
        "node": {
            "gpus_per_node": 1,
            "fan_temp_low_c": 0.0,
            "fan_temp_high_c": 1.0,
            "airflow_full_speed_m3_s": 1.0,
            "gpu_rows_in_airflow": 1,
        },
        "cooling": {"type": "air", "heat_rejection": {"type": "cooling_tower"}},
        "jobs": [job | {"work_pflop": 5e-324, "flexible": True}],
    }
    weather = {"climate": "greensboro-nc", "start": "01-01 00:00"}
    data = {"name": "0", "duration_s": 1.0, "dt_s": 1.0, "weather": weather, "halls": [hall]}
    assert _outcome(data) == "ran"


# -- open: the hall's physics (src/aidc/sim/hall.py, src/aidc/hardware/gpu.py) ---------------------
def _air_burn(capacitance_j_k: float, dt_s: float, end_s: float) -> dict:
    hall = {
        "gpu": "H100-SXM",
        "inlet_offset_std_c": 0.0,
        "node": {"gpus_per_node": 1, "gpu_rows_in_airflow": 1},
        "thermal": {"capacitance_j_k": capacitance_j_k},
        "cooling": {"type": "air"},
        "jobs": [{"type": "burn", "name": "b", "end_s": end_s}],
    }
    return {
        "name": "x",
        "duration_s": 10 * dt_s,
        "dt_s": dt_s,
        "weather": {"climate": "greensboro-nc"},
        "halls": [hall],
    }


# Fixed: the leakage linearized at the step's start (P0 + g·(T̄ − T0)) went negative when the
# junction cooled by more than ΔT₂/ln 2 ≈ 14 K within a step; the step's power now takes the
# exponential at the mean temperature (sim/hall.py _junctions).
@pytest.mark.parametrize(
    ("capacitance_j_k", "dt_s", "end_s"),
    [(600.0, 60.0, 120.0), (60.0, 8.0, 8.0), (60.0, 30.0, 30.0)],
    ids=["default-capacitance-60s-steps", "shrunk-by-hypothesis", "small-capacitance-30s"],
)
def test_gpu_power_stays_positive_after_a_job_ends(capacitance_j_k, dt_s, end_s):
    sim = build_simulation(validate_scenario(_air_burn(capacitance_j_k, dt_s, end_s)))
    powers = [sim.step(k * dt_s).halls[0].state.power_w.min() for k in range(6)]
    assert min(powers) >= 0.0, powers


# Fixed: junctions are bounded by their sink and by the shutdown threshold within a step, so a
# linearized runaway no longer reaches NaN or ±1e4 °C (sim/hall.py _junctions). Open (issue 11):
# the single leakage exponential is too steep above ~75 °C, so a GPU tripping at shutdown still
# draws several times its cap in that step.
RUNAWAY = (
    "hardware/gpu.py: the single leakage exponential is too steep above ~75 °C (issue 11); a GPU "
    "reaching shutdown draws far above its cap in the step it trips"
)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_a_hall_too_hot_to_idle_runs_with_finite_power():
    """The first failure the fuzz found: a 1 K/W heat sink, idle. NaN reached the chiller's unit count."""
    hall = {
        "gpu": "B200",
        "inlet_offset_std_c": 0.0,
        "node": {"gpus_per_node": 1, "fan_temp_low_c": 0.0, "fan_temp_high_c": 1.0, "gpu_rows_in_airflow": 1},
        "thermal": {"heatsink_convective_resistance_k_w": 1.0},
        "cooling": {"type": "air"},
    }
    data = {
        "name": "a",
        "duration_s": 6.0,
        "dt_s": 6.0,
        "weather": {"climate": "greensboro-nc"},
        "halls": [hall],
    }
    step_a_few(build_simulation(validate_scenario(data)))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_immersion_at_46_c_runs_with_finite_power():
    hall = {
        "gpu": "MI300X",
        "inlet_offset_std_c": 0.0,
        "node": {
            "gpus_per_node": 1,
            "fan_temp_low_c": 0.0,
            "fan_temp_high_c": 1.0,
            "airflow_full_speed_m3_s": 1.0,
            "gpu_rows_in_airflow": 1,
        },
        "thermal": {
            "immersion_resistance_k_w": 0.0859375,
            "capacitance_j_k": 60.0,
            "cold_plate_flow_l_min": 1.0,
        },
        "cooling": {"type": "immersion", "facility_supply_temp_c": 46.0},
    }
    data = {
        "name": "0",
        "duration_s": 35.0,
        "dt_s": 34.0,
        "weather": {"climate": "greensboro-nc"},
        "halls": [hall],
    }
    step_a_few(build_simulation(validate_scenario(data)))


@pytest.mark.xfail(strict=True, reason=RUNAWAY)
def test_gpu_power_at_shutdown_stays_near_its_cap():
    """A plausible bad air hall (0.2 + 0.2 K/W, 55 °C inlets, 15-minute steps): GPUs reach shutdown
    drawing 1.7e10 W each in the step they trip (finite, so the fuzz property lets it pass)."""
    hall = {
        "gpu": "H100-SXM",
        "inlet_offset_mean_c": 20.0,
        "inlet_offset_std_c": 0.0,
        "thermal": {"heatsink_base_resistance_k_w": 0.2, "heatsink_convective_resistance_k_w": 0.2},
        "cooling": {"type": "air", "supply_air_temp_c": 35.0},
        "jobs": [{"type": "burn", "name": "b"}],
    }
    weather = {"dry_bulb_c": 40.0, "relative_humidity_pct": 50.0}
    data = {"name": "x", "duration_s": 9000.0, "dt_s": 900.0, "weather": weather, "halls": [hall]}
    sim = build_simulation(validate_scenario(data))
    peak = max(float(sim.step(k * 900.0).halls[0].state.power_w.max()) for k in range(4))
    assert peak <= 2.0 * GPU_CATALOG["H100-SXM"].power_cap_max_w, peak


# -- fixed after the fuzz: the serving summary of a run that finished no request ---------------------
def test_serving_summary_is_json_when_no_request_finished(tmp_path):
    """Percentiles of no requests are NaN in memory; summary.json holds null (strict JSON)."""
    data = _example("serving_deepseek_v3.toml", duration_s=10, warmup_s=0, halls__0__jobs__0__start_s=600)
    run = run_scenario(validate_scenario(data), tmp_path / "r")
    summary = json.loads((run.path / "summary.json").read_text(), parse_constant=pytest.fail)
    assert summary["serving"][0]["requests_finished"] == 0
    assert summary["serving"][0]["ttft_p50_s"] is None
