"""PyTorch reference of the efficiency techniques (MLA, DeepSeekMoE, FP8, MTP) and their accounting.

``aidc.model.config``, ``presets`` and ``accounting`` need no torch, and are what this package
exports; the modules (``aidc.model.transformer.Transformer`` and friends) import torch.
"""

from aidc.model.config import ModelConfig, RopeScaling
from aidc.model.presets import PRESETS, get_preset

__all__ = ["PRESETS", "ModelConfig", "RopeScaling", "get_preset"]
