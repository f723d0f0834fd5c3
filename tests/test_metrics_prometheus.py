"""The Prometheus HTTP API source, against a real loopback HTTP server answering with recorded
API JSON (a stand-in: the cluster's Prometheus cannot run here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from console.core.metrics.derive import derive
from console.core.metrics.sampler import MetricsSampler, snapshot
from console.core.metrics.scrape import MetricsError
from console.core.metrics.sources import PrometheusSource, TritonMetricsSource, choose_source
from console.core.tritonserver import free_ports
from tests.prometheus_standin import PrometheusStandIn

ROOT = Path(__file__).resolve().parents[1]
T0 = 1795000000.0


@pytest.fixture
def prometheus():
    with PrometheusStandIn() as standin:
        yield standin


def test_instant_query_sums_pods_per_model_and_keeps_gpus_per_pod(prometheus):
    source = PrometheusSource(prometheus.url, matchers='namespace="triton-vllm"')
    scrape = source.fetch()
    assert scrape.t == T0 + 120
    path, params = prometheus.requests[-1]
    assert path == "/api/v1/query" and 'namespace="triton-vllm"' in params["query"]
    reading = derive(scrape)
    llama = reading.model("llama2")
    assert llama.requests_ok == 90 + 30  # pod abcde at 90, pod fghij restarted at 30
    assert llama.generation_tokens == 7680 * 3 + 7680
    assert llama.ttft.count == 120 and llama.ttft.mean_s == pytest.approx((0.54 * 3 + 0.54) / 120)
    assert llama.running == 4  # gauge summed over both pods
    assert [(g.where, g.power_w) for g in reading.gpus] == [
        ("triton-vllm-7d9f8-abcde", pytest.approx(136.127)),
        ("triton-vllm-7d9f8-fghij", pytest.approx(146.127)),
    ]
    assert reading.total_power_w == pytest.approx(282.254)


def test_range_backfills_the_window_and_handles_a_pod_restart(prometheus):
    source = PrometheusSource(prometheus.url)
    scrapes = source.fetch_range(T0, T0 + 120, 60)
    assert [s.t for s in scrapes] == [T0, T0 + 60, T0 + 120]
    _, params = prometheus.requests[-1]
    assert params["step"] == "60" and float(params["start"]) == T0
    sampler = MetricsSampler(source, window_s=10**10, rate_interval_s=120)
    for scrape in scrapes:
        sampler.add(scrape)
    last = sampler.latest
    assert last.interval_s == 120
    m = last.model("mistral7b")
    # pod abcde: 30 -> 90 (+60); pod fghij: 30 -> 60, restart, 30 (+30 +30)
    assert m.requests_ok == 120
    assert m.success_per_s == pytest.approx(1.0)
    assert m.generation_tokens_per_s == pytest.approx(7680 * 4 / 120)
    assert m.queue_ms_per_request == pytest.approx(0.2)
    assert m.compute_ms_per_request == pytest.approx((1500 + 18000 + 150) / 30 / 1000)
    assert m.ttft.count == 120 and m.ttft.p50_s is not None and 0.01 < m.ttft.p50_s <= 0.025


def test_snapshot_uses_prometheus_history_without_waiting(prometheus):
    reading = snapshot(PrometheusSource(prometheus.url), interval_s=60, sleep=lambda s: pytest.fail("slept"))
    assert reading.interval_s == 60
    assert reading.model("llama2").requests_ok == 30 + 30  # abcde +30, fghij restarted: +30 counted from zero


def test_error_answer_is_a_clear_error(prometheus):
    # a wrong base URL: the stand-in answers Prometheus' error JSON with HTTP 400
    with pytest.raises(MetricsError, match="HTTP 400.*parse error"):
        PrometheusSource(prometheus.url + "/wrong").fetch()
    assert not PrometheusSource(prometheus.url + "/wrong").reachable()


def test_choose_source_falls_back_to_triton_when_prometheus_is_down(prometheus):
    assert isinstance(choose_source("localhost:8002", prometheus.url), PrometheusSource)
    (port,) = free_ports(1)
    chosen = choose_source("localhost:8002", f"http://127.0.0.1:{port}")
    assert isinstance(chosen, TritonMetricsSource) and chosen.url == "http://localhost:8002/metrics"
    assert isinstance(choose_source("localhost:8002", ""), TritonMetricsSource)


def test_cli_reads_prometheus(prometheus):
    result = subprocess.run(
        [sys.executable, "-m", "console", "metrics", "--prometheus-url", prometheus.url, "--json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == f"prometheus {prometheus.url}"
    assert data["interval_s"] == 60 and len(data["gpus"]) == 2 and data["has_gpu"] is True


def test_cli_says_when_prometheus_does_not_answer():
    (port,) = free_ports(2)[:1]
    result = subprocess.run(
        [sys.executable, "-m", "console", "metrics", "--prometheus-url", f"http://127.0.0.1:{port}",
         "--metrics-url", f"http://127.0.0.1:{port}/metrics"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "does not answer" in result.stderr and "cannot connect" in result.stderr


def test_credentials_in_the_url_never_show(prometheus):
    host = prometheus.url.removeprefix("http://")
    source = PrometheusSource(f"http://ops:s3cret-pw@{host}")
    assert "s3cret-pw" not in source.label and source.label == f"prometheus {prometheus.url}"
    source.fetch()  # the credentials travel as HTTP basic auth
    assert prometheus.authorizations[-1] == "Basic " + __import__("base64").b64encode(b"ops:s3cret-pw").decode()
    with pytest.raises(MetricsError) as info:
        PrometheusSource(f"http://ops:s3cret-pw@{host}/wrong").fetch()
    assert "s3cret-pw" not in str(info.value)


def test_prometheus_rates_cover_at_least_its_scrape_interval(prometheus):
    assert MetricsSampler(PrometheusSource(prometheus.url), rate_interval_s=10).rate_interval_s == 60
    assert MetricsSampler(TritonMetricsSource("localhost:8002"), rate_interval_s=10).rate_interval_s == 10


@pytest.mark.parametrize("url", ["http://[::1", "localhost:notaport", "ftp2://x"])
def test_unusable_urls_are_clear_errors(url):
    result = subprocess.run([sys.executable, "-m", "console", "metrics", "--metrics-url", url, "--interval", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "triton-console metrics:" in result.stderr


def test_unusable_prometheus_url_hides_credentials_and_falls_back():
    (port,) = free_ports(1)
    result = subprocess.run([sys.executable, "-m", "console", "metrics", "--prometheus-url", "http://ops:s3cret@[::1",
                             "--metrics-url", f"127.0.0.1:{port}", "--interval", "0"],
                            cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "does not answer" in result.stderr and "s3cret" not in result.stderr
