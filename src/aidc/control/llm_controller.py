"""An LLM as a cooling controller: the same interface as the baselines and IQL, behind the same shield,
with an audit record per decision and its rationale scored for faithfulness.

Each control step :class:`LLMController` builds the prompt (:mod:`aidc.control.llm_prompt`: the
task, demonstrations by nearest state from an offline-RL log, its own last steps and what they did,
the state now), asks its backend (:mod:`aidc.control.llm_backends`) for one letter per setpoint
and maps the letters to the setpoints' allowed moves. When the backend fails (an endpoint slow,
down or answering garbage), the fallback controller (rule-based) acts and the record says why.
The environment's shield then judges the action like any other; the record takes its verdict
after the step (``outcome``), with the step's cooling power and hottest GPU, which also feed the
next prompt.

**Faithfulness** (:func:`rationale_faithful`): a rationale is faithful when it names the setpoint
that moved most (in shares of its rate limit) and the direction it moved (or, when nothing moved,
says it held), and says what drove it: the GPU temperatures or the outdoor conditions. A keyword
judgement, stated as such: it checks that the words agree with the action, not that the reasoning
is sound.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import numpy as np

from aidc.control.controllers import RuleBasedReset
from aidc.control.llm_backends import Answer, EndpointError, Question
from aidc.control.llm_prompt import (
    LABELS,
    LETTERS,
    MOVES,
    Demonstrations,
    RecentSteps,
    Step,
    build_prompt,
    chosen_text,
    describe_state,
)
from aidc.control.shield import OVERRIDES
from aidc.control.spaces import ActionSpec, CoolingObservation, defaults

# Words that name a setpoint, a direction or a cause in a rationale (lower case, whole words).
SETPOINT_WORDS = {
    "supply_air_temp_c": ("air", "supply air"),
    "chw_supply_temp_c": ("chilled", "chw"),
    "economizer_lockout_wetbulb_c": ("economizer", "lockout"),
    "facility_supply_temp_c": ("water", "supply", "facility"),
    "flow_frac": ("flow", "pump", "pumps"),
}
UP_WORDS = ("raise", "raising", "increase", "increasing", "warmer", "higher", "up", "more")
DOWN_WORDS = (
    "lower",
    "lowering",
    "decrease",
    "decreasing",
    "reduce",
    "reducing",
    "colder",
    "cooler",
    "down",
    "less",
)
HOLD_WORDS = ("hold", "keep", "maintain", "unchanged", "same", "stay")
CAUSE_WORDS = (
    "gpu",
    "gpus",
    "temperature",
    "hot",
    "hottest",
    "outdoor",
    "weather",
    "wet-bulb",
    "energy",
    "margin",
)


PROMPT_MARGIN_K = 10.0
"""The margin below slowdown the prompt asks for: a design choice, twice the shield's 5 K fallback
margin (``SafetyShield.gpu_margin_k``), so that a model following it never meets the shield."""


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z][a-z-]*", text.lower()))


def rationale_faithful(rationale: str, moves: np.ndarray, specs: tuple[ActionSpec, ...]) -> bool | None:
    """Whether ``rationale`` agrees with the action (``moves``: each setpoint's move in shares of its
    rate limit, :data:`~aidc.control.llm_prompt.MOVES`); None when there is no rationale."""
    if not rationale.strip():
        return None
    words = _words(rationale)
    if not words & set(CAUSE_WORDS):
        return False
    if np.all(moves == 0.0):
        return bool(words & set(HOLD_WORDS))
    i = int(np.argmax(np.abs(moves)))
    names = {w for phrase in SETPOINT_WORDS.get(specs[i].name, (specs[i].name,)) for w in phrase.split()}
    direction = UP_WORDS if moves[i] > 0 else DOWN_WORDS
    contrary = DOWN_WORDS if moves[i] > 0 else UP_WORDS
    return bool(words & names) and bool(words & set(direction)) and not (words & set(contrary))


class LLMController:
    """The LLM controller (see the module's docstring). ``backend``: a :class:`LocalModel` or an
    :class:`Endpoint`; ``demonstrations``: nearest-state examples from an offline log, or None;
    ``rationale_every``: ask for a rationale every N decisions (1: always)."""

    def __init__(self, specs: tuple[ActionSpec, ...], backend, *, control_step_s: float = 300.0,
                 margin_k: float = PROMPT_MARGIN_K, demonstrations: Demonstrations | None = None,
                 recent: int = 2, rationale_every: int = 1):  # fmt: skip
        self.specs, self.backend, self.control_step_s, self.margin_k = (
            specs,
            backend,
            control_step_s,
            margin_k,
        )
        self.demonstrations, self.rationale_every = demonstrations, rationale_every
        self.recent = RecentSteps(recent)
        self.fallback = RuleBasedReset(specs)
        self.current: np.ndarray | None = None  # the plant's setpoints, set by the caller before act()
        self.audit: list[dict[str, Any]] = []
        self._pending: tuple[str, np.ndarray] | None = None

    def reset(self) -> None:
        self.current, self._pending = None, None
        self.recent.clear()
        self.fallback.reset()

    def act(self, obs: CoolingObservation) -> np.ndarray:
        current = self.current if self.current is not None else defaults(self.specs)
        demos = self.demonstrations.nearest(obs, current) if self.demonstrations else []
        system, user, questions = build_prompt(obs, current, self.specs, control_step_s=self.control_step_s,
                                               margin_k=self.margin_k, demonstrations=demos,
                                               recent=list(self.recent.steps))  # fmt: skip
        asked = [
            Question(s.name, LABELS.get(s.name, s.name), line)
            for s, (line, _) in zip(self.specs, questions, strict=True)
        ]
        t0 = time.perf_counter()
        try:
            answer = self.backend.answer(system, user, asked, len(self.audit) % self.rationale_every == 0)
            idx = [LETTERS.index(c) for c in answer.letters]
            action = np.array([grid[k] for (_, grid), k in zip(questions, idx, strict=True)])
            moves, verdict = np.array([MOVES[k] for k in idx]), "answered"
        except EndpointError as e:
            answer, verdict = Answer([], "", model=getattr(self.backend, "model", "")), f"fallback ({e})"
            action, moves = self.fallback.act(obs), None
        prompt = f"{system}\n\n{user}\n\n" + "\n".join(q.line for q in asked)
        state = describe_state(obs, current, self.specs)
        self._record(prompt, state, answer, action, moves, verdict, time.perf_counter() - t0)
        self._pending = (state, action)
        return action

    def _record(self, prompt: str, state: str, answer: Answer, action, moves, verdict: str, latency_s: float):
        self.audit.append(
            {
                "decision": len(self.audit),
                "prompt": prompt,
                "prompt_sha256": hashlib.sha256(prompt.encode()).hexdigest(),
                "state": state,  # the state the decision read, as the prompt put it
                "model": answer.model,
                "model_sha256": answer.model_sha256,
                "sampling": answer.sampling,
                "raw": answer.raw,
                "letters": "".join(answer.letters),
                "action": [float(v) for v in action],
                "rationale": answer.rationale,
                "acted": verdict,  # "answered" (the model) or "fallback (why)"
                "shield": None,  # set by outcome() after the step
                "faithful": None
                if moves is None
                else rationale_faithful(answer.rationale, moves, self.specs),
                "tokens_in": answer.tokens_in,
                "tokens_out": answer.tokens_out,
                "latency_s": latency_s,
            }
        )

    def outcome(self, info: dict[str, Any], obs: CoolingObservation) -> None:
        """After the environment's step: the shield's verdict on the last decision, and the step's
        outcome into the buffer the next prompt shows."""
        if not self.audit or self._pending is None:
            return
        shield = tuple(info.get("shield", ()))
        record = self.audit[-1]
        record["shield"] = "fallback" if any(i in OVERRIDES for i in shield) else ",".join(shield) or "pass"
        state, action = self._pending
        cooling_kw = float(info["cooling_kwh"]) * 3600.0 / self.control_step_s
        self.recent.add(Step(state, chosen_text(action, self.specs), cooling_kw, obs.gpu_temp_max_c))
        self._pending = None


def audit_summary(audit: list[dict[str, Any]]) -> dict[str, float]:
    """Valid-action rate (finite setpoints from the allowed moves, or the fallback's), the share the
    model answered itself, fallbacks, shield overrides, faithful share, latency percentiles."""
    n = len(audit)
    if not n:
        return {}
    latency = np.array([r["latency_s"] for r in audit])
    judged = [r["faithful"] for r in audit if r["faithful"] is not None]
    return {
        "decisions": n,
        "valid_action_rate": sum(bool(np.all(np.isfinite(r["action"]))) for r in audit) / n,
        "answered_share": sum(r["acted"] == "answered" for r in audit) / n,
        "fallbacks": sum(r["acted"] != "answered" for r in audit),
        "shield_overrides": sum(r["shield"] == "fallback" for r in audit),
        "faithful_share": sum(judged) / len(judged) if judged else float("nan"),
        "rationales": len(judged),
        "latency_p50_s": float(np.percentile(latency, 50)),
        "latency_p99_s": float(np.percentile(latency, 99)),
    }
