"""GPU catalog: datasheet values and the device-physics parameters of each model.

Every entry is data (STYLE.md §4). Datasheet figures carry their source in ``sources``; the
physics parameters that no datasheet publishes (voltage at maximum clock, the split of power
into static, leakage and dynamic parts) are named assumptions, documented per field, and for
the H100 calibrated against published measurements (see ``aidc.hardware.gpu`` and
``tests/validation/test_cooling_matters.py``).

Peak throughputs are *dense* (no 2:4 sparsity): NVIDIA's datasheets print the sparse figure
with an asterisk; the dense one is half of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

Precision = Literal["fp64", "fp32", "tf32", "bf16", "fp8", "fp4"]
PRECISIONS: tuple[Precision, ...] = ("fp64", "fp32", "tf32", "bf16", "fp8", "fp4")


@dataclass(frozen=True)
class GPUSpec:
    """One GPU model: datasheet values plus the parameters of its power and clock model.

    Power decomposition used by :mod:`aidc.hardware.gpu` (all at the maximum clock and its
    voltage ``voltage_max_v``)::

        P = static_power_w                                   # HBM refresh, I/O, fixed losses
          + leakage_ref_w · (V/V_max) · 2^((T_j − leakage_ref_temp_c)/leakage_doubling_c)
          + activity · dynamic_max_w · (V/V_max)² · (f/f_max)
    """

    name: str
    vendor: str
    tdp_w: float
    """Board power at the default power limit [W]."""
    power_cap_min_w: float
    power_cap_max_w: float
    idle_power_w: float | None
    """Measured board power when idle at ``clock_idle_mhz`` near 35 °C [W] (validation target),
    ``None`` where no measurement is published."""
    clock_min_mhz: float
    clock_idle_mhz: float
    clock_max_mhz: float
    hbm_gb: float
    hbm_bandwidth_tb_s: float
    peak_dense_tflops: MappingProxyType[str, float]
    """Peak dense throughput per precision [TFLOPS]; tensor-core figures where they exist."""
    max_operating_temp_c: float
    slowdown_temp_c: float
    shutdown_temp_c: float
    # Device-physics parameters (assumptions or calibrations, see the module docstring).
    voltage_idle_v: float
    """Core voltage at ``clock_idle_mhz`` [V]."""
    voltage_max_v: float
    """Core voltage at ``clock_max_mhz`` [V]."""
    static_power_w: float
    leakage_ref_w: float
    leakage_ref_temp_c: float
    leakage_doubling_c: float
    dynamic_max_w: float
    boost_temp_start_c: float
    """Junction temperature above which GPU Boost starts to shed clock [°C]."""
    boost_mhz_per_c: float
    """Clock given up per kelvin above ``boost_temp_start_c`` [MHz/K]."""
    sources: MappingProxyType[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def peak_tflops(self, precision: str) -> float:
        """Peak dense throughput at ``precision`` [TFLOPS]; ``ValueError`` if unsupported."""
        try:
            return self.peak_dense_tflops[precision]
        except KeyError:
            supported = ", ".join(self.peak_dense_tflops)
            raise ValueError(f"{self.name} has no {precision!r} throughput; supported: {supported}") from None


def _ro(d: dict[str, float] | dict[str, str]) -> MappingProxyType:
    return MappingProxyType(dict(d))


# Hopper's power split, shared by H100 SXM and H200 SXM (same die, same 700 W envelope).
# Calibrated, not published. Three conditions fix static, leakage and dynamic power for a chosen
# doubling temperature: the measured 73 W idle at 345 MHz and ~35 °C; ~555 W at full boost near
# 45 °C (the liquid node of arXiv 2507.16781); the 700 W cap binding at ~12 % lower clock near
# 63 °C (its air node). With only temperature differing between the two nodes, the study's figures
# imply leakage of about half the board power at 63 °C; a 10 °C doubling (the classic CMOS rule of
# thumb) is the mildest coefficient that keeps static power positive (14 °C would need ~0 W static).
# See tests/validation/test_cooling_matters.py.
_HOPPER_PHYSICS = dict(
    voltage_idle_v=0.675,
    voltage_max_v=1.00,
    static_power_w=40.0,
    leakage_ref_w=280.0,
    leakage_ref_temp_c=60.0,
    leakage_doubling_c=10.0,
    dynamic_max_w=470.0,
    boost_temp_start_c=40.0,
    boost_mhz_per_c=2.6,
)

_HOPPER_PHYSICS_SOURCES = {
    "voltage_idle_v": "nvidia-smi -q on Hopper (H800) at 345 MHz idle: 675 mV (NVIDIA/DCGM issue #120)",
    "voltage_max_v": "assumption: 1.0 V at the top of the V–f curve (not published by NVIDIA)",
    "static/leakage/dynamic split": (
        "calibrated: idle 71–75 W at 345 MHz and ~35 °C (nvidia-smi -q logs of H100 80GB HBM3); "
        "liquid vs air node power and throughput of arXiv 2507.16781"
    ),
    "boost_mhz_per_c": (
        "GPU Boost sheds one ~13 MHz clock bin per ~5 °C above ~40 °C (observed behaviour of "
        "GPU Boost 3.0+ reported in reviews; NVIDIA publishes no table)"
    ),
}

GPU_CATALOG: MappingProxyType[str, GPUSpec] = MappingProxyType(
    {
        "H100-SXM": GPUSpec(
            name="H100-SXM",
            vendor="NVIDIA",
            tdp_w=700.0,
            power_cap_min_w=200.0,
            power_cap_max_w=700.0,
            idle_power_w=73.0,
            clock_min_mhz=210.0,
            clock_idle_mhz=345.0,
            clock_max_mhz=1980.0,
            hbm_gb=80.0,
            hbm_bandwidth_tb_s=3.35,
            peak_dense_tflops=_ro({"fp64": 67.0, "fp32": 67.0, "tf32": 494.5, "bf16": 989.5, "fp8": 1979.0}),
            max_operating_temp_c=87.0,
            slowdown_temp_c=89.0,
            shutdown_temp_c=92.0,
            **_HOPPER_PHYSICS,
            sources=_ro(
                {
                    "datasheet": "NVIDIA H100 Tensor Core GPU datasheet (SXM5): 700 W, 80 GB, "
                    "3.35 TB/s; FP64 TC 67, TF32 989*, BF16 1979*, FP8 3958* TFLOPS (*sparse)",
                    "limits": "nvidia-smi -q, NVIDIA H100 80GB HBM3: power limit 200–700 W, "
                    "shutdown 92 °C, slowdown 89 °C, max operating 87 °C, idle 71–75 W at 345 MHz",
                    "clocks": "nvidia-smi -q: max graphics clock 1980 MHz; NVML lowest supported "
                    "graphics clock 210 MHz",
                    **_HOPPER_PHYSICS_SOURCES,
                }
            ),
        ),
        "H200-SXM": GPUSpec(
            name="H200-SXM",
            vendor="NVIDIA",
            tdp_w=700.0,
            power_cap_min_w=200.0,
            power_cap_max_w=700.0,
            idle_power_w=None,
            clock_min_mhz=210.0,
            clock_idle_mhz=345.0,
            clock_max_mhz=1980.0,
            hbm_gb=141.0,
            hbm_bandwidth_tb_s=4.8,
            peak_dense_tflops=_ro({"fp64": 67.0, "fp32": 67.0, "tf32": 494.5, "bf16": 989.5, "fp8": 1979.0}),
            max_operating_temp_c=87.0,
            slowdown_temp_c=89.0,
            shutdown_temp_c=92.0,
            **_HOPPER_PHYSICS,
            sources=_ro(
                {
                    "datasheet": "NVIDIA H200 Tensor Core GPU datasheet (SXM): up to 700 W, "
                    "141 GB HBM3e, 4.8 TB/s; compute as H100 SXM",
                    "limits": "assumed equal to H100 SXM (same GH100 die and package class)",
                    **_HOPPER_PHYSICS_SOURCES,
                }
            ),
        ),
        "B200": GPUSpec(
            name="B200",
            vendor="NVIDIA",
            tdp_w=1000.0,
            power_cap_min_w=200.0,
            power_cap_max_w=1000.0,
            idle_power_w=None,
            clock_min_mhz=210.0,
            clock_idle_mhz=345.0,
            clock_max_mhz=1965.0,
            hbm_gb=180.0,
            hbm_bandwidth_tb_s=8.0,
            peak_dense_tflops=_ro(
                {
                    "fp64": 37.0,
                    "fp32": 75.0,
                    "tf32": 1125.0,
                    "bf16": 2250.0,
                    "fp8": 4500.0,
                    "fp4": 9000.0,
                }
            ),
            max_operating_temp_c=87.0,
            slowdown_temp_c=89.0,
            shutdown_temp_c=92.0,
            voltage_idle_v=0.675,
            voltage_max_v=1.00,
            static_power_w=57.0,
            leakage_ref_w=400.0,
            leakage_ref_temp_c=60.0,
            leakage_doubling_c=10.0,
            dynamic_max_w=670.0,
            boost_temp_start_c=40.0,
            boost_mhz_per_c=2.6,
            sources=_ro(
                {
                    "datasheet": "NVIDIA HGX B200 datasheet, 8-GPU totals divided by 8: 1,440 GB "
                    "and 64 TB/s; FP4 144 PF*, FP8 72 PF*, BF16 36 PF*, TF32 18 PF*, FP64 296 TF, "
                    "FP32 600 TF (*sparse); 1000 W per GPU",
                    "clocks": "assumption: 1965 MHz maximum graphics clock as reported for B200",
                    "limits": "assumption: Hopper's thermal thresholds (none published for B200)",
                    "physics": "assumption: Hopper's split scaled to the 1000 W envelope",
                }
            ),
        ),
        "MI300X": GPUSpec(
            name="MI300X",
            vendor="AMD",
            tdp_w=750.0,
            power_cap_min_w=300.0,
            power_cap_max_w=750.0,
            idle_power_w=None,
            clock_min_mhz=500.0,
            clock_idle_mhz=500.0,
            clock_max_mhz=2100.0,
            hbm_gb=192.0,
            hbm_bandwidth_tb_s=5.3,
            peak_dense_tflops=_ro(
                {"fp64": 163.4, "fp32": 163.4, "tf32": 653.7, "bf16": 1307.4, "fp8": 2614.9}
            ),
            max_operating_temp_c=95.0,
            slowdown_temp_c=100.0,
            shutdown_temp_c=105.0,
            voltage_idle_v=0.70,
            voltage_max_v=1.00,
            static_power_w=43.0,
            leakage_ref_w=300.0,
            leakage_ref_temp_c=60.0,
            leakage_doubling_c=10.0,
            dynamic_max_w=505.0,
            boost_temp_start_c=40.0,
            boost_mhz_per_c=2.6,
            sources=_ro(
                {
                    "datasheet": "AMD Instinct MI300X data sheet: 750 W, 192 GB HBM3, 5.3 TB/s, "
                    "peak engine clock 2100 MHz; FP64 matrix 163.4, FP32 163.4, TF32 653.7, "
                    "BF16 1307.4, FP8 2614.9 TFLOPS dense",
                    "limits": "assumption: hotspot limits of 95/100/105 °C (AMD publishes none "
                    "in the data sheet)",
                    "physics": "assumption: Hopper's split scaled to the 750 W envelope",
                }
            ),
        ),
    }
)


def get_gpu(name: str) -> GPUSpec:
    """The catalog entry ``name``; ``KeyError`` listing the known models otherwise."""
    try:
        return GPU_CATALOG[name]
    except KeyError:
        raise KeyError(f"unknown GPU {name!r}; known: {', '.join(GPU_CATALOG)}") from None
