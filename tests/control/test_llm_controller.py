"""The LLM cooling controller: its choices, prompt and rationale scoring; the OpenAI-compatible
client against a recorded-response server on loopback (answers, HTTP 500s, timeouts, malformed
JSON, letters outside the enum); the in-process SmolLM2 through the shielded environment."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import duckdb
import numpy as np
import pytest

from aidc.control.api import evaluate_controllers, make_env, write_evaluation
from aidc.control.llm_backends import Endpoint, EndpointError, LocalModel, Question, sha256, smollm2_file
from aidc.control.llm_controller import LLMController, audit_summary, rationale_faithful
from aidc.control.llm_prompt import MOVES, Step, build_prompt, choice_grid
from aidc.control.offline import evaluate
from aidc.control.spaces import AIR_ACTIONS, LIQUID_ACTIONS, CoolingObservation

OBS = CoolingObservation(31.0, 24.0, 820.0, 58.0, 66.0, 68.0, 27.0, 29.0, 14.0, 200.0, 87.0)


def test_the_choices_are_the_rate_limited_moves_clamped_to_the_range():
    water, flow = LIQUID_ACTIONS
    np.testing.assert_allclose(choice_grid(water, 32.0, 300.0), [31.0, 31.5, 32.0, 32.5, 33.0])
    np.testing.assert_allclose(choice_grid(water, 32.0, 60.0), [31.8, 31.9, 32.0, 32.1, 32.2])
    np.testing.assert_allclose(choice_grid(flow, 0.98, 300.0), [0.88, 0.93, 0.98, 1.0, 1.0])
    assert len(MOVES) == 5


def test_the_prompt_carries_units_demonstrations_and_recent_steps():
    demo = Step("outdoor 30.0 °C", "facility water supply 33.0 °C", 41.0, 70.2)
    system, user, questions = build_prompt(OBS, np.array([32.0, 0.9]), LIQUID_ACTIONS, control_step_s=300.0,
                                           margin_k=10.0, demonstrations=[demo], recent=[demo])  # fmt: skip
    assert "87 °C" in system and "5 minutes" in system
    assert "hottest 68.0 °C" in user and "IT 820 kW" in user and "coolant flow 0.90" in user
    assert user.count("cooling 41 kW") == 2
    assert questions[0][0] == "facility water supply: A) 31.0 °C B) 31.5 °C C) 32.0 °C D) 32.5 °C E) 33.0 °C"


@pytest.mark.parametrize(
    ("text", "moves", "expected"),
    [
        ("GPUs are cool, so I raise the water temperature to save energy.", [1.0, 0.0], True),
        ("The hottest GPU is near its limit; lower the water supply.", [-0.5, 0.0], True),
        ("GPUs are cool, so I raise the water temperature.", [-1.0, 0.0], False),  # wrong direction
        ("Raise the flow because the GPUs run hot.", [1.0, 0.0], False),  # wrong setpoint
        ("Hold everything: the GPU temperature is steady.", [0.0, 0.0], True),
        ("Increase the water supply.", [1.0, 0.0], False),  # no cause given
        ("", [1.0, 0.0], None),
    ],
)
def test_a_rationale_is_faithful_when_its_setpoint_direction_and_cause_match(text, moves, expected):
    assert rationale_faithful(text, np.array(moves), LIQUID_ACTIONS) is expected


class Recorded(BaseHTTPRequestHandler):
    """Answers from a script: each request pops the next (status, body, delay_s)."""

    script: ClassVar[list[tuple[int, str, float]]] = []
    seen: ClassVar[list[dict]] = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Recorded.seen.append(body)
        status, payload, delay = Recorded.script.pop(0) if Recorded.script else (500, "no script", 0.0)
        time.sleep(delay)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload.encode())
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout)
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Recorded.script, Recorded.seen = [], []
    yield f"http://127.0.0.1:{httpd.server_port}/v1"
    httpd.shutdown()
    httpd.server_close()


def completion(content: str) -> str:
    return json.dumps({"model": "recorded", "choices": [{"message": {"content": content}}],
                       "usage": {"prompt_tokens": 310, "completion_tokens": 22}})  # fmt: skip


GOOD = completion(
    json.dumps({"facility_supply_temp_c": "D", "flow_frac": "C", "rationale": "GPUs cool: raise water."})
)
QUESTIONS = [
    Question("facility_supply_temp_c", "facility water supply", "…"),
    Question("flow_frac", "flow", "…"),
]


def test_the_endpoint_asks_for_enum_letters_and_parses_the_answer(server):
    Recorded.script = [(200, GOOD, 0.0)]
    answer = Endpoint(server, "m").answer("sys", "user", QUESTIONS)
    assert answer.letters == ["D", "C"] and answer.tokens_in == 310 and "raise" in answer.rationale
    schema = Recorded.seen[0]["response_format"]["json_schema"]["schema"]
    assert schema["properties"]["flow_frac"]["enum"] == ["A", "B", "C", "D", "E"]
    assert Recorded.seen[0]["temperature"] == 0.0


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ([(500, "boom", 0.0)] * 3, "HTTP 500"),
        ([(200, "{not json", 0.0)] * 3, "malformed answer"),
        (
            [(200, completion('{"facility_supply_temp_c": "Z", "flow_frac": "A"}'), 0.0)] * 3,
            "outside the allowed",
        ),
        ([(200, completion('{"flow_frac": "A"}'), 0.0)] * 3, "malformed answer"),
        ([(200, GOOD, 1.0)] * 3, "unreachable or slow"),
    ],
)
def test_every_way_an_endpoint_fails_is_an_endpoint_error_in_bounded_time(server, script, reason):
    Recorded.script = list(script)
    t0 = time.perf_counter()
    with pytest.raises(EndpointError, match=reason):
        Endpoint(server, "m", timeout_s=0.3, retries=2, backoff_s=0.01).answer("s", "u", QUESTIONS)
    assert time.perf_counter() - t0 < 3 * 1.0 + 0.5


def test_a_server_that_rejects_openais_schema_form_gets_llama_cpp_pythons(server):
    Recorded.script = [(422, "unknown response_format type", 0.0), (200, GOOD, 0.0)]
    endpoint = Endpoint(server, "m", backoff_s=0.01)
    assert endpoint.answer("s", "u", QUESTIONS).letters == ["D", "C"]
    first, second = (r["response_format"] for r in Recorded.seen)
    assert first["type"] == "json_schema" and second["type"] == "json_object"
    assert second["schema"]["properties"]["flow_frac"]["enum"] == list("ABCDE")


def test_a_failure_then_an_answer_is_retried(server):
    Recorded.script = [(500, "boom", 0.0), (200, GOOD, 0.0)]
    assert Endpoint(server, "m", backoff_s=0.01).answer("s", "u", QUESTIONS).letters == ["D", "C"]


def test_an_endpoint_down_falls_back_to_the_rule_based_controller_behind_the_shield(server):
    env = make_env("liquid", episode_hours=0.5)
    Recorded.script = [(200, GOOD, 0.0)] * 3 + [(500, "down", 0.0)] * 100
    ctl = LLMController(
        env.specs, Endpoint(server, "m", retries=1, backoff_s=0.01), control_step_s=env.control_step_s
    )
    totals = evaluate(env, ctl, episodes=[{"climate": "greensboro-nc", "start": "07-15 12:00"}])
    verdicts = [r["acted"] for r in ctl.audit]
    assert verdicts[:3] == ["answered"] * 3 and all(v.startswith("fallback (HTTP 500") for v in verdicts[3:])
    assert totals["gpu_violation_gpu_h"] == 0.0
    assert all(r["shield"] is not None for r in ctl.audit)
    s = audit_summary(ctl.audit)
    assert s["valid_action_rate"] == 1.0 and s["answered_share"] == 3 / len(verdicts)


def test_the_air_hall_asks_three_questions():
    _, _, questions = build_prompt(OBS, np.array([22.0, 12.0, 12.0]), AIR_ACTIONS, control_step_s=300.0,
                                   margin_k=10.0, demonstrations=[], recent=[])  # fmt: skip
    assert [q[0].split(":")[0] for q in questions] == [
        "supply air",
        "chilled water",
        "economizer lockout wet-bulb",
    ]


def test_an_evaluation_audits_every_decision_of_an_endpoint_controller(server, tmp_path):
    Recorded.script = [(200, GOOD, 0.0)] * 400
    episode = [{"climate": "miami-fl", "start": "07-12 00:00"}]
    results = evaluate_controllers("liquid", [f"llm@{server}#recorded", "rule-based"], episode_list=episode)
    llm = results[f"llm@{server}#recorded"]
    assert llm["llm"]["decisions"] == llm["steps"] == 288 and llm["llm"]["answered_share"] == 1.0
    assert llm["gpu_violation_gpu_h"] == 0.0
    write_evaluation(results, tmp_path, kind="liquid", episode_list=episode)
    rows = duckdb.sql(
        f"SELECT controller, letters, shield, model, episode FROM '{tmp_path / 'audit.parquet'}'"
    ).fetchall()
    assert len(rows) == 288 and {r[1] for r in rows} == {"DC"} and {r[3] for r in rows} == {"recorded"}
    assert {r[0] for r in rows} == {f"llm@{server}#recorded"}  # the controller's name, not its verdict
    assert (
        "audit"
        not in json.loads((tmp_path / "results.json").read_text())["results"][f"llm@{server}#recorded"]
    )


@pytest.fixture(scope="module")
def local_model():
    pytest.importorskip("gguf")
    pytest.importorskip("accelerate")
    try:
        smollm2_file()
    except FileNotFoundError as e:
        pytest.skip(str(e))
    return LocalModel(threads=1)


def test_smollm2_in_process_acts_validly_deterministically_and_is_audited(local_model):
    env = make_env("liquid", episode_hours=0.25)
    runs = []
    for _ in range(2):
        ctl = LLMController(env.specs, local_model, control_step_s=env.control_step_s, rationale_every=2)
        totals = evaluate(env, ctl, episodes=[{"climate": "greensboro-nc", "start": "07-15 12:00"}])
        runs.append(ctl.audit)
        assert totals["gpu_violation_gpu_h"] == 0.0
    first, second = runs
    assert [r["letters"] for r in first] == [r["letters"] for r in second]  # greedy: the same choices
    assert len(first) == 3 and all(
        len(r["letters"]) == 2 and set(r["letters"]) <= set("ABCDE") for r in first
    )
    assert first[0]["model_sha256"] == sha256(local_model.path) and first[0]["tokens_in"] > 100
    assert [bool(r["rationale"]) for r in first] == [True, False, True]
    assert all(r["shield"] is not None for r in first)
    scores = json.loads(first[0]["raw"])
    assert len(scores) == 2 and set(scores[0]) == set("ABCDE")
    s = audit_summary(first)
    assert s["valid_action_rate"] == 1.0 and s["answered_share"] == 1.0
