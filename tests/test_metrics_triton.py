"""Against a real tritonserver: its counters move by exactly the traffic we send."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from console.core.metrics.derive import derive
from console.core.metrics.sampler import MetricsSampler
from console.core.metrics.sources import TritonMetricsSource
from tests.triton_traffic import fetch_when, stream_requests

pytestmark = pytest.mark.triton
ROOT = Path(__file__).resolve().parents[1]


def test_success_counters_move_by_the_requests_sent(echo_and_failing_server):
    server = echo_and_failing_server
    source = TritonMetricsSource(server.metrics_url)
    before = source.fetch()
    answers = stream_requests(server.grpc_url, "echo", ["one two three", "four", "five six"])
    assert answers == [["one", "two", "three"], ["four"], ["five", "six"]]
    key = (("model", "echo"), ("version", "1"))
    after = fetch_when(source, lambda s: s.series("nv_inference_request_success")[key] >= before.series("nv_inference_request_success")[key] + 3)

    def moved(name):
        return after.series(name)[key] - before.series(name)[key]

    assert moved("nv_inference_request_success") == 3
    assert moved("nv_inference_count") == 3
    assert moved("nv_inference_exec_count") == 3
    assert moved("nv_inference_queue_duration_us") > 0
    assert moved("nv_inference_compute_infer_duration_us") > 0
    m = derive(after, before).model("echo")
    assert m.requests_ok == 3 and m.requests_failed == 0
    assert m.queue_ms_per_request > 0 and m.compute_ms_per_request > 0
    assert m.success_per_s > 0
    # the local CPU server exports no GPU metrics and echo exports no generation metrics: absent
    reading = derive(after, before)
    assert reading.gpus == () and m.ttft is None and m.generation_tokens_per_s is None


def test_failure_counter_moves_by_the_failed_requests(echo_and_failing_server):
    server = echo_and_failing_server
    source = TritonMetricsSource(server.metrics_url)
    before = source.fetch()
    answers = stream_requests(server.grpc_url, "failing", ["x", "y"])
    assert all(isinstance(a, str) and "fails every request" in a for a in answers)
    # an error *response* from a decoupled model counts as a success in Triton's counters
    assert stream_requests(server.grpc_url, "failing", ["respond"]) == ["this test model fails every request"]
    key = (("model", "failing"), ("version", "1"))
    after = fetch_when(source, lambda s: s.series("nv_inference_request_success")[key] > before.series("nv_inference_request_success")[key])
    m = derive(after, before).model("failing")
    assert m.requests_failed == 2
    assert m.requests_ok == 1
    assert m.failure_per_s > 0


def test_sampler_polls_a_real_server(echo_and_failing_server):
    server = echo_and_failing_server
    sampler = MetricsSampler(TritonMetricsSource(server.metrics_url), window_s=60, rate_interval_s=30)
    since_start = sampler.poll().model("echo").requests_ok
    stream_requests(server.grpc_url, "echo", ["a", "b", "c", "d"])
    key = (("model", "echo"), ("version", "1"))
    done = since_start + 4
    fetch_when(sampler.source, lambda s: s.series("nv_inference_request_success")[key] >= done)
    reading = sampler.poll()
    assert reading.interval_s is not None and reading.interval_s > 0
    assert reading.model("echo").requests_ok == 4
    assert len(sampler.readings) == 2


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console", "metrics", *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_cli_prints_a_json_snapshot(echo_and_failing_server):
    server = echo_and_failing_server
    stream_requests(server.grpc_url, "echo", ["hello world"])
    result = run_cli("--metrics-url", server.metrics_url, "--json", "--interval", "0")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["source"] == f"triton {server.metrics_url}"
    assert data["interval_s"] is None and data["has_gpu"] is False and data["gpus"] == []
    assert data["total_power_w"] is None
    echo = next(m for m in data["models"] if m["model"] == "echo")
    assert echo["requests_ok"] >= 1 and echo["ttft"] is None


def test_cli_text_snapshot_with_rates(echo_and_failing_server):
    result = run_cli("--metrics-url", echo_and_failing_server.metrics_url, "--interval", "0.5")
    assert result.returncode == 0, result.stderr
    assert "values over the last" in result.stdout
    assert "model echo" in result.stdout and "no GPU metrics on this server" in result.stdout


def test_cli_says_why_when_nothing_answers():
    from console.core.tritonserver import free_ports

    (port,) = free_ports(1)
    result = run_cli("--metrics-url", f"http://127.0.0.1:{port}/metrics")
    assert result.returncode == 1
    assert "cannot connect" in result.stderr and "Traceback" not in result.stderr


def test_cli_rejects_a_page_that_is_not_metrics(echo_and_failing_server):
    # the HTTP endpoint's server-ready route answers, but not with metrics
    result = run_cli("--metrics-url", f"http://{echo_and_failing_server.http_url}/v2")
    assert result.returncode == 1
    assert "not a Prometheus metrics page" in result.stderr or "HTTP" in result.stderr
