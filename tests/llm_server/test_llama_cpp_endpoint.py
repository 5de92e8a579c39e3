"""The OpenAI-compatible client against a real server: llama.cpp's (``llama-cpp-python[server]``)
serving the same SmolLM2 GGUF on loopback. Optional: ``make test-llm`` installs the server (its
build takes ~7 minutes here) and runs this with ``AIDC_LLM_SERVER=1``; the default suite tests the
client against a recorded-response server instead."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from aidc.control.api import make_env
from aidc.control.llm_backends import Endpoint, Question, smollm2_file
from aidc.control.llm_controller import LLMController, audit_summary
from aidc.control.offline import evaluate

pytestmark = pytest.mark.skipif(os.environ.get("AIDC_LLM_SERVER") != "1", reason="make test-llm runs it")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("llama_cpp.server")
    port = free_port()
    model = [
        "--model",
        str(smollm2_file()),
        "--model_alias",
        "smollm2",
        "--n_threads",
        "2",
        "--n_ctx",
        "2048",
    ]
    cmd = [sys.executable, "-m", "llama_cpp.server", *model, "--host", "127.0.0.1", "--port", str(port)]
    log = tmp_path_factory.mktemp("llama") / "server.log"  # a file: a full pipe would stall the server
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=open(log, "w"))  # noqa: SIM115
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120.0
    while True:
        try:
            urllib.request.urlopen(f"{base}/models", timeout=1.0).read()
            break
        except OSError:
            assert proc.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, (
                "llama.cpp's server did not come up: " + log.read_text()[-2000:]
            )
            time.sleep(0.5)
    yield base
    proc.terminate()
    proc.wait(timeout=30)


WATER = "facility water supply: A) 31.0 °C B) 31.5 °C C) 32.0 °C D) 32.5 °C E) 33.0 °C"
QUESTIONS = [
    Question("facility_supply_temp_c", "facility water supply", WATER),
    Question("flow_frac", "coolant flow", "coolant flow: A) 0.90 B) 0.95 C) 1.00 D) 1.00 E) 1.00"),
]


def test_the_server_answers_with_letters_from_the_enum(server):
    answer = Endpoint(server, "smollm2", timeout_s=60.0).answer(
        "You set the cooling of a GPU hall.", "Now: hottest GPU 60 °C, slowdown 89 °C.", QUESTIONS
    )
    assert len(answer.letters) == 2 and set(answer.letters) <= set("ABCDE")
    assert answer.tokens_in > 50 and answer.tokens_out > 0


def test_an_hour_of_control_through_the_server_is_valid_and_audited(server):
    env = make_env("liquid", episode_hours=1.0)
    endpoint = Endpoint(server, "smollm2", timeout_s=60.0)
    ctl = LLMController(env.specs, endpoint, control_step_s=env.control_step_s, rationale_every=6)
    totals = evaluate(env, ctl, episodes=[{"climate": "greensboro-nc", "start": "07-15 12:00"}])
    summary = audit_summary(ctl.audit)
    assert summary["decisions"] == totals["steps"] == 12 and summary["valid_action_rate"] == 1.0
    assert summary["answered_share"] == 1.0, [r["acted"] for r in ctl.audit]  # the model answered every time
    assert totals["gpu_violation_gpu_h"] == 0.0 and all(r["shield"] is not None for r in ctl.audit)
