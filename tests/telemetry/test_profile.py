"""Where the joules go: the parts of a window add up to the facility's energy, an idle GPU has no
dynamic power, a hotter GPU leaks more; a stored run profiles to its summary."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from aidc.api import run_scenario, simulate
from aidc.cli import ExitCode, app
from aidc.scenario import validate_scenario
from aidc.telemetry.profile import HALL_PARTS, EnergyMonitor, profile_run
from aidc.units import J_PER_KWH
from conftest import example_dict


def _windows(d: dict, split_s: float) -> tuple[EnergyMonitor, dict]:
    """Windows "all", "before" and "after" ``split_s``, opened and closed between steps."""
    monitor, done = EnergyMonitor(), {}
    monitor.begin_window("all")
    monitor.begin_window("before")

    def on_step(rec):
        if rec.t_s >= split_s and "before" not in done:
            done["before"] = monitor.end_window("before")
            monitor.begin_window("after")
        monitor.observe(rec)

    summary = simulate(validate_scenario(d), on_step=on_step)
    done |= {"all": monitor.end_window("all"), "after": monitor.end_window("after")}
    return done, summary


def test_the_parts_add_up_to_the_facility_and_an_idle_gpu_has_no_dynamic_power(small_scenario):
    small_scenario["halls"][0]["jobs"][0]["start_s"] = 150.0  # idle first
    windows, summary = _windows(small_scenario, 150.0)
    for w in windows.values():
        assert w.closure < 1e-12
    assert windows["all"].facility_j / J_PER_KWH == pytest.approx(summary["energy_kwh"]["facility"], rel=1e-9)
    assert windows["before"].seconds + windows["after"].seconds == windows["all"].seconds
    before, after = windows["before"].by_part(), windows["after"].by_part()
    gpu_before = before["gpu_static"] + before["gpu_leakage"] + before["gpu_dynamic"]
    assert abs(before["gpu_dynamic"]) < 1e-9 * gpu_before and before["gpu_leakage"] > 0.0
    assert after["gpu_dynamic"] > 5 * after["gpu_static"]
    assert set(before) == set(HALL_PARTS) | {"distribution_loss", "other_loads"}


def test_a_hotter_gpu_leaks_a_larger_share():
    """Cooling Matters: the air node's GPUs run ~20 K hotter than the liquid node's."""
    share = {}
    for kind in ("liquid", "air"):
        d = example_dict(f"cooling_matters_{kind}.toml")
        d["duration_s"], d["warmup_s"] = 900.0, 0.0
        windows, _ = _windows(d, 600.0)
        p = windows["after"].by_part()
        share[kind] = p["gpu_leakage"] / (p["gpu_static"] + p["gpu_leakage"] + p["gpu_dynamic"])
    assert share["air"] > share["liquid"] + 0.05


def test_windows_are_opened_and_closed_by_name():
    m = EnergyMonitor()
    m.begin_window("a")
    with pytest.raises(ValueError, match="already open"):
        m.begin_window("a")
    with pytest.raises(ValueError, match="no open window 'b'; open: a"):
        m.end_window("b")
    assert m.end_window("a").closure == 0.0


def test_a_stored_run_profiles_to_its_summary(small_scenario, tmp_path):
    run = run_scenario(validate_scenario(small_scenario), tmp_path / "run")
    w = profile_run(str(run.path))
    assert w.closure < 1e-9
    assert sum(w.energy_j.values()) / J_PER_KWH == pytest.approx(
        run.summary["energy_kwh"]["facility"], rel=1e-3
    )
    result = CliRunner().invoke(app, ["profile", str(run.path)])
    assert result.exit_code == 0 and "gpu_leakage" in result.output and "add up" in result.output
    bad = CliRunner().invoke(app, ["profile", str(tmp_path)])
    assert bad.exit_code == ExitCode.BAD_INPUT


def test_each_jobs_gpu_energy_adds_up_to_the_halls():
    """A training job and a burn-in beside reserved idle GPUs (the demo hall's jobs, on 32 GPUs)."""
    d = example_dict("cooling_matters_liquid.toml")
    d["duration_s"], d["warmup_s"] = 300.0, 0.0
    d["halls"][0] |= {"racks_per_row": 4}  # 32 GPUs
    d["halls"][0]["jobs"] = [
        {"type": "training", "name": "train", "gpus": 16},
        {"type": "burn", "name": "burn", "gpus": 8, "precision": "fp8", "activity_frac": 1.0},
    ]
    scenario = validate_scenario(d)
    monitor = EnergyMonitor.for_scenario(scenario)
    monitor.begin_window("w")
    simulate(scenario, on_step=monitor.observe)
    w = monitor.end_window("w")
    for part in ("gpu_static", "gpu_leakage", "gpu_dynamic"):
        by_job = sum(j for k, j in w.jobs_j.items() if k.endswith(part))
        assert by_job == pytest.approx(w.energy_j[f"lab/{part}"], rel=1e-9), part
    per_gpu = {
        job: w.jobs_j[f"lab/{job}/gpu_dynamic"] / n
        for job, n in (("train", 16), ("burn", 8), ("(no job)", 8))
    }
    assert per_gpu["burn"] > per_gpu["train"] > 0.0 and per_gpu["(no job)"] == pytest.approx(0.0, abs=1e-6)
    static = {job: w.jobs_j[f"lab/{job}/gpu_static"] for job in ("train", "burn", "(no job)")}
    assert static["train"] == pytest.approx(2 * static["burn"]) and static["burn"] == pytest.approx(
        static["(no job)"]
    )
