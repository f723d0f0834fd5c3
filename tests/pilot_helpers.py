"""Helpers for Textual Pilot tests."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator


async def eventually(predicate, timeout=20.0, pause=asyncio.sleep, interval=0.1):
    """Await ``pause(interval)`` until ``predicate()`` holds (or the timeout passes); returns the
    last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pause(interval)
    return predicate()


async def wait_for(pilot, predicate, timeout=20.0):
    """Pause the app until ``predicate()`` holds (or the timeout passes); returns the last value."""
    return await eventually(predicate, timeout, pause=pilot.pause)


@contextlib.contextmanager
def screen_layouts(probe: Callable[[], object] = lambda: None) -> Iterator[list]:
    """The layouts of any screen (``Screen._refresh_layout`` calls) while inside, as a list of
    what ``probe()`` returned at each."""
    from textual.screen import Screen

    layouts: list = []
    original = Screen._refresh_layout

    def counted(screen, *args, **kwargs):  # noqa: ANN001, ANN202 - Screen._refresh_layout's own
        layouts.append(probe())
        return original(screen, *args, **kwargs)

    Screen._refresh_layout = counted
    try:
        yield layouts
    finally:
        Screen._refresh_layout = original


def widget_cells(app, widget) -> list[list[tuple]]:
    """The screen's cells where ``widget`` is, row by row, as (character, colour, background, bold,
    reverse): what the terminal would show there."""
    region = widget.region
    rows = app.screen._compositor.render_strips()[region.y:region.bottom]
    return [[(char, s.style.color, s.style.bgcolor, s.style.bold, s.style.reverse)
             for s in row.crop(region.x, region.right) for char in s.text] for row in rows]
