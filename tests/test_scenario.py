import copy
import math
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

import aidc.scenario as schema
from aidc.api import simulate
from aidc.facility.weather import load_tmy, pvlib_data_dir
from aidc.scenario import ScenarioError, load_scenario, validate_scenario
from aidc.scenario.common import SAFE_NAME_RULE
from aidc.sim.build import RUN_BYTES_PER_GPU, build_simulation, check_memory, run_memory_bytes
from aidc.units import unit_of
from conftest import EXAMPLES, example_dict


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.toml")), ids=lambda p: p.name)
def test_examples_validate(path):
    load_scenario(path)


def _mutate(d: dict, path: str, value) -> dict:
    d = copy.deepcopy(d)
    node = d
    keys = path.split(".")
    for k in keys[:-1]:
        node = node[int(k)] if k.isdigit() else node[k]
    last = keys[-1]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return d


@pytest.mark.parametrize(
    ("path", "value", "expect"),
    [
        ("halls.0.gpu", "H900", "halls.0.gpu = 'H900': unknown GPU"),
        ("halls.0.cooling.residual_air.supply_air_temp_c", 300.0, "300.0 °C"),
        ("dt_s", 10_000.0, "dt_s"),
        ("halls.0.nodes_per_rack", 0, "halls.0.nodes_per_rack = 0"),
        ("halls.0.node.gpus_per_node", 0, "gpus_per_node"),
        ("weather", {"file": "/nonexistent/tmy.csv"}, "weather file not found"),
        ("halls.0.power_cap_w", 900.0, "200–700 W"),
        ("halls.0.jobs.0.precision", "fp4", "no fp4 throughput"),
    ],
)
def test_bad_input_names_field_value_and_range(path, value, expect):
    """Caught by the schema, or (the weather file) when the scenario is built: both before it runs."""
    d = _mutate(example_dict("cooling_matters_liquid.toml"), path, value)
    with pytest.raises(ScenarioError) as e:
        build_simulation(validate_scenario(d))
    assert any(expect in p for p in e.value.problems), e.value.problems


def test_supply_temperature_error_states_the_allowed_range():
    d = _mutate(example_dict("cooling_matters_air.toml"), "halls.0.cooling.supply_air_temp_c", 300.0)
    with pytest.raises(ScenarioError) as e:
        validate_scenario(d)
    (problem,) = e.value.problems
    assert problem == (
        "halls.0.cooling.air.supply_air_temp_c = 300.0 °C: Input should be less than or equal to 35 "
        "(allowed: ≤ 35.0 °C)"
    )


def test_unknown_key_is_rejected():
    d = example_dict("demo_hall.toml")
    d["halls"][0]["colour"] = "blue"
    with pytest.raises(ScenarioError, match=r"halls\.0\.colour: unknown key"):
        validate_scenario(d)


def test_bad_toml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = ")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "missing.toml")


_LEAVES = st.sampled_from(
    [
        "seed",
        "duration_s",
        "dt_s",
        "warmup_s",
        "halls.0.rows",
        "halls.0.nodes_per_rack",
        "halls.0.power_cap_w",
        "halls.0.inlet_offset_std_c",
        "halls.0.node.gpus_per_node",
        "halls.0.node.base_power_w",
        "halls.0.thermal.cold_plate_resistance_k_w",
        "halls.0.cooling.facility_supply_temp_c",
        "halls.0.jobs.0.activity_frac",
        "halls.0.jobs.0.gpus",
        "weather.dry_bulb_c",
        "weather.start",
        "halls.0.gpu",
        "halls.0.cooling.type",
    ]
)
_VALUES = st.one_of(
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.none(),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_LEAVES, _VALUES), min_size=1, max_size=3))
def test_mutated_scenarios_fail_cleanly_or_run(mutations):
    d = example_dict("cooling_matters_liquid.toml")
    for path, value in mutations:
        try:
            d = _mutate(d, path, value)
        except (KeyError, IndexError, TypeError):
            continue
    try:
        sc = validate_scenario(d)
        if sc.steps * sum(h.gpu_count for h in sc.halls) > 200_000:
            return
        summary = simulate(sc)  # builds first: a ScenarioError there is a clean failure too
    except ScenarioError as e:
        assert e.problems and all(isinstance(p, str) and p for p in e.problems)
        return
    assert summary["pue"] is None or summary["pue"] >= 1.0


# -- issue "Nothing lost, nothing deleted, no traceback" ---------------------------------------------
@pytest.mark.parametrize(
    ("path", "value", "expect"),
    [
        ("power_chain", {"lighting_w": math.inf}, "power_chain.lighting_w = inf W: must be a finite number"),
        ("telemetry", {"sample_s": math.inf}, "telemetry.sample_s = inf s: must be a finite number"),
        ("halls.0.jobs.0.start_s", math.inf, "halls.0.jobs.0.burn.start_s = inf s: must be a finite number"),
        ("duration_s", math.nan, "duration_s = nan s: must be a finite number"),
        ("halls.0.jobs.0.activity_frac", -math.inf, "activity_frac = -inf: must be a finite number"),
    ],
)
def test_every_number_must_be_finite(path, value, expect):
    d = _mutate(example_dict("cooling_matters_liquid.toml"), path, value)
    with pytest.raises(ScenarioError) as e:
        validate_scenario(d)
    assert any(p.endswith(expect) for p in e.value.problems), e.value.problems


@pytest.mark.parametrize(
    "name", ["", ".", "..", "../../x", "/abs/run", "a/b", "a\\b", "-rf", "run\n", "a" * 101, "café", "a b"]
)
def test_run_name_must_be_a_safe_file_name(name):
    d = example_dict("demo_hall.toml") | {"name": name}
    with pytest.raises(ScenarioError) as e:
        validate_scenario(d)
    (problem,) = e.value.problems
    assert problem.startswith("name = ") and SAFE_NAME_RULE in problem


def test_bundled_run_names_are_safe():
    for path in EXAMPLES.glob("*.toml"):
        assert validate_scenario(example_dict(path.name)).name
    for name in ("a" * 100, "run-2024.07_v1+fp8", "0"):
        assert validate_scenario(example_dict("demo_hall.toml") | {"name": name}).name == name


def test_a_directory_or_an_unreadable_file_is_a_clean_error(tmp_path, monkeypatch):
    with pytest.raises(ScenarioError, match="is a directory, not a scenario file"):
        load_scenario(tmp_path)
    p = tmp_path / "locked.toml"
    p.write_text("name = 'x'")

    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(ScenarioError, match=r"cannot read .*locked\.toml: Permission denied"):
        load_scenario(p)


def test_every_path_resolves_against_the_scenario_folder(tmp_path, monkeypatch):
    folder = tmp_path / "scenarios"
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "chat.csv").write_text("arrival_s,prompt_tokens,output_tokens\n0,100,10\n1.5,200,20\n")
    shutil.copy(pvlib_data_dir() / "723170TYA.CSV", folder / "data" / "greensboro.csv")
    text = (EXAMPLES / "serving_deepseek_v3.toml").read_text()
    text = text.replace('climate = "greensboro-nc"', 'file = "data/greensboro.csv"')
    text = text.replace('trace = "azure-conv"', 'trace = "data/chat.csv"')
    text += '[[halls]]\nname = "second"\n[[halls.jobs]]\ntype = "serving"\ntrace = "azure-code"\n'
    (folder / "s.toml").write_text(text)
    monkeypatch.chdir(tmp_path)  # neither file is here
    sc = load_scenario("scenarios/s.toml")
    assert sc.weather.file == folder / "data" / "greensboro.csv"
    assert sc.halls[0].jobs[0].trace == str(folder / "data" / "chat.csv")
    assert sc.halls[1].jobs[0].trace == "azure-code"
    build_simulation(sc)


def _with_weather_file(tmp_path: Path, content: str, fmt: str) -> Path:
    (tmp_path / "w.csv").write_text(content)
    text = (EXAMPLES / "cooling_matters_liquid.toml").read_text()
    text = text.replace(
        "dry_bulb_c = 22.0\nrelative_humidity_pct = 45.0", f'file = "w.csv"\nformat = "{fmt}"'
    )
    (tmp_path / "s.toml").write_text(text)
    return tmp_path / "s.toml"


@pytest.mark.parametrize(
    ("content", "fmt", "expect"),
    [
        ("hello,world\n1,2\n", "tmy3", "not a readable TMY3 file (KeyError: 'altitude')"),
        ("", "tmy2", "not a readable TMY2 file"),
        ("hello,world\n1,2\n", "tmy2", "not a readable TMY2 file (IndexError"),
        (None, "tmy3", "expected 8760 hourly rows, found 98"),
    ],
    ids=["garbage", "empty-tmy2", "garbage-tmy2", "truncated"],
)
def test_broken_weather_files_fail_validation(tmp_path, content, fmt, expect):
    lines = (pvlib_data_dir() / "723170TYA.CSV").read_text().splitlines()
    path = _with_weather_file(tmp_path, "\n".join(lines[:100]) if content is None else content, fmt)
    with pytest.raises(ScenarioError) as e:
        build_simulation(load_scenario(path))
    assert e.value.problems[0].startswith("weather: ") and expect in e.value.problems[0], e.value.problems


def test_weather_values_out_of_range_name_the_hour(tmp_path):
    lines = (pvlib_data_dir() / "723170TYA.CSV").read_text().splitlines()
    cells = lines[12].split(",")
    cells[31] = "nan"  # dry bulb of hour 10
    lines[12] = ",".join(cells)
    (tmp_path / "w.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(
        ValueError, match=r"hour 10: dry_bulb_c = nan is outside -90 … 60; 1 of its 8760 hours"
    ):
        load_tmy(str(tmp_path / "w.csv"), "tmy3")


def _serving(tmp_path: Path, rows: str | None, gpu: str = "H200-SXM", **job) -> dict:
    """The serving example on llama-3.1-8b (one GPU per replica), with a trace file of ``rows``."""
    d = example_dict("serving_deepseek_v3.toml")
    d["halls"][0]["gpu"] = gpu
    base = {"type": "serving", "name": "chat", "model": "llama-3.1-8b", "precision": "bf16"}
    if rows is not None:
        (tmp_path / "t.csv").write_text("arrival_s,prompt_tokens,output_tokens\n" + rows)
        base["trace"] = str(tmp_path / "t.csv")
    d["halls"][0]["jobs"] = [base | job]
    return d


@pytest.mark.parametrize(
    ("rows", "job", "expect"),
    [
        (None, {"trace_start_s": 1e5}, "jobs.0.trace_start_s = 100000.0 s: past the end of trace azure-conv"),
        ("0,100,10\n", {"rate_per_s": 12.0}, "jobs.0.rate_per_s = 12.0 1/s: a rate needs requests spread"),
        ("0,100,10\n0,50,10\n", {"rate_per_s": 1.0}, "all arrive at once"),
        ("", {}, "jobs.0.trace = "),
        ("0,10000000,10\n1,100,10\n", {}, "10000000 tokens, is longer than the context of Llama-3.1-8B"),
        (
            "0,30000,10\n",
            {"gpu": "H100-SXM", "model": "llama-3.1-70b", "gpus_per_replica": 2, "gpus": 2},
            "and one generated token need a KV cache of 469 blocks of 64 tokens",
        ),
    ],
    ids=["start-past-end", "one-row-rate", "all-at-once", "empty", "10M-prompt", "prompt-beyond-kv"],
)
def test_traces_that_cannot_run_fail_validation(tmp_path, rows, job, expect):
    with pytest.raises(ScenarioError) as e:
        build_simulation(validate_scenario(_serving(tmp_path, rows, **job)))
    (problem,) = e.value.problems
    assert problem.startswith("halls.0.jobs.0.") and expect in problem, problem


def test_a_hall_too_big_for_the_machine_fails_validation():
    d = example_dict("demo_hall.toml")
    d["halls"][0] |= {"rows": 1000, "racks_per_row": 1000, "nodes_per_rack": 128, "jobs": []}
    d["halls"][0]["node"]["gpus_per_node"] = 72
    with pytest.raises(ScenarioError) as e:
        build_simulation(validate_scenario(d))
    (problem,) = e.value.problems
    assert (
        problem.startswith("halls: 9,216,000,000 GPUs need about 3.7 TB of memory")
        and "machine has" in problem
    )
    sc = validate_scenario(example_dict("demo_hall.toml"))
    assert run_memory_bytes(sc) == 1024 * RUN_BYTES_PER_GPU
    check_memory(sc, 1024 * RUN_BYTES_PER_GPU)
    with pytest.raises(ValueError, match=r"1,024 GPUs need about 409\.6 kB .* this machine has 409\.6 kB"):
        check_memory(sc, 1024 * RUN_BYTES_PER_GPU - 1)
    check_memory(sc, None)  # the OS does not say: no check


# The unit each field-name suffix declares (README, "Scenario format"), and the fields that carry
# none: counts, names, switches, sections. A new field must land in one of the two.
SUFFIX_UNITS = {
    "_c": "°C",
    "_k": "K",
    "_w": "W",
    "_kw": "kW",
    "_kwh": "kWh",
    "_deg": "°",
    "_s": "s",
    "_per_s": "1/s",
    "_pa": "Pa",
    "_kpa": "kPa",
    "_k_w": "K/W",
    "_j_k": "J/K",
    "_j_kgk": "J/(kg·K)",
    "_kg_m3": "kg/m³",
    "_m3_s": "m³/s",
    "_l_min": "L/min",
    "_l": "L",
    "_m3": "m³",
    "_w_per_kw": "W/kW",
    "_gb": "GB",
    "_pflop": "PFLOP",
    "_tokens": "tokens",
    "_bits": "bits",
    "_frac": "fraction (0-1)",
    "_ratio": "ratio",
    "_pct": "%",
}
UNITLESS = {
    *("name", "description", "seed", "type", "file", "format", "climate", "start", "distribution"),
    *("gpu", "rows", "racks_per_row", "nodes_per_rack", "gpus_per_node", "gpu_rows_in_airflow", "gpus"),
    *("chiller", "chiller_units", "economizer", "chunk_rows", "per_gpu", "precision", "model", "link"),
    *("gpus_per_replica", "expert_parallel", "max_violation", "trace", "router", "small_model"),
    *("small_replicas", "small_gpus_per_replica", "prefill_replicas", "kv_transfer_link", "max_num_seqs"),
    *("swap_tier", "prefix_caching", "mtp_acceptance", "groups", "share"),
    *("weather", "halls", "power_chain", "telemetry", "node", "thermal", "cooling", "jobs"),
    *("heat_rejection", "residual_air", "shared_prefix"),
    *("site", "pv", "battery", "array_type", "module_type", "chemistry", "dispatch", "export_allowed"),
    *("demand_response", "grid_signals_file", "grid_signals", "gpu_parameters"),
    *("faults", "component", "hall", "gpus", "first_gpu", "redundancy", "ups_chemistry", "generator"),
    "cooling_on_ups",
    "flexible",
}


def _schema_field_names() -> set[str]:
    seen: set[type] = set()
    names: set[str] = set()
    todo = [getattr(schema, n) for n in schema.__all__]
    while todo:
        model = todo.pop()
        if isinstance(model, type) and issubclass(model, BaseModel) and model not in seen:
            seen.add(model)
            names |= set(model.model_fields)
    return names


def test_every_field_name_gives_the_unit_its_suffix_declares():
    for name in sorted(_schema_field_names()):
        stem = "_" + name.split("_at_")[0]  # compute_s_at_max_clock: seconds, at the maximum clock
        suffixes = [s for s in SUFFIX_UNITS if stem.endswith(s)]
        if not suffixes:
            assert name in UNITLESS, f"{name}: no unit suffix, and not listed as unitless"
            assert unit_of(name) == "", name
            continue
        assert name not in UNITLESS, name
        assert unit_of(name) == SUFFIX_UNITS[max(suffixes, key=len)], name
    assert (unit_of("rate_per_s"), unit_of("specific_fan_power_w_per_kw")) == ("1/s", "W/kW")
    assert (unit_of("compute_s_at_max_clock"), unit_of("fluid_cp_j_kgk")) == ("s", "J/(kg·K)")


def test_a_rate_is_shown_per_second():
    d = _mutate(example_dict("serving_deepseek_v3.toml"), "halls.0.jobs.0.rate_per_s", 0.0)
    with pytest.raises(ScenarioError) as e:
        validate_scenario(d)
    assert e.value.problems == [
        "halls.0.jobs.0.serving.rate_per_s = 0.0 1/s: Input should be greater than or equal to 0.000001 "
        "(allowed: ≥ 1e-06 1/s)"
    ]
