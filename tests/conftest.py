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


# A GPU that is not the catalog's: the device calibration must find these (tests/hardware/
# test_calibration.py, tests/telemetry/test_traces.py, the aidc calibrate CLI tests).
TRUE_SPLIT = {
    "static_power_w": 46.0,
    "leakage_ref_w": 250.0,
    "leakage_doubling_c": 12.5,
    "dynamic_max_w": 510.0,
}
TRUE_PATH = (0.041, 780.0)  # junction-to-coolant resistance [K/W], heat capacity [J/K]


def synthetic_gpu_trace(seconds: int = 7200, seed: int = 3):
    """The twin's H100 with :data:`TRUE_SPLIT` and :data:`TRUE_PATH` under GPU Boost and a 700 W
    cap, as NVML would report it: 1 s samples, whole-degree temperatures, whole-MHz clocks, the
    mean power of each interval (an energy counter) with 2.5 W of noise (nvidia-smi(1) gives
    ±5 W for the power reading). The protocol a real calibration follows: 5-minute periods at
    activities 0–1 (idle among them) and the coolant stepped 25 → 35 → 45 °C every 40 minutes, so
    that idle and load each meet several temperatures. Returns (DeviceTrace, true DeviceRun)."""
    import dataclasses

    import numpy as np

    from aidc.hardware.calibration import DeviceTrace, ThermalPath, simulate_device
    from aidc.hardware.catalog import get_gpu

    spec = dataclasses.replace(get_gpu("H100-SXM"), **TRUE_SPLIT)
    t = np.arange(seconds + 1, dtype=np.float64)
    levels = np.array([0.0, 0.9, 0.3, 1.0, 0.0, 0.6, 0.8, 0.0, 0.45])
    activity = levels[(t // 300).astype(int) % len(levels)]
    sink = np.array([25.0, 35.0, 45.0])[(t // 2400).astype(int) % 3]
    true = simulate_device(spec, ThermalPath(*TRUE_PATH), t, activity, sink, 30.0, power_cap_w=700.0)
    rng = np.random.default_rng(seed)
    measured = DeviceTrace(
        t,
        np.round(true.temp_c + rng.normal(0.0, 0.1, t.size)),
        true.power_w + rng.normal(0.0, 2.5, t.size - 1),
        np.round(true.clock_mhz),
        activity,
        sink,
    )
    return measured, true
