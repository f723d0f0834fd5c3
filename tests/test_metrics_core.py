"""Parsing Triton's metrics page and deriving readings: rates, per-request times, quantiles, resets."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.core.metrics import names
from console.core.metrics.derive import bucket_quantile, derive
from console.core.metrics.panels import PANELS, panel, window_series
from console.core.metrics.report import ABSENT, render_text
from console.core.metrics.sampler import MetricsSampler
from console.core.metrics.scrape import MetricsError, parse_text

H100_PAGE = (Path(__file__).parent / "fixtures" / "metrics-h100.txt").read_text()
GPU = "GPU-45b9b6a6-4f72-3ad1-b2ff-6126b5325900"


def page(success=0, failure=0, queue_us=0, infer_us=0, prompt=0, generated=0, ttft=(), model="llama2") -> str:
    """A Triton-shaped page with our model.py metrics; ``ttft`` lists observations in seconds."""
    bounds = (0.01, 0.05, 0.1, 0.5, 1.0)
    buckets = "".join(
        f'vllm:time_to_first_token_seconds_bucket{{model="{model}",version="1",le="{b}"}} {sum(1 for x in ttft if x <= b)}\n'
        for b in bounds
    )
    return f"""# HELP nv_inference_request_success Number of successful inference requests, all batch sizes
# TYPE nv_inference_request_success counter
nv_inference_request_success{{model="{model}",version="1"}} {success}
# TYPE nv_inference_request_failure counter
nv_inference_request_failure{{model="{model}",reason="BACKEND",version="1"}} {failure}
nv_inference_request_failure{{model="{model}",reason="CANCELED",version="1"}} 0
# TYPE nv_inference_queue_duration_us counter
nv_inference_queue_duration_us{{model="{model}",version="1"}} {queue_us}
# TYPE nv_inference_compute_input_duration_us counter
nv_inference_compute_input_duration_us{{model="{model}",version="1"}} 0
# TYPE nv_inference_compute_infer_duration_us counter
nv_inference_compute_infer_duration_us{{model="{model}",version="1"}} {infer_us}
# TYPE nv_inference_compute_output_duration_us counter
nv_inference_compute_output_duration_us{{model="{model}",version="1"}} 0
# TYPE vllm:prompt_tokens_total counter
vllm:prompt_tokens_total{{model="{model}",version="1"}} {prompt}
# TYPE vllm:generation_tokens_total counter
vllm:generation_tokens_total{{model="{model}",version="1"}} {generated}
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{{model="{model}",version="1"}} 1
# TYPE vllm:time_to_first_token_seconds histogram
{buckets}vllm:time_to_first_token_seconds_bucket{{model="{model}",version="1",le="+Inf"}} {len(ttft)}
vllm:time_to_first_token_seconds_sum{{model="{model}",version="1"}} {sum(ttft)}
vllm:time_to_first_token_seconds_count{{model="{model}",version="1"}} {len(ttft)}
"""


def test_recorded_gpu_page_parses_with_exported_names():
    scrape = parse_text(H100_PAGE, t=0)
    # counters keep the names Triton exports (the parser would add "_total")
    assert scrape.series("nv_inference_request_success") == {(("model", "llama2"), ("version", "1")): 36.0,
                                                              (("model", "mistral7b"), ("version", "1")): 36.0}
    assert "nv_inference_request_success_total" not in scrape.names()
    gpu = (("gpu_uuid", GPU),)
    assert scrape.series("nv_gpu_power_usage") == {gpu: 134.127}
    assert scrape.series("nv_gpu_utilization") == {gpu: 0.72}
    assert scrape.series("nv_gpu_memory_used_bytes") == {gpu: 52724498432.0}
    assert scrape.series("nv_gpu_memory_total_bytes") == {gpu: 85520809984.0}
    assert scrape.series("nv_energy_consumption") == {gpu: 1286.053}
    assert len(scrape.series("nv_inference_request_failure")) == 8


def test_recorded_gpu_page_derives_gpu_and_per_request_times():
    reading = derive(parse_text(H100_PAGE, t=0))
    assert reading.interval_s is None and reading.has_gpu
    (gpu,) = reading.gpus
    assert (gpu.gpu, gpu.power_w, gpu.power_limit_w, gpu.utilization) == (GPU, 134.127, 700.0, 0.72)
    assert reading.total_power_w == 134.127
    llama = reading.model("llama2")
    assert llama.requests_ok == 36 and llama.requests_failed == 0
    assert llama.queue_ms_per_request == pytest.approx(8047 / 36 / 1000)
    assert llama.compute_ms_per_request == pytest.approx((1367 + 18869 + 145) / 36 / 1000)
    # this page came from a proof model without model.py's metrics: absent, not zero
    assert llama.ttft is None and llama.generation_tokens is None and llama.running is None
    assert llama.success_per_s is None  # no interval, no rate


def test_page_without_gpu_has_no_gpu_readings():
    reading = derive(parse_text(page(success=1), t=0))
    assert reading.gpus == () and not reading.has_gpu and reading.total_power_w is None
    text = render_text(reading, "test")
    assert "no GPU metrics on this server" in text


def test_malformed_page_is_a_clear_error():
    with pytest.raises(MetricsError, match="not a Prometheus metrics page"):
        parse_text('nv_inference_request_success{model="a" 1\n', t=0)


def test_rates_and_per_request_times_over_an_interval():
    old = parse_text(page(success=10, failure=1, queue_us=5000, infer_us=100000, prompt=50, generated=400, ttft=[0.02]), t=100)
    new = parse_text(
        page(success=14, failure=3, queue_us=9000, infer_us=300000, prompt=90, generated=800, ttft=[0.02, 0.03, 0.07, 0.2, 0.4]),
        t=110,
    )
    m = derive(new, old).model("llama2")
    assert m.requests_ok == 4 and m.requests_failed == 2
    assert m.success_per_s == pytest.approx(0.4) and m.failure_per_s == pytest.approx(0.2)
    assert m.queue_ms_per_request == pytest.approx(4000 / 4 / 1000)
    assert m.compute_ms_per_request == pytest.approx(200000 / 4 / 1000)
    assert m.prompt_tokens == 40 and m.generation_tokens == 400
    assert m.generation_tokens_per_s == pytest.approx(40.0)
    assert m.ttft.count == 4
    assert m.ttft.mean_s == pytest.approx((0.03 + 0.07 + 0.2 + 0.4) / 4)
    assert 0.01 < m.ttft.p50_s <= 0.1 and 0.1 < m.ttft.p90_s <= 0.5
    assert m.tpot is None  # not on this page: absent
    assert m.running == 1


def test_no_requests_in_interval_means_no_per_request_time():
    old = parse_text(page(success=10, queue_us=5000), t=0)
    new = parse_text(page(success=10, queue_us=5000), t=5)
    m = derive(new, old).model("llama2")
    assert m.success_per_s == 0.0 and m.queue_ms_per_request is None
    assert m.ttft.count == 0 and m.ttft.mean_s is None


def test_counter_reset_counts_from_zero():
    old = parse_text(page(success=100, generated=5000, ttft=[0.02] * 7), t=0)
    new = parse_text(page(success=3, generated=60, ttft=[0.2, 0.3]), t=10)  # the server restarted
    m = derive(new, old).model("llama2")
    assert m.requests_ok == 3 and m.generation_tokens == 60
    assert m.ttft.count == 2 and m.ttft.mean_s == pytest.approx(0.25)


def test_sampler_counts_across_a_restart_inside_the_rate_interval():
    class Pages:
        label = "pages"

        def __init__(self):
            self.pages = [page(success=100, generated=1000, ttft=[0.02] * 5, model="m"),
                          page(success=110, generated=1200, ttft=[0.02] * 6, model="m"),
                          page(success=4, generated=30, ttft=[0.3], model="m")]  # restarted
            self.t = 0.0

        def fetch(self):
            self.t += 2.0
            return parse_text(self.pages.pop(0), t=self.t)

    sampler = MetricsSampler(Pages(), window_s=60, rate_interval_s=10)
    first = sampler.poll()
    assert first.interval_s is None
    sampler.poll()
    last = sampler.poll()
    m = last.model("m")
    assert last.interval_s == 4.0
    assert m.requests_ok == 14  # 10 before the restart + 4 after
    assert m.generation_tokens == 230
    assert m.ttft.count == 2 and m.ttft.mean_s == pytest.approx((0.02 + 0.3) / 2)


def test_sampler_keeps_only_the_window():
    class Same:
        label = "same"
        t = 0.0

        def fetch(self):
            self.t += 30.0
            return parse_text(page(success=self.t), t=self.t)

    sampler = MetricsSampler(Same(), window_s=100, rate_interval_s=10)
    for _ in range(10):
        sampler.poll()
    assert [r.t for r in sampler.readings] == [210.0, 240.0, 270.0, 300.0]
    assert sampler.latest.model("llama2").success_per_s == pytest.approx(1.0)


def test_bucket_quantile_interpolates_like_histogram_quantile():
    buckets = {0.1: 10.0, 0.5: 30.0, 1.0: 40.0, float("inf"): 40.0}
    assert bucket_quantile(0.5, buckets) == pytest.approx(0.1 + 0.4 * (20 - 10) / 20)
    assert bucket_quantile(0.25, buckets) == pytest.approx(0.1)
    assert bucket_quantile(0.1, buckets) == pytest.approx(0.04)
    assert bucket_quantile(0.5, {0.1: 0.0, float("inf"): 0.0}) is None
    assert bucket_quantile(0.99, {0.1: 1.0, float("inf"): 5.0}) == 0.1  # in +Inf: highest finite bound


def test_panels_plot_absent_metrics_as_no_points():
    sampler = MetricsSampler(type("S", (), {"label": "x"})(), window_s=60)
    sampler.add(parse_text(page(success=1), t=0))
    sampler.add(parse_text(page(success=3), t=5))
    assert window_series(sampler.readings, panel("gpu-power")) == {}
    requests = window_series(sampler.readings, panel("requests"))
    assert requests["llama2 ok"] == ([0.0], [pytest.approx(0.4)])  # the first poll has no rate
    h100 = MetricsSampler(type("S", (), {"label": "x"})())
    h100.add(parse_text(H100_PAGE, t=0))
    power = window_series(h100.readings, panel("gpu-power"))
    assert power == {"gpu 45b9b6a6": ([0.0], [134.127])}  # gauges plot from the first poll


def test_every_panel_queries_only_exported_metrics():
    import re

    exported = names.exported()
    for spec in PANELS:
        for query in spec.queries:
            used = set(re.findall(r"\b(?:nv_[a-z_]+|vllm:[a-z_]+)", query.expr))
            assert used and used <= exported, (spec.id, used - exported)


def test_report_marks_absent_values():
    text = render_text(derive(parse_text(H100_PAGE, t=0)), "file")
    assert "time to first token    " + ABSENT in text
    assert "134.1 W" in text and "72.0 %" in text
