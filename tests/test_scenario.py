import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aidc.api import simulate
from aidc.scenario import ScenarioError, load_scenario, validate_scenario
from aidc.sim.build import build_simulation
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
