"""Data paths and memory tiers: NVLink, PCIe, NVLink-C2C, InfiniBand; host DRAM, CXL memory, NVMe.

Every figure is a datasheet or specification value with its source; the achievable share of a
link's peak is a separate named parameter. A transfer of ``b`` bytes over a path costs

    t = Σ_hops (latency + b / (bandwidth · efficiency))

summed over hops that are store-and-forward (a bounce buffer in host memory), which is how NVMe
reads reach a GPU without GPUDirect Storage: NVMe → host DRAM → GPU. With GPUDirect the SSD DMAs
into GPU memory across the PCIe switch, one hop. Collectives (all-reduce, all-to-all) use the
standard ring and pairwise-exchange costs of Thakur, Rabenseifner & Gropp, "Optimization of
Collective Communication Operations in MPICH" (IJHPCA 2005).

Validity: bulk transfers (≥ 1 MB), where a latency-bandwidth model is accurate; small messages
are dominated by software overheads this module does not model beyond ``latency_s``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

# Share of a link's peak that bulk DMA and NCCL collectives reach. NCCL's all_reduce_perf on an
# 8×H100 NVSwitch node reports a bus bandwidth of ~360–370 GB/s against the 450 GB/s per direction
# of NVLink 4 (~0.8); PCIe DMA of large pinned buffers reaches ~52–55 of 63 GB/s on Gen5 x16 (~0.85).
# One value for all links, a stated simplification.
LINK_EFFICIENCY = 0.8


@dataclass(frozen=True)
class Link:
    """A data path, per GPU and per direction."""

    name: str
    bandwidth_gb_s: float
    """Peak bandwidth per direction [GB/s] (10⁹ bytes/s)."""
    latency_s: float
    """Fixed time of one transfer or collective, software included [s]."""
    source: str

    def transfer_s(self, nbytes: float, efficiency: float = LINK_EFFICIENCY) -> float:
        """Time to move ``nbytes`` one way [s]."""
        if nbytes <= 0:
            return 0.0
        return self.latency_s + nbytes / (self.bandwidth_gb_s * 1e9 * efficiency)

    def all_reduce_s(self, nbytes: float, ranks: int, efficiency: float = LINK_EFFICIENCY) -> float:
        """All-reduce of ``nbytes`` per rank over ``ranks`` GPUs [s]: the latency once per
        collective (α) plus the ring's 2(p−1)/p·b bytes through each GPU's link (β)."""
        if ranks <= 1 or nbytes <= 0:
            return 0.0
        return self.latency_s + 2 * (ranks - 1) / ranks * nbytes / (self.bandwidth_gb_s * 1e9 * efficiency)

    def all_to_all_s(self, nbytes: float, ranks: int, efficiency: float = LINK_EFFICIENCY) -> float:
        """All-to-all where each rank sends ``nbytes`` in total, spread evenly over the others [s]
        (pairwise exchange: the (p−1)/p share that leaves the GPU crosses its link)."""
        if ranks <= 1 or nbytes <= 0:
            return 0.0
        return self.latency_s + (ranks - 1) / ranks * nbytes / (self.bandwidth_gb_s * 1e9 * efficiency)


LINKS: MappingProxyType[str, Link] = MappingProxyType(
    {
        "nvlink4": Link(
            "nvlink4",
            450.0,
            1e-5,
            "NVIDIA H100/H200 SXM datasheets: NVLink 900 GB/s per GPU (both directions); ~10 µs per "
            "small collective on an 8-GPU NVSwitch node (assumption, the order of NCCL's and vLLM's "
            "custom all-reduce for decode-sized messages)",
        ),
        "nvlink5": Link(
            "nvlink5",
            900.0,
            1e-5,
            "NVIDIA HGX B200 datasheet: NVLink 5, 1.8 TB/s per GPU (both directions); latency as NVLink 4",
        ),
        "pcie4-x16": Link(
            "pcie4-x16",
            31.5,
            5e-6,
            "PCI-SIG PCIe 4.0: 16 GT/s × 16 lanes, 128b/130b = 31.5 GB/s per direction; ~5 µs DMA "
            "set-up (assumption)",
        ),
        "pcie5-x16": Link(
            "pcie5-x16",
            63.0,
            5e-6,
            "PCI-SIG PCIe 5.0: 32 GT/s × 16 lanes, 128b/130b = 63 GB/s per direction; ~5 µs DMA "
            "set-up (assumption)",
        ),
        "nvlink-c2c": Link(
            "nvlink-c2c",
            450.0,
            2e-6,
            "NVIDIA GH200 Grace Hopper datasheet: NVLink-C2C 900 GB/s CPU↔GPU (both directions)",
        ),
        "ib-ndr": Link(
            "ib-ndr",
            50.0,
            5e-6,
            "InfiniBand NDR (ConnectX-7): 400 Gb/s per port = 50 GB/s per direction, one port per "
            "GPU as in DGX H100; ~5 µs end-to-end including the switch (assumption)",
        ),
    }
)


@dataclass(frozen=True)
class MemoryTier:
    """A memory below HBM that KV blocks can be swapped to, and the path to it."""

    name: str
    capacity_gb: float
    """Capacity available for KV swap per GPU [GB] (10⁹ bytes)."""
    device_bandwidth_gb_s: float
    """The device's own read bandwidth per GPU share [GB/s]; the path may be narrower."""
    device_latency_s: float
    path: tuple[str, ...]
    """Links crossed, GPU side first; more than one means a store-and-forward bounce."""
    source: str

    def transfer_s(self, nbytes: float, efficiency: float = LINK_EFFICIENCY) -> float:
        """Time to move ``nbytes`` between HBM and this tier, either way [s]."""
        if nbytes <= 0:
            return 0.0
        device = self.device_latency_s + nbytes / (self.device_bandwidth_gb_s * 1e9 * efficiency)
        return device + sum(LINKS[name].transfer_s(nbytes, efficiency) for name in self.path)


MEMORY_TIERS: MappingProxyType[str, MemoryTier] = MappingProxyType(
    {
        "host-dram-pcie5": MemoryTier(
            "host-dram-pcie5",
            256.0,
            77.0,
            1e-7,
            ("pcie5-x16",),
            "DGX H100 user guide: 2 TB DDR5 for 8 GPUs = 256 GB per GPU; 2 sockets × 8 channels of "
            "DDR5-4800 = 614 GB/s per node, 77 GB/s per GPU's share; the PCIe 5.0 link is narrower",
        ),
        "host-dram-c2c": MemoryTier(
            "host-dram-c2c",
            480.0,
            512.0,
            1e-7,
            ("nvlink-c2c",),
            "NVIDIA GH200 datasheet: up to 480 GB LPDDR5X at up to 512 GB/s per Grace CPU, one per GPU",
        ),
        "cxl-memory": MemoryTier(
            "cxl-memory",
            256.0,
            64.0,
            4e-7,
            ("pcie5-x16",),
            "CXL 2.0 Type-3 memory expander on a PCIe 5.0 x16 PHY (64 GB/s); ~170–250 ns above "
            "local DRAM (Sun et al., 'Demystifying CXL Memory', MICRO 2023); 256 GB per GPU assumed",
        ),
        "nvme-gds": MemoryTier(
            "nvme-gds",
            3840.0,
            13.0,
            8e-5,
            ("pcie5-x16",),
            "Gen5 enterprise NVMe SSD (e.g. Samsung PM1743: 13 GB/s sequential read, ~80 µs read "
            "latency), 3.84 TB, one per GPU, read by GPUDirect Storage straight into HBM",
        ),
        "nvme-host": MemoryTier(
            "nvme-host",
            3840.0,
            13.0,
            8e-5,
            ("pcie5-x16", "pcie5-x16"),
            "the same SSD without GPUDirect Storage: NVMe → host bounce buffer → GPU, two PCIe hops",
        ),
    }
)
