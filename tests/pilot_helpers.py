"""Helpers for Textual Pilot tests."""

from __future__ import annotations

import time


async def wait_for(pilot, predicate, timeout=20.0):
    """Pause the app until ``predicate()`` holds (or the timeout passes); returns the last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        await pilot.pause(0.1)
    return predicate()
