"""One serving-metrics panel: a title with the latest values, and a live plot over the window.

It renders a core :class:`~console.core.metrics.panels.Panel` over the sampler's readings.
A metric the server does not export is shown as a sentence saying so, never as a zero line.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from console.core.metrics.derive import Reading
from console.core.metrics.panels import Panel, window_series
from console.core.metrics.report import fmt

WAITING_FOR_RATES = "collecting: rates need a second poll"


class MetricPanel(Vertical):
    """A bordered panel; ``show(readings, window_s)`` redraws it."""

    def __init__(self, spec: Panel) -> None:
        super().__init__(id=f"panel-{spec.id}", classes="metric-panel")
        self.spec = spec
        self.border_title = f"{spec.title} ({spec.unit})"
        self.absent_text: str | None = None  # what the panel says instead of a plot, if anything

    def compose(self) -> ComposeResult:
        yield Static("", classes="panel-values")
        yield PlotextPlot(classes="panel-plot")
        yield Static("", classes="panel-absent")

    def show(self, readings: Sequence[Reading], window_s: float) -> None:
        latest = readings[-1] if readings else None
        recent = [r for r in readings if latest is not None and r.t >= latest.t - window_s]
        series = window_series(recent, self.spec)
        values_now = self.spec.values(latest) if latest is not None else {}
        if series:
            self.absent_text = None
        elif latest is None:
            self.absent_text = "waiting for the first poll"
        elif not values_now:
            self.absent_text = self.spec.absent  # the server does not export these metrics
        elif not self.spec.gauges and len(readings) < 2:
            self.absent_text = WAITING_FOR_RATES
        else:
            self.absent_text = "no requests in the window"
        self.set_class(self.absent_text is not None, "-absent")
        self.query_one(".panel-absent", Static).update(self.absent_text or "")
        no_rates_yet = latest is not None and latest.interval_s is None and not self.spec.gauges
        self.query_one(".panel-values", Static).update("" if no_rates_yet else self._values_line(values_now))
        plot = self.query_one(PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        if series:
            for name, (xs, ys) in sorted(series.items()):
                plt.plot(xs, ys, label=name, marker="braille")
            plt.xlim(-window_s, 0)
            plt.xlabel("seconds ago")
        plot.refresh()

    def _values_line(self, values: dict[str, float | None]) -> str:
        if not values:
            return ""
        digits = 0 if self.spec.unit in ("W", "%") else 2 if self.spec.unit != "GiB" else 1
        return "  ".join(f"{escape(name)} [b]{fmt(v, self.spec.unit, digits)}[/b]" for name, v in values.items())
