"""Python's cyclic garbage collector, kept out of the screen's busy moments.

CPython collects whenever allocations pile up, whatever the app is doing. A full collection
walks every tracked object, and the console holds about 200,000 of them once started (Textual,
gRPC, Rich, Pygments). On the 2-core VM the full collections during two pairs of streamed
answers took up to 0.22 s of CPU each, on the screen's only thread, in the middle of the stream
(docs/benchmarks.md, P2). So, while the app runs:

- what start-up built is frozen (``gc.freeze``): later collections never walk it again;
- young and middle collections keep CPython's thresholds: they walk only recent objects (at
  most 7 ms and 19 ms on the 2-core VM; waiting for 10,000 objects instead of 700 made them
  fewer but up to 35 ms and 155 ms long, and what an operator sees is the longest stall);
- full collections no longer start on their own: :class:`QuietCollector` runs one every
  :data:`COLLECT_EVERY_S` seconds, but never while something holds it busy (a streaming
  answer); one that falls due meanwhile runs when the last holder lets go.

Frozen objects that become garbage later, and garbage that was not yet collected when it was
frozen, are only freed when the app exits (``gc.unfreeze``): a bounded, one-time cost, since
freezing happens once at start-up and once after the chat screen's warm-up.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

COLLECT_EVERY_S = 60.0
NEVER = 1_000_000_000  # middle collections between automatic full ones: in effect, never


class QuietCollector:
    """Runs the full collections of one app, when it is not busy."""

    def __init__(self) -> None:
        self._holds = 0
        self._due = False
        self._installed_over: tuple[int, int, int] | None = None
        self.full_collections = 0

    @property
    def installed(self) -> bool:
        return self._installed_over is not None

    def install(self) -> None:
        """Take over from the automatic collector (the app calls this once its screen is up)."""
        if self.installed:
            return
        self._installed_over = young, middle, _full = gc.get_threshold()
        gc.freeze()  # no collection first: a full one here would be the very stall this avoids
        gc.set_threshold(young, middle, NEVER)

    def uninstall(self) -> None:
        """Give collection back to CPython as it was (the app calls this as it exits)."""
        if self._installed_over is None:
            return
        gc.set_threshold(*self._installed_over)
        self._installed_over = None
        gc.unfreeze()

    def settle(self) -> None:
        """Freeze what exists now: for one-time set-up that stays (a screen's warm-up)."""
        if self.installed:
            gc.freeze()

    @contextmanager
    def busy(self) -> Iterator[None]:
        """No full collection inside this block; one that fell due runs when the last ends."""
        self._holds += 1
        try:
            yield
        finally:
            self._holds -= 1
            if self._holds == 0 and self._due:
                self.collect()

    def tick(self) -> None:
        """The periodic timer: collect now if nothing is busy, else once it is not."""
        if self._holds:
            self._due = True
        else:
            self.collect()

    def collect(self) -> None:
        self._due = False
        if self.installed:
            gc.collect()
            self.full_collections += 1


@contextmanager
def busy(app: object) -> Iterator[None]:
    """``app``'s collector held busy, if it has one (a screen hosted by a test app may not)."""
    collector = getattr(app, "quiet_gc", None)
    if collector is None:
        yield
        return
    with collector.busy():
        yield


def settle(app: object) -> None:
    """``app``'s collector freezes what exists now, if it has one."""
    collector = getattr(app, "quiet_gc", None)
    if collector is not None:
        collector.settle()
