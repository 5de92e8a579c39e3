"""Request traces for the serving simulator: the Azure LLM inference traces 2023 and synthetic arrivals.

A :class:`Trace` is columns of equal length: arrival time [s from the first request], prompt and
output tokens, and optionally a shared-prefix group (requests of one group start with the same
``prefix_tokens``: a system prompt, a document, earlier turns of a conversation) and a priority
class. The Azure traces (``azure-conv``, ``azure-code``; Patel et al., "Splitwise", ISCA 2024,
CC-BY 4.0, bundled in ``aidc/workload/data``) record no content, so prefix sharing is added
explicitly with :meth:`Trace.with_shared_prefix`.

Synthetic traces: Poisson arrivals, or Gamma inter-arrival times with a chosen coefficient of
variation (CV > 1 is burstier than Poisson; the Splitwise and BurstGPT traces show CV of 1–3 at
second scale), with prompt and output lengths resampled from a trace or drawn from a log-normal.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from numpy.typing import NDArray

BUNDLED = {"azure-conv": "conv.csv", "azure-code": "code.csv"}
AZURE_COLUMNS = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
AIDC_COLUMNS = ("arrival_s", "prompt_tokens", "output_tokens")


class TraceError(ValueError):
    """A trace that cannot be simulated; the message names the file, column, row and value."""


@dataclass(frozen=True)
class Trace:
    name: str
    arrival_s: NDArray[np.float64]
    prompt_tokens: NDArray[np.int64]
    output_tokens: NDArray[np.int64]
    prefix_group: NDArray[np.int64]  # −1: no shared prefix
    prefix_tokens: NDArray[np.int64]  # leading prompt tokens shared with the group
    priority: NDArray[np.int64]  # class index, 0 = highest

    def __post_init__(self) -> None:
        n = len(self.arrival_s)
        for col in ("prompt_tokens", "output_tokens", "prefix_group", "prefix_tokens", "priority"):
            if len(getattr(self, col)) != n:
                raise TraceError(
                    f"{self.name}: column {col} has {len(getattr(self, col))} rows, arrival_s {n}"
                )
        back = np.flatnonzero(np.diff(self.arrival_s) < 0)
        if back.size:
            i = int(back[0]) + 1
            raise TraceError(
                f"{self.name}: timestamps must be sorted; row {i} arrives at {self.arrival_s[i]:.6f} s, "
                f"before row {i - 1} at {self.arrival_s[i - 1]:.6f} s (seconds from the first row)"
            )
        _check(self.name, "arrival_s", self.arrival_s, low=0.0)
        _check(self.name, "prompt_tokens", self.prompt_tokens, low=1)
        _check(self.name, "output_tokens", self.output_tokens, low=1)
        _check(self.name, "prefix_tokens", self.prefix_tokens, low=0)
        _check(self.name, "priority", self.priority, low=0)
        over = np.flatnonzero(self.prefix_tokens > self.prompt_tokens)
        if over.size:
            i = int(over[0])
            raise TraceError(
                f"{self.name}: row {i}: prefix_tokens {self.prefix_tokens[i]} exceeds prompt_tokens "
                f"{self.prompt_tokens[i]}"
            )

    def __len__(self) -> int:
        return len(self.arrival_s)

    @property
    def duration_s(self) -> float:
        return float(self.arrival_s[-1]) if len(self) else 0.0

    @property
    def rate_per_s(self) -> float:
        return len(self) / self.duration_s if self.duration_s > 0 else float("nan")

    def compressed(self, factor: float) -> Trace:
        """The same requests arriving ``factor`` times faster (``factor`` > 1 raises the rate)."""
        if not factor > 0:
            raise TraceError(f"time compression factor must be > 0, got {factor}")
        return replace(self, name=f"{self.name}×{factor:g}", arrival_s=self.arrival_s / factor)

    def at_rate(self, rate_per_s: float) -> Trace:
        """Time-compressed (or stretched) to a mean arrival rate of ``rate_per_s`` requests/s."""
        if not rate_per_s > 0:
            raise TraceError(f"rate must be > 0 requests/s, got {rate_per_s}")
        return self.compressed(rate_per_s / self.rate_per_s)

    def head(self, n: int) -> Trace:
        return self._take(slice(0, n))

    def window(self, start_s: float, duration_s: float) -> Trace:
        """Requests arriving in [start, start + duration), re-based to start at 0."""
        lo, hi = np.searchsorted(self.arrival_s, [start_s, start_s + duration_s])
        out = self._take(slice(lo, hi))
        return replace(out, arrival_s=out.arrival_s - start_s)

    def _take(self, idx) -> Trace:
        return Trace(
            self.name,
            self.arrival_s[idx],
            self.prompt_tokens[idx],
            self.output_tokens[idx],
            self.prefix_group[idx],
            self.prefix_tokens[idx],
            self.priority[idx],
        )

    def with_shared_prefix(self, *, groups: int, tokens: int, share: float, seed: int = 0) -> Trace:
        """A ``share`` of requests, chosen at random, start with one of ``groups`` shared prefixes of
        ``tokens`` tokens (capped at their prompt length minus one, so one token is always new)."""
        if groups < 1 or tokens < 1 or not 0.0 <= share <= 1.0:
            raise TraceError(
                f"need groups >= 1, tokens >= 1, 0 <= share <= 1; got {groups}, {tokens}, {share}"
            )
        rng = np.random.default_rng(seed)
        chosen = rng.random(len(self)) < share
        group = np.where(chosen, rng.integers(0, groups, len(self)), -1)
        prefix = np.where(chosen, np.minimum(tokens, self.prompt_tokens - 1), 0)
        return replace(self, prefix_group=group.astype(np.int64), prefix_tokens=prefix.astype(np.int64))

    def with_priorities(self, shares: list[float], seed: int = 0) -> Trace:
        """Priority classes 0, 1, … drawn with the given shares (they must sum to 1)."""
        p = np.asarray(shares, dtype=float)
        if p.ndim != 1 or (p < 0).any() or not np.isclose(p.sum(), 1.0):
            raise TraceError(f"priority shares must be non-negative and sum to 1, got {shares}")
        rng = np.random.default_rng(seed)
        return replace(self, priority=rng.choice(len(p), size=len(self), p=p).astype(np.int64))


def _check(name: str, col: str, values: np.ndarray, *, low: float) -> None:
    if values.size == 0:
        return
    bad = (
        np.flatnonzero(~np.isfinite(values) | (values < low))
        if values.dtype.kind == "f"
        else np.flatnonzero(values < low)
    )
    if bad.size:
        i = int(bad[0])
        raise TraceError(f"{name}: row {i}: {col} = {values[i]} is not allowed (must be >= {low})")


def make_trace(
    name: str,
    arrival_s,
    prompt_tokens,
    output_tokens,
    *,
    prefix_group=None,
    prefix_tokens=None,
    priority=None,
) -> Trace:
    n = len(arrival_s)
    zeros = np.zeros(n, dtype=np.int64)
    return Trace(
        name,
        np.asarray(arrival_s, dtype=np.float64),
        np.asarray(prompt_tokens, dtype=np.int64),
        np.asarray(output_tokens, dtype=np.int64),
        np.full(n, -1, dtype=np.int64) if prefix_group is None else np.asarray(prefix_group, dtype=np.int64),
        zeros if prefix_tokens is None else np.asarray(prefix_tokens, dtype=np.int64),
        zeros.copy() if priority is None else np.asarray(priority, dtype=np.int64),
    )


def load_trace(source: str | Path) -> Trace:
    """A bundled trace by name (``azure-conv``, ``azure-code``) or a CSV file.

    A CSV has either the Azure columns (``TIMESTAMP`` as a date-time, ``ContextTokens``,
    ``GeneratedTokens``) or aidc's (``arrival_s``, ``prompt_tokens``, ``output_tokens``); extra
    columns are ignored. Missing columns, negative or zero token counts and decreasing timestamps
    raise :class:`TraceError` naming the file, the column and the first bad row.
    """
    key = str(source)
    if key in BUNDLED:
        path = resources.files("aidc.workload") / "data" / "azure_llm_2023" / BUNDLED[key]
        name = key
    else:
        path = Path(source)
        name = path.name
        if not path.is_file():
            raise TraceError(f"trace {key!r} is neither a bundled trace ({', '.join(BUNDLED)}) nor a file")
    try:
        with path.open("rb") as fh:
            table = pacsv.read_csv(fh)
    except (pa.ArrowInvalid, UnicodeDecodeError) as e:
        raise TraceError(f"{name}: not a readable CSV file ({e})") from None
    cols = set(table.column_names)
    if set(AZURE_COLUMNS) <= cols:
        ts = table.column("TIMESTAMP")
        if not pa.types.is_timestamp(ts.type):
            raise TraceError(f"{name}: column TIMESTAMP must hold date-times, got {ts.type}")
        t = ts.cast(pa.timestamp("ns")).to_numpy().astype("int64")
        arrival = (t - t[0]) / 1e9 if len(t) else np.zeros(0)
        prompt, output = table.column("ContextTokens"), table.column("GeneratedTokens")
        names = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
    elif set(AIDC_COLUMNS) <= cols:
        arrival = table.column("arrival_s").to_numpy().astype(np.float64)
        prompt, output = table.column("prompt_tokens"), table.column("output_tokens")
        names = AIDC_COLUMNS
    else:
        raise TraceError(
            f"{name}: missing columns; need {', '.join(AZURE_COLUMNS)} (Azure) or {', '.join(AIDC_COLUMNS)}, "
            f"found {', '.join(table.column_names) or 'none'}"
        )
    for col, arr in zip(names[1:], (prompt, output), strict=True):
        if arr.null_count or not pa.types.is_integer(arr.type):
            raise TraceError(f"{name}: column {col} must be whole token counts without gaps, got {arr.type}")
    try:
        return make_trace(name, arrival, prompt.to_numpy(), output.to_numpy())
    except TraceError as e:  # name the file's own columns
        msg = str(e)
        for ours, theirs in zip(AIDC_COLUMNS, names, strict=True):
            msg = msg.replace(ours, theirs)
        raise TraceError(msg) from None


@dataclass(frozen=True)
class LengthDist:
    """Token lengths: resampled from a trace column (``source``) or log-normal (median, sigma)."""

    source: NDArray[np.int64] | None = None
    median: float = 0.0
    sigma: float = 0.0
    max_tokens: int = 131_072

    def sample(self, n: int, rng: np.random.Generator) -> NDArray[np.int64]:
        if self.source is not None:
            return rng.choice(self.source, size=n)
        if not self.median >= 1 or self.sigma < 0:
            raise TraceError(
                f"log-normal lengths need median >= 1 and sigma >= 0, got {self.median}, {self.sigma}"
            )
        x = np.exp(rng.normal(np.log(self.median), self.sigma, n))
        return np.clip(np.round(x), 1, self.max_tokens).astype(np.int64)


def synthetic_trace(
    n: int,
    rate_per_s: float,
    prompt: LengthDist,
    output: LengthDist,
    *,
    arrival: str = "poisson",
    cv: float = 1.0,
    seed: int = 0,
) -> Trace:
    """``n`` requests with Poisson or Gamma(CV) inter-arrival times at a mean ``rate_per_s``."""
    if n < 1 or not rate_per_s > 0:
        raise TraceError(f"need n >= 1 requests and rate > 0 requests/s, got {n}, {rate_per_s}")
    rng = np.random.default_rng(seed)
    if arrival == "poisson":
        gaps = rng.exponential(1.0 / rate_per_s, n)
    elif arrival == "gamma":
        if not cv > 0:
            raise TraceError(f"gamma arrivals need cv > 0, got {cv}")
        shape = 1.0 / cv**2
        gaps = rng.gamma(shape, 1.0 / (rate_per_s * shape), n)
    else:
        raise TraceError(f"arrival must be 'poisson' or 'gamma', got {arrival!r}")
    arrivals = np.cumsum(gaps) - gaps[0]
    return make_trace(f"{arrival}-{rate_per_s:g}/s", arrivals, prompt.sample(n, rng), output.sample(n, rng))
