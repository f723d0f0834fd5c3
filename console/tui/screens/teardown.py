"""The Teardown place (not built yet)."""

from __future__ import annotations

from console.tui.screens.not_built import NotBuiltScreen


class TeardownScreen(NotBuiltScreen):
    PLACE_TITLE = "Teardown"
    WHAT = "A planned, confirmed, verified teardown."


SCREEN = TeardownScreen
