"""Traces: the bundled Azure traces, synthetic arrivals, scaling, and clear errors on bad files."""

from __future__ import annotations

import numpy as np
import pytest

from aidc.workload.traces import LengthDist, TraceError, load_trace, make_trace, synthetic_trace


def test_bundled_azure_traces_match_their_published_summary():
    conv, code = load_trace("azure-conv"), load_trace("azure-code")
    assert len(conv) == 19_366 and len(code) > 8_000
    assert conv.prompt_tokens.mean() == pytest.approx(1_155, rel=0.01)
    assert conv.output_tokens.mean() == pytest.approx(211, rel=0.01)
    assert code.prompt_tokens.mean() == pytest.approx(2_048, rel=0.01)
    assert 3_400 < conv.duration_s < 3_600 and conv.arrival_s[0] == 0.0


def test_rate_scaling_and_windows():
    conv = load_trace("azure-conv")
    fast = conv.at_rate(55.0)
    assert fast.rate_per_s == pytest.approx(55.0)
    np.testing.assert_array_equal(fast.output_tokens, conv.output_tokens)
    w = conv.window(600.0, 60.0)
    assert w.arrival_s.min() >= 0 and w.arrival_s.max() < 60.0
    assert len(conv.compressed(2.0)) == len(conv)


def test_synthetic_arrivals_have_the_asked_rate_and_burstiness():
    lengths = LengthDist(median=200, sigma=0.5)
    for arrival, cv in (("poisson", 1.0), ("gamma", 3.0)):
        tr = synthetic_trace(20_000, 40.0, lengths, lengths, arrival=arrival, cv=cv, seed=1)
        gaps = np.diff(tr.arrival_s)
        assert gaps.mean() == pytest.approx(1 / 40.0, rel=0.05)
        assert gaps.std() / gaps.mean() == pytest.approx(cv, rel=0.1)
    resampled = LengthDist(load_trace("azure-conv").prompt_tokens).sample(1000, np.random.default_rng(0))
    assert set(resampled) <= set(load_trace("azure-conv").prompt_tokens)


def test_shared_prefixes_and_priorities():
    tr = load_trace("azure-conv").head(2000).with_shared_prefix(groups=4, tokens=512, share=0.5, seed=0)
    chosen = tr.prefix_group >= 0
    assert 0.45 < chosen.mean() < 0.55
    assert (tr.prefix_tokens[chosen] <= np.minimum(512, tr.prompt_tokens[chosen] - 1)).all()
    pr = tr.with_priorities([0.2, 0.8], seed=0)
    assert 0.15 < (pr.priority == 0).mean() < 0.25


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("TIMESTAMP,ContextTokens\n2023-11-16 18:15:46,3\n", "missing columns; need TIMESTAMP"),
        ("arrival_s,prompt_tokens,output_tokens\n0,5,3\n1,-2,3\n", "row 1: prompt_tokens = -2"),
        ("arrival_s,prompt_tokens,output_tokens\n0,5,0\n", "row 0: output_tokens = 0"),
        (
            "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,3,4\n2023-11-16 18:15:45,3,4\n",
            "timestamps must be sorted; row 1",
        ),
        ("arrival_s,prompt_tokens,output_tokens\n0,5.5,3\n", "prompt_tokens must be whole token counts"),
        ("TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,3,4\n", "TIMESTAMP must hold date-times"),
    ],
)
def test_bad_trace_files_name_the_problem(tmp_path, text, match):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(TraceError, match=match) as err:
        load_trace(path)
    assert "bad.csv" in str(err.value)


def test_unknown_trace_and_bad_synthetic_parameters():
    with pytest.raises(TraceError, match="neither a bundled trace"):
        load_trace("azure-chat")
    with pytest.raises(TraceError, match="rate > 0"):
        synthetic_trace(10, 0.0, LengthDist(median=10), LengthDist(median=10))
    with pytest.raises(TraceError, match="prefix_tokens 9 exceeds prompt_tokens 5"):
        make_trace("t", [0.0], [5], [1], prefix_group=[0], prefix_tokens=[9])
