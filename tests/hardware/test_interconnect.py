"""Links and memory tiers: transfer times and collectives with hand-worked values; every entry has
its source."""

from __future__ import annotations

import pytest

from aidc.hardware.interconnect import LINK_EFFICIENCY, LINKS, MEMORY_TIERS


def test_every_link_and_tier_names_its_source():
    for entry in (*LINKS.values(), *MEMORY_TIERS.values()):
        assert entry.source and len(entry.source) > 20, entry.name


def test_transfer_is_latency_plus_bytes_over_effective_bandwidth():
    link = LINKS["nvlink4"]
    t = link.transfer_s(1e9)
    assert t == pytest.approx(link.latency_s + 1e9 / (link.bandwidth_gb_s * 1e9 * LINK_EFFICIENCY))
    assert link.transfer_s(0) == 0.0


def test_ring_all_reduce_and_all_to_all():
    link, b = LINKS["nvlink4"], 8e6
    beta = b / (link.bandwidth_gb_s * 1e9 * LINK_EFFICIENCY)
    assert link.all_reduce_s(b, 8) == pytest.approx(link.latency_s + 2 * 7 / 8 * beta)
    assert link.all_to_all_s(b, 8) == pytest.approx(link.latency_s + 7 / 8 * beta)
    assert link.all_reduce_s(b, 1) == 0.0


def test_nvme_without_gpudirect_crosses_two_hops():
    direct, bounced = MEMORY_TIERS["nvme-gds"], MEMORY_TIERS["nvme-host"]
    assert bounced.transfer_s(1e9) > direct.transfer_s(1e9)
    assert MEMORY_TIERS["host-dram-pcie5"].transfer_s(1e9) < direct.transfer_s(1e9)
