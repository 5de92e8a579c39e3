"""PyTorch reference of the efficiency techniques (MLA, DeepSeekMoE, FP8, MTP) and their accounting.

``aidc.model.config``, ``presets`` and ``accounting`` need no torch; the modules
(``Transformer`` and friends) import it on first use.
"""

from aidc.model.config import ModelConfig, RopeScaling
from aidc.model.presets import PRESETS, get_preset

__all__ = ["PRESETS", "ModelConfig", "RopeScaling", "Transformer", "get_preset"]


def __getattr__(name: str):
    if name == "Transformer":
        from aidc.model.transformer import Transformer

        return Transformer
    raise AttributeError(f"module 'aidc.model' has no attribute {name!r}")
