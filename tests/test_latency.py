"""genai-perf metric definitions on hand-made timings (no server, no clocks)."""

from __future__ import annotations

import pytest

from console.core.latency import Distribution, RequestTiming, Summary, percentile


def test_request_metrics_follow_genai_perf_definitions():
    t = RequestTiming(t_start=10.0, t_first=10.2, t_end=11.2, output_tokens=11)
    assert t.ttft == pytest.approx(0.2)
    assert t.e2e == pytest.approx(1.2)
    assert t.itl == pytest.approx((1.2 - 0.2) / 10)
    assert t.tokens_per_s == pytest.approx(11 / 1.2)


def test_single_token_has_no_inter_token_latency():
    assert RequestTiming(0.0, 0.1, 0.1, 1).itl is None
    assert RequestTiming(0.0, None, 0.5, 0, error="x").ttft is None


def test_percentiles_interpolate_like_numpy():
    data = [1.0, 2.0, 3.0, 4.0]
    assert percentile(data, 50) == pytest.approx(2.5)
    assert percentile(data, 90) == pytest.approx(3.7)
    assert percentile([5.0], 99) == 5.0
    assert percentile([], 50) is None
    assert Distribution.of([None, None]).count == 0


def test_aggregate_throughput_uses_wall_clock_not_summed_request_times():
    # two requests overlapping completely: 1 s of wall time, 2 s of summed request time
    timings = [RequestTiming(0.0, 0.1, 1.0, 100), RequestTiming(0.0, 0.2, 1.0, 100)]
    summary = Summary.of(timings)
    assert summary.duration_s == pytest.approx(1.0)
    assert summary.output_tokens_per_s == pytest.approx(200.0)
    assert summary.requests_per_s == pytest.approx(2.0)


def test_failures_count_but_do_not_skew_latency():
    timings = [RequestTiming(0.0, 0.1, 1.0, 10), RequestTiming(0.0, None, 0.01, 0, error="down")]
    summary = Summary.of(timings)
    assert summary.failures == 1 and summary.requests == 2
    assert summary.e2e.count == 1 and summary.e2e.p50 == pytest.approx(1.0)
