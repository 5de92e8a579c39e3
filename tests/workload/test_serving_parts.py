"""Parts of the serving simulator on their own: span arithmetic, routers by name, request timings."""

from __future__ import annotations

import math

import pytest

from aidc.hardware.catalog import get_gpu
from aidc.model.presets import get_preset
from aidc.workload.serving import ROUTERS, Pool, PoolRole, Request, ServingSim
from aidc.workload.serving.spans import Work, span_duration_s, steps_done_by
from aidc.workload.steptime import Deployment
from aidc.workload.traces import make_trace


def test_span_duration_and_steps_done_are_inverse():
    a, b, k = 0.02, 0.0001, 50
    assert span_duration_s(a, b, k) == pytest.approx(k * a + b * k * (k - 1) / 2)
    for m in (0, 1, 7, 49, 50):
        t = span_duration_s(a, b, m)
        assert steps_done_by(t + 1e-12, a, b, k) == m
        if m:
            assert steps_done_by(t - 1e-9, a, b, k) == m - 1
    assert steps_done_by(1e9, a, b, k) == k  # never more than the span has


def test_a_span_cut_ends_with_the_step_in_progress():
    w = Work(10.0, 0.02, 0.0, 100, 0.5, 1980.0, False, 1e12, 0.0, (), (), 1)
    assert w.end_s == pytest.approx(12.0)
    assert w.cut_at(10.031)  # the second step is in progress
    assert w.steps == 2 and w.end_s == pytest.approx(10.04)
    assert not w.cut_at(10.035)  # it already ends with that step


def test_routers_by_name_and_their_pools():
    dep = Deployment(get_preset("llama-3.1-8b"), get_gpu("H100-SXM"))
    trace = make_trace("t", [0.0, 0.1, 0.2, 0.3], [100, 2000, 100, 2000], [5] * 4)
    assert set(ROUTERS) == {"round-robin", "least-loaded", "tiered"}
    rr = ServingSim([Pool(dep, 3)], trace, router="round-robin")
    rr.run()
    assert [r.replica for r in rr.requests] == [0, 1, 2, 0]
    pools = [Pool(dep, 1, PoolRole.SMALL), Pool(dep, 1, PoolRole.LARGE)]
    tiered = ServingSim(pools, trace, router="tiered", tier_threshold_tokens=1000)
    tiered.run()
    assert [r.replica for r in tiered.requests] == [0, 1, 0, 1]


def test_request_timings():
    r = Request(0, 1.0, 100, 11)
    r.first_token_s, r.done_s = 1.5, 3.5
    assert (r.ttft_s, r.e2e_s, r.tpot_s) == pytest.approx((0.5, 2.5, 0.2))
    one = Request(1, 0.0, 100, 1)
    one.first_token_s = one.done_s = 0.4
    assert math.isnan(one.tpot_s)
