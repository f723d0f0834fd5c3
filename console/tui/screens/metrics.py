"""The Metrics place (not built yet)."""

from __future__ import annotations

from console.tui.screens.not_built import NotBuiltScreen


class MetricsScreen(NotBuiltScreen):
    PLACE_TITLE = "Metrics"
    WHAT = "GPU power, queue time, TTFT and tokens/s."


SCREEN = MetricsScreen
