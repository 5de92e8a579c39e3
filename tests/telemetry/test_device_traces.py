"""A GPU's trace from a recording: the energy counter gives each interval's mean power, a run folder
of `aidc record` pivots into one, and bad files say the file, the column, the value and the rule."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from aidc.telemetry.store import RunStore
from aidc.telemetry.traces import TraceError, read_device_trace


def _csv(path, header: str, rows: list[str]):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_the_energy_counter_gives_each_intervals_mean_power(tmp_path):
    p = _csv(
        tmp_path / "t.csv",
        "t_s,temp_c,clock_mhz,activity,energy_j",
        ["0,40,1980,1,1000", "2,41,1980,1,2200", "3,42,1965,0.5,2800"],
    )
    trace = read_device_trace(p, sink_c=25.0)
    np.testing.assert_allclose(trace.power_w, [600.0, 600.0])
    np.testing.assert_allclose(trace.sink_c, 25.0)


def test_without_a_counter_the_power_is_the_mean_of_the_intervals_ends(tmp_path):
    p = _csv(
        tmp_path / "t.csv",
        "t_s,temp_c,clock_mhz,activity,power_w,sink_c",
        ["0,40,1980,1,500,25", "1,41,1980,1,700,25", "2,42,1980,1,,25", "3,42,1980,1,300,26"],
    )
    trace = read_device_trace(p)  # the sample with no power is left out
    np.testing.assert_allclose(trace.t_s, [0.0, 1.0, 3.0])
    np.testing.assert_allclose(trace.power_w, [600.0, 500.0])
    np.testing.assert_allclose(trace.sink_c, [25.0, 25.0, 26.0])


@pytest.mark.parametrize(
    ("header", "rows", "message"),
    [
        ("t_s,temp_c,clock_mhz,energy_j", ["0,40,1980,0"] * 3, "missing column.*activity"),
        ("t_s,temp_c,clock_mhz,activity", ["0,40,1980,1"] * 3, "energy_j or power_w"),
        (
            "t_s,temp_c,clock_mhz,activity,energy_j",
            ["0,40,1980,1,0", "1,40,1980,1.5,9", "2,40,1980,1,20"],
            r"activity = 1.5 0–1 at sample 1: must be within 0–1",
        ),
        (
            "t_s,temp_c,clock_mhz,activity,energy_j",
            ["0,40,1980,1,0", "1,40,1980,1,9", "1,40,1980,1,20"],
            "t_s = 1 s at sample 2: times must increase",
        ),
        (
            "t_s,temp_c,clock_mhz,activity,energy_j",
            ["0,40,1980,1,50", "1,40,1980,1,9", "2,40,1980,1,20"],
            "energy_j = -41 J at sample 0: the counter must not fall",
        ),
        ("t_s,temp_c,clock_mhz,activity,energy_j", ["0,hot,1980,1,0"] * 3, r"temp_c \[°C\] must be numbers"),
    ],
)
def test_a_bad_trace_says_the_file_the_column_and_the_rule(tmp_path, header, rows, message):
    p = _csv(tmp_path / "bad.csv", header, rows)
    with pytest.raises(TraceError, match=message) as e:
        read_device_trace(p, sink_c=25.0)
    assert str(p) in str(e.value)


def test_no_sink_temperature_is_an_error(tmp_path):
    p = _csv(
        tmp_path / "t.csv",
        "t_s,temp_c,clock_mhz,activity,energy_j",
        ["0,40,1980,1,0", "1,40,1980,1,9", "2,40,1980,1,20"],
    )
    with pytest.raises(TraceError, match="--sink-c"):
        read_device_trace(p)
    with pytest.raises(TraceError, match="no such run folder or CSV"):
        read_device_trace(tmp_path / "nothing.csv", sink_c=25.0)


def test_a_recording_pivots_into_the_gpus_trace(tmp_path):
    """The rows `aidc record` writes (one per metric and reading) for GPU 1 of two."""
    with RunStore(tmp_path / "rec", {"kind": "recording"}) as store:
        for k in range(4):
            for i in (0, 1):
                values = {
                    "temp_c": 40.0 + k + i,
                    "sm_clock_mhz": 1980.0,
                    "util_frac": 1.0,
                    "energy_j": 500.0 * k * (i + 1),
                    "power_w": 999.0,
                }
                for name, v in values.items():
                    store.append(
                        "host", {"t_s": 2.0 * k, "source": "nvml", "metric": f"gpu{i}_{name}", "value": v}
                    )
            store.append("host", {"t_s": 2.0 * k, "source": "psutil", "metric": "cpu_pct", "value": 3.0})
        store.finish({})
    trace = read_device_trace(tmp_path / "rec", gpu_index=1, sink_c=30.0)
    np.testing.assert_allclose(trace.temp_c, [41.0, 42.0, 43.0, 44.0])
    np.testing.assert_allclose(trace.power_w, 500.0)  # 1000 J per 2 s, from the counter
    with pytest.raises(TraceError, match="no gpu2_temp_c"):
        read_device_trace(tmp_path / "rec", gpu_index=2, sink_c=30.0)


def _fake_nvml() -> SimpleNamespace:
    """The part of pynvml's interface NVMLSource calls, for one GPU whose readings step on each
    read: what a driver would answer (milliwatts, millijoules, percent)."""
    k = [0]

    def handle(i):
        k[0] += 1  # one reading of every metric per source read
        return i

    return SimpleNamespace(
        NVML_TEMPERATURE_GPU=0,
        NVML_CLOCK_SM=1,
        NVMLError=Exception,
        nvmlInit=lambda: None,
        nvmlDeviceGetCount=lambda: 1,
        nvmlDeviceGetHandleByIndex=handle,
        nvmlDeviceGetTemperature=lambda h, sensor: 40 + k[0],
        nvmlDeviceGetPowerUsage=lambda h: 500_000,
        nvmlDeviceGetClockInfo=lambda h, clock: 1980,
        nvmlDeviceGetTotalEnergyConsumption=lambda h: 1_000_000 * k[0],
        nvmlDeviceGetUtilizationRates=lambda h: SimpleNamespace(gpu=75, memory=30),
        nvmlDeviceGetCurrentClocksThrottleReasons=lambda h: 0,
    )


def test_what_nvml_records_is_what_calibration_reads(tmp_path, monkeypatch):
    """NVMLSource's metric names and units, through aidc record's run folder, into a GPU trace."""
    from aidc.api import record_host
    from aidc.telemetry import sources

    monkeypatch.setattr(sources, "pynvml", _fake_nvml())
    run = record_host(tmp_path / "rec", 0.25, 0.05, sources=[sources.NVMLSource()])
    trace = read_device_trace(run.path, sink_c=30.0)
    n = len(trace.t_s)
    assert n >= 4
    np.testing.assert_allclose(trace.temp_c, 41.0 + np.arange(n))
    np.testing.assert_allclose(trace.activity, 0.75)  # percent → share
    np.testing.assert_allclose(trace.clock_mhz, 1980.0)
    np.testing.assert_allclose(
        trace.power_w, 1000.0 / np.diff(trace.t_s)
    )  # 1 kJ per reading, from the counter
