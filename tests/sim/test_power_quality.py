"""A training job's power resolved in time: the same energy as the twin books, the spectrum of
known signals, the power floor, the ramp limit and the battery, and the command."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from aidc.cli import ExitCode, app
from aidc.facility.storage import BatterySpec
from aidc.hardware.catalog import get_gpu
from aidc.scenario import TrainingJob, validate_scenario
from aidc.sim.build import build_simulation
from aidc.sim.power_quality import (
    PhasePower,
    band_oscillation,
    battery_smoothed,
    phase_power,
    phase_waveform,
    ramp_limited,
    training_power_quality,
)
from conftest import EXAMPLES, example_dict

H100 = get_gpu("H100-SXM")
PHASE = PhasePower(
    compute_w=700.0, comm_w=300.0, compute_mhz=1900.0, comm_mhz=1980.0, compute_s=0.75, comm_s=0.25
)


def test_the_waveform_carries_the_phases_mean_power_whatever_the_sampling():
    for hz in (7.0, 100.0, 1000.0):  # a sample may straddle a phase edge: it takes its share
        w = phase_waveform(PHASE, 10.0, hz)
        assert w.mean() == pytest.approx(PHASE.mean_w, rel=1e-9)
        assert w.min() == pytest.approx(300.0) and w.max() == pytest.approx(700.0)


def test_the_phases_carry_the_energy_the_twin_books_for_the_same_step():
    # the twin solves one clock for the step's mean activity; here each phase has its own
    sim = build_simulation(validate_scenario(example_dict("demand_response_256.toml")))
    result = training_power_quality(sim, 0, 0, seconds=30.0)
    assert result["phase"].mean_w == pytest.approx(result["twin_gpu_w"], rel=0.02)


def test_each_phase_runs_at_the_clock_the_power_limit_gives_its_activity():
    job = TrainingJob(name="t", compute_activity_frac=0.95, comm_activity_frac=0.2)
    p = phase_power(job, H100, 700.0, 60.0)
    assert p.compute_w == pytest.approx(700.0, abs=1.0)  # held at the cap
    assert p.comm_w < p.compute_w and p.comm_mhz >= p.compute_mhz
    assert p.compute_s == pytest.approx(job.compute_s_at_max_clock * H100.clock_max_mhz / p.compute_mhz)


def test_a_power_floor_lifts_the_troughs_and_costs_their_energy():
    w = phase_waveform(PHASE, 10.0, 100.0, floor_w=500.0)
    assert w.min() == pytest.approx(500.0)
    assert w.mean() - PHASE.mean_w == pytest.approx(200.0 * 0.25, rel=1e-9)  # 200 W for a quarter


def test_the_spectrum_finds_a_sine_and_knows_the_band():
    fs, t = 100.0, np.arange(0, 100.0, 0.01)
    one_hz = band_oscillation(1e3 + 50e3 * np.sin(2 * np.pi * 1.0 * t), fs)
    assert one_hz["strongest_hz"] == pytest.approx(1.0)
    assert one_hz["strongest_amplitude_kw"] == pytest.approx(50.0, rel=1e-6)
    assert one_hz["band_energy_frac"] == pytest.approx(1.0, abs=1e-9)
    assert one_hz["band_peak_to_peak_kw"] == pytest.approx(100.0, rel=1e-6)
    slow = band_oscillation(1e3 + 50e3 * np.sin(2 * np.pi * 0.05 * t), fs)  # below 0.1 Hz
    assert slow["band_energy_frac"] < 1e-6


def test_a_ramp_limit_holds_every_step_to_its_rate():
    w = phase_waveform(PHASE, 5.0, 1000.0)
    limited = ramp_limited(w, 1000.0, 2000.0, 1000.0)
    steps = np.diff(limited) * 1000.0
    assert steps.max() <= 2000.0 + 1e-6 and steps.min() >= -1000.0 - 1e-6
    assert limited.mean() > w.mean()  # falls held back burn power


def test_a_battery_at_the_meter_smooths_the_load_and_keeps_the_balance():
    load = 1e5 + 256 * phase_waveform(PHASE, 60.0, 100.0)
    spec = BatterySpec.for_chemistry("li_ion_lfp", 5.0, 150.0, 150.0)
    grid, battery, stored_j = battery_smoothed(load, 100.0, spec, window_s=5.0)
    np.testing.assert_allclose(grid + battery, load)
    assert np.ptp(grid) < 0.2 * np.ptp(load)
    assert abs(battery).max() <= 150e3 + 1e-6
    losses_j = -battery.sum() / 100.0 - stored_j  # what went in at the bus, less what it kept
    assert 0.0 <= losses_j < 0.2 * np.abs(battery).sum() / 100.0


def test_the_command_tables_the_cases_and_refuses_a_scenario_without_training(tmp_path):
    runner = CliRunner()
    page = tmp_path / "pq.html"
    args = ["power-quality", str(EXAMPLES / "demand_response_256.toml"), "--seconds", "30"]
    ok = runner.invoke(app, [*args, "--battery-kw", "150", "--battery-kwh", "5", "--out", str(page)])
    assert ok.exit_code == 0, ok.output
    assert "power floor" in ok.output and "battery" in ok.output and page.is_file()
    none = runner.invoke(app, ["power-quality", str(EXAMPLES / "serving_deepseek_v3.toml")])
    assert none.exit_code == ExitCode.BAD_INPUT and "no training job" in none.output
    half = runner.invoke(app, [*args, "--battery-kw", "150"])
    assert half.exit_code == ExitCode.BAD_INPUT
