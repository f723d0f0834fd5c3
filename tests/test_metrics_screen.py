"""The Metrics place: live panels from a real tritonserver, absent metrics said plainly, polls
that never overlap, errors that never take the console down; and a snapshot."""

from __future__ import annotations

import asyncio
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from textual.widgets import Static

from console.core.config import Config
from console.core.metrics.panels import NO_GPU, NO_MODEL_METRICS
from console.tui.app import TritonConsoleApp
from console.tui.widgets.metric_panel import WAITING_FOR_RATES, MetricPanel
from tests.pilot_helpers import wait_for
from tests.triton_traffic import stream_requests

ROOT = Path(__file__).resolve().parents[1]
H100_PAGE = (ROOT / "tests" / "fixtures" / "metrics-h100.txt").read_bytes()


def panel(app, panel_id) -> MetricPanel:
    return app.screen.query_one(f"#panel-{panel_id}", MetricPanel)


def status(app) -> str:
    return str(app.screen.query_one("#metrics-status", Static).render())


def metrics_app(metrics_url: str, poll_s: float = 0.3, rate_interval_s: float = 10.0) -> TritonConsoleApp:
    cfg = Config()
    cfg.triton.metrics_url = metrics_url
    cfg.metrics.poll_s = poll_s
    cfg.metrics.rate_interval_s = rate_interval_s
    return TritonConsoleApp(cfg, start_place="metrics")


class SlowMetricsServer:
    """A real HTTP server on loopback answering with the recorded GPU page after a delay;
    it counts how many requests it serves at once."""

    def __init__(self, delay_s: float) -> None:
        self.delay_s, self.active, self.max_active, self.served = delay_s, 0, 0, 0
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                with owner.lock:
                    owner.active += 1
                    owner.max_active = max(owner.max_active, owner.active)
                try:
                    time.sleep(owner.delay_s)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; version=0.0.4")
                    self.send_header("Content-Length", str(len(H100_PAGE)))
                    self.end_headers()
                    self.wfile.write(H100_PAGE)
                finally:
                    with owner.lock:
                        owner.active -= 1
                        owner.served += 1

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/metrics"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.triton
async def test_panels_follow_real_server_traffic(echo_and_failing_server):
    server = echo_and_failing_server
    app = metrics_app(server.metrics_url, poll_s=0.3, rate_interval_s=60)
    async with app.run_test(size=(140, 50)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.polls >= 1)
        assert panel(app, "requests").absent_text == WAITING_FOR_RATES
        await asyncio.to_thread(stream_requests, server.grpc_url, "echo", ["a b", "c d", "e f"])

        def saw_traffic():
            latest = screen.readings[-1] if screen.readings else None
            return latest is not None and latest.interval_s and latest.model("echo").requests_ok >= 3

        assert await wait_for(pilot, saw_traffic)
        assert panel(app, "requests").absent_text is None
        assert panel(app, "queue-compute").absent_text is None
        values = str(panel(app, "requests").query_one(".panel-values", Static).render())
        assert "echo ok" in values and "req/s" in values
        # the local CPU server has no GPU and echo exports no generation metrics: absent, not zero
        for gpu_panel in ("gpu-power", "gpu-utilization", "gpu-memory"):
            assert panel(app, gpu_panel).absent_text == NO_GPU
        for model_panel in ("ttft", "tpot", "tokens"):
            assert panel(app, model_panel).absent_text == NO_MODEL_METRICS
        assert "no GPU metrics on this server" in status(app)
        assert screen.error is None


async def test_polls_never_overlap_on_a_slow_server():
    slow = SlowMetricsServer(delay_s=0.8)
    try:
        app = metrics_app(slow.url, poll_s=0.2)
        async with app.run_test(size=(140, 50)) as pilot:
            screen = app.screen
            assert await wait_for(pilot, lambda: screen.polls >= 3)
            assert slow.max_active == 1
            assert screen.skipped_ticks > 0  # ticks came while a poll was in flight, and waited
            assert panel(app, "gpu-power").absent_text is None
            assert "134 W" in str(panel(app, "gpu-power").query_one(".panel-values", Static).render())
            assert "72 %" in str(panel(app, "gpu-utilization").query_one(".panel-values", Static).render())
    finally:
        slow.close()


async def test_dead_server_is_reported_and_the_console_keeps_running():
    from console.core.tritonserver import free_ports

    (port,) = free_ports(1)
    app = metrics_app(f"http://127.0.0.1:{port}/metrics", poll_s=0.3)
    async with app.run_test(size=(140, 50)) as pilot:
        assert await wait_for(pilot, lambda: "last poll failed" in status(app) and "cannot connect" in status(app))
        assert panel(app, "gpu-power").absent_text == "waiting for the first poll"
        await pilot.press("w", "p", "r", "1", "4")
        assert app.current_mode == "metrics" and app.is_running


async def test_pause_stops_polling_and_window_key_cycles(monkeypatch):
    monkeypatch.chdir(ROOT)
    app = metrics_app("file:tests/fixtures/metrics-h100.txt", poll_s=0.2)
    async with app.run_test(size=(140, 50)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.polls >= 2)
        await pilot.press("p")
        assert "paused" in status(app)
        await pilot.pause(0.3)
        polls = screen.polls
        await pilot.pause(1.0)
        assert screen.polls == polls
        await pilot.press("r")  # one poll on demand, still paused
        assert await wait_for(pilot, lambda: screen.polls == polls + 1)
        await pilot.press("p")
        assert await wait_for(pilot, lambda: screen.polls >= polls + 3)
        assert "window 5 min" in status(app)
        await pilot.press("w")
        assert "window 15 min" in status(app)
        await pilot.press("w")
        assert "window 1 min" in status(app)


def test_metrics_screen_snapshot(snap_compare, monkeypatch):
    monkeypatch.chdir(ROOT)
    app = metrics_app("file:tests/fixtures/metrics-h100.txt", poll_s=600)

    async def first_poll(pilot):
        await wait_for(pilot, lambda: getattr(app.screen, "polls", 0) >= 1)
        await pilot.pause(0.2)

    assert snap_compare(app, run_before=first_poll, terminal_size=(140, 50))


@pytest.mark.triton
@pytest.mark.smollm
@pytest.mark.slow
async def test_generation_panels_plot_the_local_stack(local_stack):
    from console.core.streaming import TritonStreamClient

    model = local_stack.models[0]
    app = metrics_app(local_stack.metrics_url, poll_s=0.5, rate_interval_s=120)
    async with app.run_test(size=(140, 50)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.polls >= 1)
        client = TritonStreamClient(local_stack.grpc_url, timeout_s=300)
        try:
            for prompt in ("Name a fruit.", "Name a tree."):
                await client.complete(model, prompt, {"max_tokens": 5, "temperature": 0.0})
        finally:
            await client.close()

        def plotted():
            return all(panel(app, p).absent_text is None for p in ("ttft", "tpot", "tokens", "requests"))

        assert await wait_for(pilot, plotted, timeout=60)

        def both_requests_seen():  # a poll scraped during the second request may land first
            latest = screen.readings[-1].model(model)
            return latest.ttft.count >= 2 and latest.generation_tokens > 0

        assert await wait_for(pilot, both_requests_seen, timeout=60)
        values = str(panel(app, "ttft").query_one(".panel-values", Static).render())
        assert model in values and "ms" in values
        assert panel(app, "gpu-power").absent_text == NO_GPU


async def test_metrics_follow_the_configured_endpoint_when_it_moves(echo_server):
    """The Cluster place repoints config.triton.metrics_url at its forward: the panels follow."""
    from console.core.tritonserver import free_ports

    (port,) = free_ports(1)
    app = metrics_app(f"http://127.0.0.1:{port}/metrics", poll_s=0.3)
    async with app.run_test(size=(140, 50)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: "last poll failed" in status(app))
        app.config.triton.metrics_url = echo_server.metrics_url
        assert await wait_for(pilot, lambda: screen.polls >= 1 and "last poll failed" not in status(app))
        assert str(echo_server.ports.metrics) in status(app)
