"""Helpers for Textual Pilot tests."""

from __future__ import annotations

import asyncio
import time


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
