"""Shared pieces of the model-core experiments: the corpus, the training loop and the outputs.

Corpus: the Python standard library's own ``.py`` files (real text on every machine that runs
aidc), read as bytes (vocabulary 256). Files are sorted by path relative to the stdlib root; every
10th file is validation, the rest training — a fixed split that does not depend on the seed. The
stdlib differs slightly between Python versions, so each result records the version and the byte
counts it saw.
"""

from __future__ import annotations

import json
import math
import platform
import sys
import sysconfig
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from aidc.model.config import ModelConfig
from aidc.model.moe import MoE, max_violation
from aidc.model.transformer import Transformer

RESULTS = Path(__file__).parent / "results"
VOCAB = 256  # byte-level tokens
EXCLUDED_DIRS = {"site-packages", "test", "tests", "idlelib", "lib2to3", "__pycache__"}


@dataclass
class Corpus:
    train: torch.Tensor  # uint8 bytes as int64 tokens
    val: torch.Tensor
    files_train: int
    files_val: int


def stdlib_corpus(max_train_bytes: int = 8_000_000, max_val_bytes: int = 1_000_000) -> Corpus:
    root = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(
        p for p in root.rglob("*.py") if not EXCLUDED_DIRS.intersection(p.relative_to(root).parts[:-1])
    )
    train, val = bytearray(), bytearray()
    n_train = n_val = 0
    for i, p in enumerate(files):
        data = p.read_bytes()
        if i % 10 == 0:
            if len(val) < max_val_bytes:
                val += data
                n_val += 1
        elif len(train) < max_train_bytes:
            train += data
            n_train += 1

    def as_tokens(b: bytearray) -> torch.Tensor:
        return torch.from_numpy(np.frombuffer(bytes(b), dtype=np.uint8).copy()).long()

    return Corpus(as_tokens(train[:max_train_bytes]), as_tokens(val[:max_val_bytes]), n_train, n_val)


def batch(data: torch.Tensor, batch_size: int, seq_len: int, gen: torch.Generator) -> torch.Tensor:
    """``batch_size`` random windows of ``seq_len + 1`` tokens."""
    starts = torch.randint(0, data.numel() - seq_len - 1, (batch_size,), generator=gen)
    return torch.stack([data[s : s + seq_len + 1] for s in starts.tolist()])


def val_batches(data: torch.Tensor, n: int, batch_size: int, seq_len: int) -> list[torch.Tensor]:
    """The same ``n`` validation batches for every run (seed 1234)."""
    gen = torch.Generator().manual_seed(1234)
    return [batch(data, batch_size, seq_len, gen) for _ in range(n)]


@dataclass
class TrainSettings:
    steps: int = 1200
    batch_size: int = 16
    seq_len: int = 128
    lr: float = 3e-3
    warmup: int = 50
    weight_decay: float = 0.1
    eval_every: int = 200
    eval_batches: int = 16
    seed: int = 0
    autocast_bf16: bool = False


@dataclass
class TrainResult:
    name: str
    params: int
    train_loss: list[float] = field(default_factory=list)  # per step
    val_loss: list[tuple[int, float]] = field(default_factory=list)
    max_vio: list[float] = field(default_factory=list)  # per step, mean over MoE layers
    wall_s: float = 0.0
    model: Transformer | None = None  # the trained model, for measurements after training

    @property
    def final_val(self) -> float:
        return self.val_loss[-1][1]


@torch.no_grad()
def evaluate(model: Transformer, batches: list[torch.Tensor], autocast_bf16: bool) -> float:
    model.eval()
    losses = []
    for b in batches:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast_bf16):
            losses.append(float(model.loss(b).lm))
    model.train()
    return sum(losses) / len(losses)


def train(name: str, cfg: ModelConfig, corpus: Corpus, s: TrainSettings) -> TrainResult:
    """AdamW with linear warm-up and cosine decay; FP32 master weights whatever the compute precision."""
    torch.manual_seed(s.seed)
    model = Transformer(cfg)
    for moe in model.moe_layers():
        moe.gate.generator = torch.Generator().manual_seed(s.seed)
    opt = torch.optim.AdamW(model.parameters(), lr=s.lr, betas=(0.9, 0.95), weight_decay=s.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt,
        lambda k: min(1.0, (k + 1) / s.warmup) * 0.5 * (1 + math.cos(math.pi * min(k / s.steps, 1.0))),
    )
    gen = torch.Generator().manual_seed(s.seed)
    vals = val_batches(corpus.val, s.eval_batches, s.batch_size, s.seq_len)
    main_params = sum(p.numel() for n, p in model.named_parameters() if not n.startswith("mtp."))
    result = TrainResult(name, main_params)
    t0 = time.perf_counter()
    model.train()
    for step in range(s.steps):
        tokens = batch(corpus.train, s.batch_size, s.seq_len, gen)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=s.autocast_bf16):
            loss = model.loss(tokens)
        opt.zero_grad(set_to_none=True)
        loss.total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        main_moes = [layer.ffn for layer in model.layers if isinstance(layer.ffn, MoE)]
        if main_moes:
            result.max_vio.append(sum(max_violation(m.last_load) for m in main_moes) / len(main_moes))
            for m in model.moe_layers():
                m.update_bias()  # no-op when bias_update_speed == 0
        result.train_loss.append(float(loss.lm.detach()))
        if (step + 1) % s.eval_every == 0 or step + 1 == s.steps:
            result.val_loss.append((step + 1, evaluate(model, vals, s.autocast_bf16)))
            print(
                f"  {name:>10} step {step + 1:>5}  train {float(loss.lm.detach()):.4f}  "
                f"val {result.val_loss[-1][1]:.4f}  ({time.perf_counter() - t0:.0f} s)",
                flush=True,
            )
    result.wall_s = time.perf_counter() - t0
    result.model = model
    return result


def environment() -> dict:
    return {
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
        "torch_threads": torch.get_num_threads(),
    }


def write_json(name: str, payload: dict) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2))
    return path


def smooth(xs: list[float], k: int = 25) -> list[float]:
    out, acc = [], 0.0
    for i, x in enumerate(xs):
        acc += x
        if i >= k:
            acc -= xs[i - k]
        out.append(acc / min(i + 1, k))
    return out


def two_panels(title: str):
    """A headless matplotlib figure with two side-by-side axes; save it with :func:`save`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    fig.suptitle(title)
    return fig, axes


def save(fig, out: Path) -> None:
    fig.tight_layout()
    fig.savefig(out, dpi=120)
