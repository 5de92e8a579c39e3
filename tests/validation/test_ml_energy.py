"""ML.ENERGY Benchmark v3: Llama-3.1-8B in BF16 on one H100 SXM, vLLM, chat traffic.

Published (ML.ENERGY Leaderboard v3.0, December 2025; the issue's figures): about 0.455 J per
output token at batch 8 with the GPU near 486 W, and about 0.077 J per output token at batch 256
near 691 W. The twin reproduces both within ±25 % under these engine-level assumptions:

* vLLM-like engine: continuous batching with ``max_num_seqs`` = the batch size, chunked prefill
  with an 8,192-token budget, BF16 weights and cache, 90 % of HBM for the engine, no swap space;
  the benchmark keeps the batch full, so every request is queued at the start;
* achievable fractions of peak and the per-step overhead of :mod:`aidc.workload.steptime` (the
  HBM activity of the power model was calibrated on the batch-8 power, so that figure is a
  consistency check; the batch-256 power, both throughputs and both energies are predictions);
* traffic: outputs log-normal with the mean 717 tokens ML.ENERGY v3 reports for its Text
  Conversation task; prompts log-normal with mean 500 tokens. The prompt length of that task is
  not published (that we found): 500 sits between LMSYS-Chat-1M's single-turn prompts (~70
  tokens, Zheng et al. 2023) and the Azure conversation trace's 1,155. The batch-256 result
  stays within ±25 % for mean prompts from ~300 to ~900 tokens (−38 % at 100; at 1,155 the
  cache overflows and preemption dominates); the batch-8 result for all of them;
* the GPU: one H100 SXM in the air-cooled node of the Cooling Matters calibration (25 °C inlet),
  energy measured after a 200 s warm-up, board power only (what ML.ENERGY's Zeus reads).
"""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from aidc.api import simulate
from aidc.scenario import validate_scenario
from conftest import EXAMPLES

PUBLISHED = {8: (0.455, 486.0), 256: (0.077, 691.0)}  # J per output token, GPU W


def chat_trace(path, n: int, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    sigma = 0.8

    def lognormal(mean: float) -> np.ndarray:
        x = np.exp(rng.normal(np.log(mean) - sigma**2 / 2, sigma, n))
        return np.clip(np.round(x), 1, 8192).astype(int)

    prompt, output = lognormal(500.0), lognormal(717.0)
    rows = "".join(f"0,{p},{o}\n" for p, o in zip(prompt, output, strict=True))
    path.write_text("arrival_s,prompt_tokens,output_tokens\n" + rows)
    return str(path)


@pytest.mark.slow
@pytest.mark.parametrize("batch", [8, 256])
def test_llama_8b_energy_per_token_on_h100_matches_ml_energy(tmp_path, batch):
    d = tomllib.loads((EXAMPLES / "cooling_matters_air.toml").read_text())
    d["duration_s"], d["warmup_s"] = 500, 200
    d["halls"][0]["node"].update(gpus_per_node=1, gpu_rows_in_airflow=1)
    d["halls"][0]["jobs"] = [
        {
            "type": "serving",
            "name": "llama-3.1-8b",
            "model": "llama-3.1-8b",
            "trace": chat_trace(tmp_path / "chat.csv", {8: 1000, 256: 9000}[batch]),
            "max_num_seqs": batch,
            "swap_tier": None,
        }
    ]
    summary = simulate(validate_scenario(d))
    serving, hall = summary["serving"][0], summary["halls"][0]
    j_per_token, watts = PUBLISHED[batch]
    # the GPU stayed busy through the measured window (the queue never ran dry)
    assert serving["requests_finished"] < {8: 1000, 256: 9000}[batch]
    assert serving["j_per_output_token_gpu"] == pytest.approx(j_per_token, rel=0.25)
    # ±10 % on board power: the published figures are "about" values, and the batch-8 one is the
    # calibration point of the HBM activity, so a model off by more than that has drifted
    assert hall["gpu_power_mean_w"] == pytest.approx(watts, rel=0.10)
