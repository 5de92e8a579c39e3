"""A serving job runs inside the twin: temperature and power limits feed back into its speed,
its outputs reach the summary, the run store and the report, and bad serving input is refused
before anything runs (exit status 2 from the CLI)."""

from __future__ import annotations

import tomllib

import pytest
from typer.testing import CliRunner

from aidc.api import run_scenario, simulate
from aidc.cli import ExitCode, app
from aidc.report.html import write_report
from aidc.scenario import ScenarioError, validate_scenario
from aidc.sim.build import build_simulation
from conftest import EXAMPLES


def serving_scenario(**job) -> dict:
    """One air-cooled 8×H100 node serving Llama-3.1-8B (8 replicas) to the Azure conversation
    trace sped up to 60 requests/s, for 3 minutes."""
    d = tomllib.loads((EXAMPLES / "cooling_matters_air.toml").read_text())
    d["duration_s"], d["warmup_s"], d["dt_s"] = 180, 60, 5
    d["halls"][0]["jobs"] = [
        {
            "type": "serving",
            "name": "chat",
            "model": "llama-3.1-8b",
            "trace": "azure-conv",
            "rate_per_s": 60.0,
            **job,
        }
    ]
    return d


def test_a_power_cap_slows_serving_and_the_summary_reports_it():
    free = simulate(validate_scenario(serving_scenario()))
    capped_d = serving_scenario()
    capped_d["halls"][0]["power_cap_w"] = 250.0
    capped = simulate(validate_scenario(capped_d))
    sf, sc = free["serving"][0], capped["serving"][0]
    assert sf["requests_finished"] > 1000 and sf["output_tokens_per_s"] > 5000
    # prefill is compute-bound: a lower clock lengthens time to first token
    assert sc["ttft_p50_s"] > 1.2 * sf["ttft_p50_s"]
    assert capped["halls"][0]["gpu_power_mean_w"] < free["halls"][0]["gpu_power_mean_w"]
    for key in ("j_per_output_token_gpu", "j_per_output_token_it", "j_per_output_token_facility"):
        assert sf[key] > 0
    assert sf["j_per_output_token_gpu"] < sf["j_per_output_token_it"] < sf["j_per_output_token_facility"]
    assert sf["output_tokens_per_facility_kwh"] == pytest.approx(3.6e6 / sf["j_per_output_token_facility"])


def test_a_disaggregated_serving_job_runs_in_the_twin():
    summary = simulate(validate_scenario(serving_scenario(prefill_replicas=2, rate_per_s=20.0)))
    sv = summary["serving"][0]
    assert sv["requests_finished"] > 500 and sv["output_tokens_per_s"] > 1000


def test_a_tiered_job_sends_short_prompts_to_the_small_model():
    job = dict(
        model="llama-3.1-70b",
        gpus_per_replica=4,
        router="tiered",
        small_model="llama-3.1-8b",
        small_replicas=4,
        tier_threshold_tokens=512,
        rate_per_s=10.0,
    )
    sim = build_simulation(validate_scenario(serving_scenario(**job)))
    run = sim.halls[0].workload.serving[0]
    assert [r.role for r in run.sim.replicas] == ["small"] * 4 + ["large"]
    assert list(run.tps) == [1, 1, 1, 1, 4]
    for _ in sim.run():
        pass
    served = [r for r in run.sim.requests if r.replica >= 0]
    assert served and all((r.replica < 4) == (r.prompt_tokens <= 512) for r in served)


def test_serving_telemetry_and_report(tmp_path):
    run = run_scenario(validate_scenario(serving_scenario()), tmp_path / "run")
    table = run.table("serving").to_pydict()
    assert set(table) >= {"t_s", "waiting", "running", "kv_used_frac", "output_tokens", "kills"}
    assert table["output_tokens"][-1] > table["output_tokens"][0]
    html = write_report(run, tmp_path / "report.html").read_text()
    assert "Serving throughput" in html and "KV-cache memory" in html
    assert run.summary["serving"][0]["requests_finished"] > 0


@pytest.mark.parametrize(
    ("job", "match"),
    [
        (
            dict(model="deepseek-v3", gpus_per_replica=8, precision="fp8", expert_parallel=True),
            r"DeepSeek-V3 \(671B\) does not fit 8× H100-SXM: each GPU needs 80.4 GiB",
        ),
        (dict(gpus_per_replica=3), "do not split into replicas of gpus_per_replica = 3"),
        (dict(model="gpt-5"), "unknown model 'gpt-5'"),
        (dict(slo_tpot_s=5.0, slo_e2e_s=1.0), "slo_tpot_s = 5 s per token is longer than slo_e2e_s"),
        (dict(slo_ttft_s=-1.0), "slo_ttft_s"),
        (dict(trace="no-such-trace.csv"), "neither a bundled trace"),
        (dict(swap_tier="tape"), "unknown swap tier 'tape'"),
        (dict(prefill_replicas=8), "prefill_replicas = 8 leaves none of its 8 replicas to decode"),
        (dict(router="tiered"), "the tiered router and small_model go together"),
        (
            dict(router="tiered", small_model="llama-3.1-8b", small_replicas=3, gpus_per_replica=4),
            r"8 GPUs \(less 3 for the small model\) do not split into replicas of gpus_per_replica = 4",
        ),
        (dict(prefill_replicas=2, kv_transfer_link="carrier-pigeon"), "unknown link 'carrier-pigeon'"),
    ],
)
def test_bad_serving_jobs_fail_before_running(job, match):
    with pytest.raises(ScenarioError, match=match):
        build_simulation(validate_scenario(serving_scenario(**job)))


def test_cli_refuses_a_model_that_does_not_fit_with_exit_status_2(tmp_path):
    text = (EXAMPLES / "serving_deepseek_v3.toml").read_text().replace('gpu = "H200-SXM"', 'gpu = "H100-SXM"')
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", str(bad), "--out", str(out)])
    assert r.exit_code == ExitCode.BAD_INPUT
    assert "does not fit 8× H100-SXM" in r.output and "GiB" in r.output
    assert not out.exists()
