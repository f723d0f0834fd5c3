"""Where a screen's event loop spends its time: every callback's duration, while recording.

P2's lag is time the chat screen's loop was busy with something else. ``LoopStalls`` times each
asyncio callback (a task step, a Textual timer, a message pump turn) and names it by its
coroutine, so a benchmark can print which kinds took the time and the longest single stalls
with when they happened and how much CPU they got: a stall that got far less CPU than its wall
time is the OS running other processes (the server, the helpers) on a busy machine, not work. Costs about a microsecond per callback; a bench tool, not for the app.
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

    CPU_NOTE_S = 0.010  # callbacks longer than this also note the CPU time they got

    def __init__(self) -> None:
        self.records: list[tuple[float, float, str]] = []
        # record index -> this thread's CPU seconds in that callback: far less than its wall time
        # means the process was waiting for a CPU (other processes), not working
        self.cpu: dict[int, float] = {}
        self.cpu_total = 0.0  # this thread's CPU seconds while recording
        self._cpu_at_enter = 0.0
        self._original = asyncio.events.Handle._run

    def __enter__(self) -> LoopStalls:
        original, records = self._original, self.records
        self._cpu_at_enter = time.thread_time()

        def timed_run(handle: asyncio.events.Handle) -> None:
            start, cpu = time.perf_counter(), time.thread_time()
            try:
                original(handle)
            finally:
                seconds = time.perf_counter() - start
                records.append((start, seconds, callback_name(handle._callback)))
                if seconds > self.CPU_NOTE_S:
                    self.cpu[len(records) - 1] = time.thread_time() - cpu

        asyncio.events.Handle._run = timed_run  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self.cpu_total += time.thread_time() - self._cpu_at_enter
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
        lines = [f"loop busy {self.busy:.2f} s of {self.span:.2f} s (the loop's thread got {self.cpu_total:.2f} s of CPU), "
                 f"{len(self.records)} callbacks"]
        for name, times in sorted(kinds.items(), key=lambda kv: -sum(kv[1]))[:top]:
            lines.append(f"  {sum(times) * 1000:8.1f} ms in {len(times):5d} calls, longest {max(times) * 1000:6.1f} ms: {name}")
        longest = sorted(range(len(self.records)), key=lambda i: -self.records[i][1])[:top]
        lines.append("  longest (wall ms, CPU ms): " + ", ".join(self._stall(i, first) for i in longest))
        return lines

    def _stall(self, index: int, first: float) -> str:
        start, seconds, name = self.records[index]
        cpu = self.cpu.get(index)
        got = "" if cpu is None else f" ({cpu * 1000:.0f} CPU)"
        return f"{seconds * 1000:.0f} ms{got} at +{(start - first) * 1000:.0f} {name}"
