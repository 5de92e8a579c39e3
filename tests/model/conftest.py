import pytest
import torch

from aidc.model import Transformer, get_preset


@pytest.fixture
def tiny_v3():
    """A DeepSeek-V3-shaped tiny model in FP32 eval mode with a partly negative routing bias."""
    torch.manual_seed(0)
    cfg = get_preset("tiny-mla-moe")
    model = Transformer(cfg).eval()
    bias = torch.linspace(-0.05, 0.04, cfg.n_routed_experts)
    for moe in model.moe_layers():
        moe.gate.bias.copy_(bias[torch.randperm(cfg.n_routed_experts)])
    return model
