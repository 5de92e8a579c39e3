from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "aidc" / "examples"

# The scenario fuzz (tests/fuzz/, `make fuzz`): AIDC_FUZZ=1 or --hypothesis-profile=fuzz runs each of
# its three properties 3,400 times (over 10,000 cases); a case still running after 30 s has hung
# (they take tens of ms, a full weather file about a second).
settings.register_profile(
    "fuzz",
    max_examples=3_400,
    deadline=30_000,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
if os.environ.get("AIDC_FUZZ", "") not in ("", "0"):
    settings.load_profile("fuzz")


def pytest_configure(config: pytest.Config) -> None:
    """PyTorch's thread count for the whole suite: ``AIDC_TORCH_THREADS`` (default 1). The suite's
    networks are small; at PyTorch's default (one thread per core) each op's threads wait for a core
    whenever the machine has other work (issue 12: ``make test`` 150 s on a busy 2-core machine
    against 43 s on an idle one)."""
    import torch

    torch.set_num_threads(int(os.environ.get("AIDC_TORCH_THREADS", "1")))


def example_dict(name: str) -> dict:
    return tomllib.loads((EXAMPLES / name).read_text())


@pytest.fixture
def example():
    """Load a bundled example scenario as a dict: ``example("demo_hall.toml")``."""
    return example_dict


@pytest.fixture
def small_scenario() -> dict:
    """A 2-node liquid hall for 5 minutes: cheap enough for every test that needs a run."""
    d = example_dict("cooling_matters_liquid.toml")
    d["duration_s"] = 300
    d["warmup_s"] = 0
    d["halls"][0]["racks_per_row"] = 2
    return d


@pytest.fixture
def tiny_v3():
    """A DeepSeek-V3-shaped tiny model in FP32 eval mode with a partly negative routing bias."""
    import torch

    from aidc.model import get_preset
    from aidc.model.transformer import Transformer

    torch.manual_seed(0)
    cfg = get_preset("tiny-mla-moe")
    model = Transformer(cfg).eval()
    bias = torch.linspace(-0.05, 0.04, cfg.n_routed_experts)
    for moe in model.moe_layers():
        moe.gate.bias.copy_(bias[torch.randperm(cfg.n_routed_experts)])
    return model
