"""Where a screen's event loop spends its time: every callback's duration, while recording.

P2's lag is time the chat screen's loop was busy with something else. ``LoopStalls`` times each
asyncio callback (a task step, a Textual timer, a message pump turn) and names it by its
coroutine, so a benchmark can print which kinds took the time and the longest single stalls
with when they happened. Costs about a microsecond per callback; a bench tool, not for the app.
"""

from __future__ import annotations

import asyncio.events
import time
from collections import defaultdict
from collections.abc import Callable


def callback_name(callback: Callable) -> str:
    """A task step is named by its coroutine (``Task.__step`` says nothing), else the callable."""
    owner = getattr(callback, "__self__", None)
    if owner is not None and hasattr(owner, "get_coro"):
        coro = owner.get_coro()
        return getattr(coro, "__qualname__", repr(coro))
    return getattr(callback, "__qualname__", repr(callback))


class LoopStalls:
    """A context manager that records ``(start, seconds, name)`` of each loop callback."""

    def __init__(self) -> None:
        self.records: list[tuple[float, float, str]] = []
        self._original = asyncio.events.Handle._run

    def __enter__(self) -> LoopStalls:
        original, records = self._original, self.records

        def timed_run(handle: asyncio.events.Handle) -> None:
            start = time.perf_counter()
            try:
                original(handle)
            finally:
                records.append((start, time.perf_counter() - start, callback_name(handle._callback)))

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.events.Handle._run = self._original  # type: ignore[method-assign]

    @property
    def span(self) -> float:
        """Seconds from the first recorded callback's start to the last one's end."""
        return self.records[-1][0] + self.records[-1][1] - self.records[0][0]

    @property
    def busy(self) -> float:
        """Seconds spent in recorded callbacks."""
        return sum(seconds for _start, seconds, _name in self.records)

    def report(self, top: int = 10) -> list[str]:
        """Lines: busy time, the kinds of callback that took the most, the longest single ones
        (with their start, in ms after the first record)."""
        if not self.records:
            return ["no callbacks recorded"]
        first = self.records[0][0]
        kinds: dict[str, list[float]] = defaultdict(list)
        for _start, seconds, name in self.records:
            kinds[name].append(seconds)
        lines = [f"loop busy {self.busy:.2f} s of {self.span:.2f} s, {len(self.records)} callbacks"]
        for name, times in sorted(kinds.items(), key=lambda kv: -sum(kv[1]))[:top]:
            lines.append(f"  {sum(times) * 1000:8.1f} ms in {len(times):5d} calls, longest {max(times) * 1000:6.1f} ms: {name}")
        longest = sorted(self.records, key=lambda r: -r[1])[:top]
        lines.append("  longest: " + ", ".join(f"{s * 1000:.0f} ms at +{(t - first) * 1000:.0f} ({n})" for t, s, n in longest))
        return lines
