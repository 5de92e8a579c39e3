"""Telemetry in: what a real host can tell about its own power, heat and pressure.

Each source says whether it can read here (:meth:`probe`: None, or why not, e.g. no NVIDIA driver,
no RAPL interface, no permission) and reads a flat dict of values whose names carry their units.
Energy comes from the hardware's energy counters, not from sampled power integrated over time: a
10 ms power sample stretched over a 15 s interval is ~60× off (CodeCarbon issue #117).

* :class:`NVMLSource`: NVIDIA GPUs through NVML (``nvidia-ml-py``): temperature, power, SM clock,
  the total energy counter and the clock-throttle reasons;
* :class:`RAPLSource`: Intel/AMD RAPL energy counters in the Linux powercap tree, each domain's
  counter unwrapped at its ``max_energy_range_uj``;
* :class:`PSISource`: Linux pressure stall information (``/proc/pressure``): the share of time
  tasks waited for CPU, memory or I/O;
* :class:`PsutilSource`: CPU utilization and memory in use (``psutil``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import psutil

try:  # the NVIDIA bindings import without a driver; NVML's init is what fails then
    import pynvml
except ImportError:  # pragma: no cover - a declared dependency
    pynvml = None


class Source(Protocol):
    name: str

    def probe(self) -> str | None: ...  # None when it can read here, else why not

    def read(self) -> dict[str, float]: ...


class PSISource:
    """Linux pressure stall information: ``some`` (at least one task waiting) over 10 s [%] and its
    total [s] for CPU, memory and I/O."""

    name = "psi"

    def __init__(self, root: str | Path = "/proc/pressure"):
        self.root = Path(root)

    def probe(self) -> str | None:
        if not (self.root / "cpu").is_file():
            return f"no pressure stall information at {self.root} (Linux ≥ 4.20 with PSI enabled)"
        return None

    def read(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for resource in ("cpu", "memory", "io"):
            path = self.root / resource
            if not path.is_file():
                continue
            for line in path.read_text().splitlines():
                kind, *fields = line.split()
                values = dict(f.split("=", 1) for f in fields)
                out[f"{resource}_{kind}_avg10_pct"] = float(values["avg10"])
                out[f"{resource}_{kind}_total_s"] = float(values["total"]) / 1e6  # µs
        return out


class RAPLSource:
    """RAPL energy counters of the powercap tree, one per domain (package, core, uncore, dram) [J],
    unwrapped: a counter that falls has wrapped at its ``max_energy_range_uj``."""

    name = "rapl"

    def __init__(self, root: str | Path = "/sys/class/powercap"):
        self.root = Path(root)
        self._last: dict[str, int] = {}
        self._total_j: dict[str, float] = {}

    def _domains(self) -> list[Path]:
        return sorted(p for p in self.root.glob("intel-rapl:*") if (p / "energy_uj").exists())

    def probe(self) -> str | None:
        domains = self._domains()
        if not domains:
            return f"no RAPL domains under {self.root} (not an Intel or AMD host, or no powercap)"
        try:
            (domains[0] / "energy_uj").read_text()
        except PermissionError:
            return f"no permission to read {domains[0] / 'energy_uj'} (root only since Linux 5.10)"
        return None

    def read(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for domain in self._domains():
            label = f"{(domain / 'name').read_text().strip()}_{domain.name.split(':', 1)[1]}"
            raw = int((domain / "energy_uj").read_text())
            span = int((domain / "max_energy_range_uj").read_text())
            last = self._last.get(label)
            if last is not None:
                step = raw - last if raw >= last else raw + span - last
                self._total_j[label] = self._total_j.get(label, 0.0) + step / 1e6
            self._last[label] = raw
            out[f"{label.replace(':', '_').replace('-', '_')}_energy_j"] = self._total_j.get(label, 0.0)
        return out


class NVMLSource:
    """Every NVIDIA GPU of the host through NVML: temperature [°C], power [W], SM clock [MHz],
    energy since the driver loaded [J], utilization (the share of the last sample period a kernel
    ran [0–1]) and the clock-throttle reasons (NVML's bit mask)."""

    name = "nvml"

    def __init__(self) -> None:
        self._ready = False

    def probe(self) -> str | None:
        if pynvml is None:
            return "nvidia-ml-py is not installed"
        try:
            pynvml.nvmlInit()
        except pynvml.NVMLError as e:
            return f"no NVIDIA driver or GPU: {e}"
        self._ready = True
        return None

    def read(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for i in range(pynvml.nvmlDeviceGetCount()):
            h = pynvml.nvmlDeviceGetHandleByIndex(i)
            out[f"gpu{i}_temp_c"] = float(pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU))
            out[f"gpu{i}_power_w"] = pynvml.nvmlDeviceGetPowerUsage(h) / 1e3  # mW
            out[f"gpu{i}_sm_clock_mhz"] = float(pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM))
            out[f"gpu{i}_energy_j"] = pynvml.nvmlDeviceGetTotalEnergyConsumption(h) / 1e3  # mJ
            out[f"gpu{i}_util_frac"] = pynvml.nvmlDeviceGetUtilizationRates(h).gpu / 100.0  # %
            out[f"gpu{i}_throttle_reasons"] = float(pynvml.nvmlDeviceGetCurrentClocksThrottleReasons(h))
        return out


class PsutilSource:
    """CPU utilization since the last read [%] and memory in use [GB] (psutil)."""

    name = "psutil"

    def probe(self) -> str | None:
        psutil.cpu_percent(interval=None)  # the first call starts the interval
        return None

    def read(self) -> dict[str, float]:
        memory = psutil.virtual_memory()
        return {"cpu_pct": psutil.cpu_percent(interval=None), "memory_used_gb": memory.used / 1e9}


def host_sources() -> list[Source]:
    """Every source aidc knows, in the order they are listed."""
    return [NVMLSource(), RAPLSource(), PSISource(), PsutilSource()]
