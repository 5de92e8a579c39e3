import pytest

from aidc.api import run_scenario
from aidc.hardware.catalog import get_gpu
from aidc.scenario import validate_scenario


def test_the_busy_clock_leaves_idle_gpus_out(tmp_path, example):
    """256 H100s, 192 training and 64 waiting for a burn-in that starts later: the mean over all
    GPUs counts those 64 at the idle clock, the busy mean does not."""
    d = example("demo_hall.toml")
    d["duration_s"], d["warmup_s"], d["telemetry"] = 60.0, 0.0, {"sample_s": 30.0}
    d["halls"][0]["rows"], d["halls"][0]["jobs"][0]["gpus"] = 1, 192  # 1 × 8 racks × 4 nodes × 8
    halls = run_scenario(validate_scenario(d), tmp_path / "r").table("halls").to_pylist()
    idle_mhz = get_gpu("H100-SXM").clock_idle_mhz
    for row in halls:
        assert row["clock_busy_mean_mhz"] > row["clock_mean_mhz"]
        busy = (256 * row["clock_mean_mhz"] - 64 * idle_mhz) / 192  # hand-worked from the two means
        assert row["clock_busy_mean_mhz"] == pytest.approx(busy, rel=1e-9)
