from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "aidc" / "examples"


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
