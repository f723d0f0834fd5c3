"""The Metrics place: live plots of GPU power/utilization/memory, requests, queue and compute
time, TTFT, time per output token and tokens/s, over a time window.

A timer asks for a poll every ``metrics.poll_s``; a poll runs in a thread worker and a new one
never starts while one is in flight (a slow or dead server skips ticks, it never piles them up).
The core sampler does the arithmetic; this screen only renders its readings.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, Static

from console.core.metrics.derive import Reading
from console.core.metrics.panels import PANELS
from console.core.metrics.sampler import MetricsSampler
from console.core.metrics.scrape import MetricsError
from console.core.metrics.sources import MetricsSource, choose_source
from console.tui.widgets.metric_panel import MetricPanel

WINDOWS_S = (60.0, 300.0, 900.0)


def _window_label(seconds: float) -> str:
    return f"{seconds / 60:g} min"


class MetricsScreen(Screen):
    CSS_PATH = "metrics.tcss"
    BINDINGS = [
        Binding("p", "toggle_pause", "Pause/resume"),
        Binding("r", "poll_now", "Poll now"),
        Binding("w", "next_window", "Window"),
    ]

    @dataclass
    class Polled(Message):
        reading: Reading
        readings: tuple[Reading, ...]  # the window, copied in the worker: the UI never reads a deque being appended to

    @dataclass
    class PollFailed(Message):
        error: str

    def __init__(self, source: MetricsSource | None = None) -> None:
        super().__init__()
        self._source = source  # None: chosen from the config on the first poll
        self._endpoint: tuple[str, str] = ("", "")  # the config's URLs the sampler was built for
        self.sampler: MetricsSampler | None = None
        self.polling = False  # a poll is in flight
        self.paused = False
        self.polls = 0
        self.skipped_ticks = 0  # ticks that found a poll still in flight
        self.error: str | None = None
        self.window_s = 300.0
        self.readings: tuple[Reading, ...] = ()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("connecting…", id="metrics-status")
        with VerticalScroll(id="metrics-body"):
            with Grid(id="metrics-grid"):
                for spec in PANELS:
                    yield MetricPanel(spec)
        yield Footer()

    def on_mount(self) -> None:
        settings = self.app.config.metrics
        self.window_s = settings.window_s if settings.window_s in WINDOWS_S else WINDOWS_S[1]
        self._redraw()  # every panel says it waits for the first poll
        self.set_interval(max(settings.poll_s, 0.2), self.tick)
        self.tick()

    def tick(self) -> None:
        if self.paused:
            return
        if self.polling:
            self.skipped_ticks += 1
            return
        self.polling = True
        self._poll()

    @work(thread=True, exclusive=True, group="metrics-poll", exit_on_error=False)
    def _poll(self) -> None:
        try:
            cfg = self.app.config
            endpoint = (cfg.triton.metrics_url, cfg.metrics.prometheus_url)
            if self._source is None and self.sampler is not None and endpoint != self._endpoint:
                self.sampler = None  # the Cluster place started or stopped its forwards: new history
            if self.sampler is None:
                self._endpoint = endpoint
                source = self._source or choose_source(
                    cfg.triton.metrics_url, cfg.metrics.prometheus_url, cfg.metrics.prometheus_matchers
                )
                sampler = MetricsSampler(source, window_s=max(WINDOWS_S), rate_interval_s=cfg.metrics.rate_interval_s)
                try:
                    sampler.backfill()
                except MetricsError:
                    pass  # no history: live polls still work
                self.sampler = sampler
            reading = self.sampler.poll()
            self.post_message(self.Polled(reading, tuple(self.sampler.readings)))
        except MetricsError as exc:
            self.post_message(self.PollFailed(str(exc)))
        except Exception as exc:  # noqa: BLE001 - a poll must never take the console down
            self.post_message(self.PollFailed(f"{type(exc).__name__}: {exc}"))

    def on_metrics_screen_polled(self, message: Polled) -> None:
        self.polling = False
        self.polls += 1
        self.readings = message.readings
        self.error = None
        self._redraw()

    def on_metrics_screen_poll_failed(self, message: PollFailed) -> None:
        self.polling = False
        self.error = message.error
        self._update_status()

    def _redraw(self) -> None:
        for panel in self.query(MetricPanel):
            panel.show(self.readings, self.window_s)
        self._update_status()

    def _update_status(self) -> None:
        source = self.sampler.source.label if self.sampler else (self._source.label if self._source else "…")
        state = "paused" if self.paused else f"every {self.app.config.metrics.poll_s:g} s"
        parts = [f"source: {source}", f"window {_window_label(self.window_s)}", state]
        latest = self.readings[-1] if self.readings else None
        if latest is not None and not latest.has_gpu:
            parts.append("no GPU metrics on this server")
        if self.error:
            parts.append(f"[b $error]last poll failed: {self.error}[/]")
        from rich.markup import escape

        self.query_one("#metrics-status", Static).update(" · ".join(p if p.startswith("[b $error]") else escape(p) for p in parts))

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self._update_status()

    def action_poll_now(self) -> None:
        was_paused, self.paused = self.paused, False
        self.tick()
        self.paused = was_paused

    def action_next_window(self) -> None:
        index = WINDOWS_S.index(self.window_s) if self.window_s in WINDOWS_S else 0
        self.window_s = WINDOWS_S[(index + 1) % len(WINDOWS_S)]
        self._redraw()


SCREEN = MetricsScreen
