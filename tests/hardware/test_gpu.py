import numpy as np
import pytest

from aidc.hardware import governor
from aidc.hardware import gpu as g
from aidc.hardware.catalog import GPU_CATALOG, get_gpu

H100 = get_gpu("H100-SXM")


def test_h100_idle_power_matches_nvidia_smi():
    # nvidia-smi -q on H100 80GB HBM3: 71–75 W at 345 MHz near 35 °C.
    p = g.gpu_power(0.0, H100.clock_idle_mhz, 35.0, H100)
    assert 71.0 <= float(p) <= 75.0


def test_voltage_curve_end_points_and_floor():
    v = g.voltage_linear_vf([100.0, 345.0, 1980.0], 345.0, 1980.0, 0.675, 1.0)
    np.testing.assert_allclose(v, [0.675, 0.675, 1.0])


def test_leakage_doubles_every_doubling_temperature():
    a = g.leakage_power_exponential(50.0, 1.0, H100)
    b = g.leakage_power_exponential(50.0 + H100.leakage_doubling_c, 1.0, H100)
    assert float(b / a) == pytest.approx(2.0)
    assert float(g.leakage_power_exponential(H100.leakage_ref_temp_c, 1.0, H100)) == pytest.approx(
        H100.leakage_ref_w
    )


@pytest.mark.parametrize("name", list(GPU_CATALOG))
def test_governor_meets_the_cap_when_it_binds(name):
    spec = GPU_CATALOG[name]
    temps = np.linspace(30.0, 85.0, 12)
    cap = np.full_like(temps, spec.tdp_w * 0.8)
    ceiling = g.boost_clock_limit(temps, spec)
    f = governor.power_limit_governor(cap, 1.0, temps, ceiling, spec)
    p = g.gpu_power(1.0, f, temps, spec)
    binding = f < ceiling
    reachable = g.gpu_power(1.0, spec.clock_min_mhz, temps, spec) <= cap
    assert (binding & reachable).any()
    np.testing.assert_allclose(p[binding & reachable], cap[binding & reachable], atol=1e-6)
    assert np.all(p[~binding] <= cap[~binding] + 1e-9)
    # Where even the minimum clock overdraws the cap, the governor floors there.
    np.testing.assert_array_equal(f[~reachable], spec.clock_min_mhz)


@pytest.mark.parametrize("name", list(GPU_CATALOG))
def test_governor_warm_start_reaches_the_cold_start_root(name):
    """From any start (below, above or at the root, or at idle) the warm-started solve lands on
    the same clock as the cold start from the ceiling."""
    spec = GPU_CATALOG[name]
    rng = np.random.default_rng(0)
    temps = rng.uniform(30.0, 85.0, 256)
    activity = rng.uniform(0.0, 1.0, 256)
    cap = rng.uniform(0.5, 1.0, 256) * spec.tdp_w
    ceiling = g.boost_clock_limit(temps, spec)
    cold = governor.power_limit_governor(cap, activity, temps, ceiling, spec)
    for start in (cold * rng.uniform(0.5, 1.5, 256), np.full(256, spec.clock_idle_mhz), cold):
        warm = governor.power_limit_governor(cap, activity, temps, ceiling, spec, initial_mhz=start)
        np.testing.assert_allclose(warm, cold, atol=1e-5)


def test_governor_keeps_the_ceiling_when_power_is_below_cap():
    f = governor.power_limit_governor(700.0, 0.2, 40.0, 1967.0, H100)
    assert float(f) == pytest.approx(1967.0)


def test_governor_floors_at_minimum_clock_for_impossible_cap():
    f = governor.power_limit_governor(10.0, 1.0, 80.0, 1980.0, H100)
    assert float(f) == H100.clock_min_mhz


def test_boost_sheds_clock_above_start_temperature():
    assert float(g.boost_clock_limit(H100.boost_temp_start_c, H100)) == H100.clock_max_mhz
    shed = H100.clock_max_mhz - float(g.boost_clock_limit(H100.boost_temp_start_c + 10.0, H100))
    assert shed == pytest.approx(10.0 * H100.boost_mhz_per_c)


def test_hardware_slowdown_halves_clock_at_threshold():
    f = g.hardware_slowdown_factor([H100.slowdown_temp_c - 0.1, H100.slowdown_temp_c], H100)
    np.testing.assert_allclose(f, [1.0, 0.5])


def test_thermal_rc_hand_values():
    # One time constant: 63.2 % of the way to T_ss = 25 + 500·0.04 = 45 °C.
    r, c = 0.04, 500.0
    t = g.junction_temperature_rc(25.0, 25.0, 500.0, r, c, dt_s=r * c)
    assert float(t.end_c) == pytest.approx(45.0 - 20.0 * np.exp(-1.0))
    # mean over one time constant: 45 − 20·(1 − e^−1)
    assert float(t.mean_c) == pytest.approx(45.0 - 20.0 * (1.0 - np.exp(-1.0)))
    assert float(g.junction_temperature_rc(25.0, 25.0, 500.0, r, c, dt_s=1e6).end_c) == pytest.approx(45.0)


def test_leakage_feedback_raises_the_steady_state_and_its_energy_is_step_independent():
    r, c, g_w_k = 0.04, 500.0, 5.0  # leakage rising 5 W/K: T_ss = 25 + 500·R/(1 − g·R) = 50 °C
    assert float(g.junction_temperature_rc(25.0, 25.0, 500.0, r, c, 1e6, g_w_k).end_c) == pytest.approx(50.0)
    # 60 s in one step or in 60 steps of 1 s (power re-linearized each step, as the hall does):
    # the same end temperature and energy
    one = g.junction_temperature_rc(25.0, 25.0, 500.0, r, c, 60.0, g_w_k)
    t, energy = 25.0, 0.0
    for _ in range(60):
        p = 500.0 + g_w_k * (t - 25.0)
        step = g.junction_temperature_rc(t, 25.0, p, r, c, 1.0, g_w_k)
        energy += p + g_w_k * (float(step.mean_c) - t)
        t = float(step.end_c)
    assert t == pytest.approx(float(one.end_c), rel=1e-9)
    assert energy == pytest.approx(60.0 * (500.0 + g_w_k * (float(one.mean_c) - 25.0)), rel=1e-9)
    leak = g.leakage_power_exponential(60.0, H100.voltage_max_v, H100)
    assert float(g.leakage_slope_w_k(leak, H100)) == pytest.approx(H100.leakage_ref_w * np.log(2.0) / 10.0)


def test_fan_affinity_and_heatsink_resistance():
    assert float(g.fan_power_affinity(400.0, 0.5)) == pytest.approx(50.0)
    assert float(g.heatsink_resistance_airflow(0.02, 0.03, 1.0)) == pytest.approx(0.05)
    assert float(g.heatsink_resistance_airflow(0.02, 0.03, 0.5)) == pytest.approx(0.02 + 0.03 * 2**0.8)


def test_server_fan_curve_edges():
    s = g.server_fan_speed([30.0, 65.0, 100.0], 45.0, 85.0, 0.3)
    np.testing.assert_allclose(s, [0.3, 0.65, 1.0])


def test_catalog_dense_throughput_is_half_of_datasheet_sparse():
    # H100 SXM datasheet: BF16 1,979 TFLOPS and FP8 3,958 TFLOPS with sparsity.
    assert H100.peak_tflops("bf16") == pytest.approx(1979 / 2, rel=1e-3)
    assert H100.peak_tflops("fp8") == pytest.approx(3958 / 2, rel=1e-3)
    with pytest.raises(ValueError, match="fp4"):
        H100.peak_tflops("fp4")
