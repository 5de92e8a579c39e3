"""The site as a Brick model: it validates (SHACL, Brick 1.5 + QUDT), and an operator's questions
have their answers in SPARQL, joined to the run store's series where they need numbers."""

from __future__ import annotations

import duckdb
import pytest
import rdflib
from typer.testing import CliRunner

from aidc.api import run_scenario
from aidc.cli import ExitCode, app
from aidc.ontology.brick import AIDC_CLASSES, brick_model
from aidc.ontology.export import brick_of, validate_brick
from aidc.scenario import validate_scenario
from conftest import example_dict

PREFIXES = """
PREFIX brick: <https://brickschema.org/schema/Brick#>
PREFIX ref: <https://brickschema.org/schema/Brick/ref#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX aidc: <urn:aidc:schema#>
"""


def _lab(kind: str = "liquid") -> dict:
    """2 rows × 2 racks × 1 node × 8 H100 (32 GPUs), two power paths, every GPU's series stored."""
    d = example_dict("cooling_matters_liquid.toml")
    d["duration_s"], d["warmup_s"], d["dt_s"] = 120.0, 0.0, 5.0
    d["halls"][0] |= {"rows": 2, "racks_per_row": 2, "nodes_per_rack": 1}
    d["power_chain"] = {"redundancy": "2N"}
    d["telemetry"] = {"per_gpu": True}
    if kind != "liquid":
        d["halls"][0]["cooling"] = {"type": kind}
    return d


@pytest.fixture(scope="module")
def run_model(tmp_path_factory):
    """The lab's run and its model (the points reference the run's own DuckDB file)."""
    run = run_scenario(validate_scenario(_lab()), tmp_path_factory.mktemp("brick") / "run")
    return run, brick_of(run.path)


def _labels(model: rdflib.Graph, query: str) -> list[tuple[str, ...]]:
    """The query's rows, each site entity by its label."""
    rows = model.query(PREFIXES + query)
    return sorted(
        tuple(
            str(model.value(v, rdflib.RDFS.label)) if str(v).startswith("urn:aidc:site") else str(v)
            for v in r
        )
        for r in rows
    )


@pytest.mark.parametrize("kind", ["air", "liquid", "immersion"])
def test_the_model_validates_against_brick_and_qudt(kind):
    conforms, report, _ = validate_brick(brick_model(validate_scenario(_lab(kind))))
    assert conforms, report[:3000]


def test_the_aidc_classes_refine_brick_classes():
    model = brick_model(validate_scenario(_lab()))
    for name in AIDC_CLASSES:
        parents = list(model.objects(rdflib.URIRef(f"urn:aidc:schema#{name}"), rdflib.RDFS.subClassOf))
        assert len(parents) == 1 and ("Brick#" in str(parents[0]) or "w3id.org/rec#" in str(parents[0]))


def test_which_gpus_does_cdu_1_feed(run_model):
    _, model = run_model
    gpus = _labels(
        model,
        """SELECT ?i WHERE { ?cdu rdfs:label "lab/cdu-1" ; brick:feeds+ ?plate .
        ?plate a aidc:Cold_Plate ; brick:isPartOf ?gpu . ?gpu a aidc:GPU ; aidc:gpuIndex ?i }""",
    )
    assert sorted(int(g[0]) for g in gpus) == list(range(16))  # row 1: racks 1–2, nodes 1–2


def test_which_racks_lose_cooling_if_pump_p2_trips(run_model):
    _, model = run_model
    query = """SELECT DISTINCT ?rack WHERE {{ ?pump rdfs:label "{pump}" ; brick:feeds+ ?plate .
        ?plate a aidc:Cold_Plate ; brick:isPartOf/brick:isPartOf/brick:isPartOf ?rack .
        ?rack a brick:ICT_Rack }}"""
    assert _labels(model, query.format(pump="lab/cdu-2/pump")) == [("lab/rack-3",), ("lab/rack-4",)]
    everything = _labels(model, query.format(pump="lab/facility-water-loop/pump"))
    assert everything == [(f"lab/rack-{i}",) for i in range(1, 5)]


def test_which_points_have_no_unit(run_model):
    _, model = run_model
    rows = _labels(
        model,
        """SELECT DISTINCT ?column WHERE { ?p brick:isPointOf ?x ;
        ref:hasExternalReference/aidc:column ?column . FILTER NOT EXISTS { ?p brick:hasUnit ?u } }""",
    )
    assert {r[0] for r in rows} == {"pue", "gpus_running", "tflops_per_gpu", "gpus_shut_down", "tflops"}


def test_the_hottest_gpus_rack_and_its_upstream_chillers(run_model):
    run, model = run_model
    (hottest,) = run.query("SELECT gpu FROM gpus ORDER BY temp_c DESC, gpu LIMIT 1").column("gpu").to_pylist()
    rows = _labels(
        model,
        f"""SELECT ?rack ?chiller WHERE {{ ?g a aidc:GPU ; aidc:gpuIndex {hottest} ;
        brick:isPartOf ?node . ?node a brick:Server ; brick:isPartOf ?rack .
        ?chiller a brick:Chiller ; brick:feeds+ ?plate . ?plate brick:isPartOf ?g }}""",
    )
    rack = f"lab/rack-{hottest // 8 + 1}"
    assert rows == [(rack, "lab/chiller-1"), (rack, "lab/chiller-2")]


def test_the_ups_paths_of_a_node(run_model):
    _, model = run_model
    rows = _labels(
        model,
        """SELECT ?ups ?pdu WHERE { ?n rdfs:label "lab/node-3" ; brick:isPartOf ?rack .
        ?ups a aidc:UPS ; brick:feeds ?pdu . ?pdu a aidc:PDU ; brick:feeds ?rack }""",
    )
    assert rows == [("ups-a", "lab/pdu-a"), ("ups-b", "lab/pdu-b")]  # 2N: two paths


def test_the_temperatures_of_every_gpu_a_cdu_feeds_come_from_the_run_store(run_model):
    """SPARQL finds the series (file, table, column, hall, GPU); DuckDB reads them; they equal a
    direct query of the same GPUs."""
    run, model = run_model
    refs = model.query(
        PREFIXES
        + """SELECT ?db ?table ?column ?hall ?gpu WHERE {
        ?cdu rdfs:label "lab/cdu-2" ; brick:feeds+ ?plate . ?plate a aidc:Cold_Plate ; brick:isPartOf ?g .
        ?p brick:isPointOf ?g ; a aidc:GPU_Temperature_Sensor ; ref:hasExternalReference ?r .
        ?r ref:storedAt ?db ; aidc:table ?table ; aidc:column ?column ; aidc:hall ?hall ; aidc:gpu ?gpu }"""
    )
    refs = list(refs)
    assert len(refs) == 16
    (db,), (table,), (column,) = ({str(r[i]) for r in refs} for i in range(3))
    gpus = sorted(int(r[4]) for r in refs)
    assert (table, column, gpus) == ("gpus", "temp_c", list(range(16, 32)))
    with duckdb.connect(db, read_only=True) as con:
        joined = con.execute(
            f"SELECT gpu, avg({column}) FROM {table} WHERE hall = ? AND gpu IN ({','.join(map(str, gpus))}) "
            "GROUP BY gpu ORDER BY gpu",
            ["lab"],
        ).fetchall()
    direct = run.query("SELECT gpu, avg(temp_c) FROM gpus WHERE gpu >= 16 GROUP BY gpu ORDER BY gpu")
    assert [g for g, _ in joined] == direct.column(0).to_pylist()
    assert [t for _, t in joined] == pytest.approx(direct.column(1).to_pylist(), rel=1e-12)


def test_the_site_meter_feeds_pv_and_battery_and_a_scenario_has_no_store():
    model = brick_model(validate_scenario(example_dict("site_pv_battery.toml")))
    rows = _labels(model, """SELECT ?src WHERE { ?src brick:feeds ?m . ?m rdfs:label "meter" }""")
    assert rows == [("battery/cells",), ("pv/inverter",)]
    assert not list(model.query(PREFIXES + "SELECT ?r WHERE { ?r ref:storedAt ?db }"))


def test_the_command_writes_turtle_and_refuses_bad_input(tmp_path, run_model):
    run, _ = run_model
    out = tmp_path / "site.ttl"
    ok = CliRunner().invoke(app, ["export", "brick", str(run.path), "--out", str(out), "--no-validate"])
    assert ok.exit_code == 0, ok.output
    assert len(rdflib.Graph().parse(out)) > 1000
    again = CliRunner().invoke(app, ["export", "brick", str(run.path), "--out", str(out), "--no-validate"])
    assert again.exit_code == ExitCode.BAD_INPUT and "--overwrite" in again.output
    missing = CliRunner().invoke(
        app, ["export", "brick", str(tmp_path / "none.toml"), "--out", str(tmp_path / "x.ttl")]
    )
    assert missing.exit_code == ExitCode.BAD_INPUT and not (tmp_path / "x.ttl").exists()
