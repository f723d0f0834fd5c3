"""Keep scrapes over a time window and derive a reading per poll, for live plots.

Each reading covers the last ``rate_interval_s`` (like Prometheus' ``rate(x[10s])``), which
smooths single polls. Counter resets (a restarted server or pod) are folded in as they are
seen, so an interval that spans a restart still counts what happened before and after it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from console.core.metrics import names
from console.core.metrics.derive import Reading, derive
from console.core.metrics.scrape import Labels, Scrape
from console.core.metrics.sources import MetricsSource

_COUNTERS = names.counters()


class ResetCorrector:
    """Makes counters monotonic across restarts: after a drop, add what was there before."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, Labels], float] = {}
        self._offset: dict[tuple[str, Labels], float] = {}

    def correct(self, scrape: Scrape) -> Scrape:
        restarted_groups = set()
        for name, series in scrape.samples.items():
            if name.endswith("_count") and name in _COUNTERS:
                base = name.removesuffix("_count")
                for labels, value in series.items():
                    if value < self._last.get((name, labels), 0.0):
                        restarted_groups.add((base, labels))
        out: dict[str, dict[Labels, float]] = {}
        for name, series in scrape.samples.items():
            if name not in _COUNTERS:
                out[name] = series
                continue
            fixed = {}
            for labels, value in series.items():
                key = (name, labels)
                last = self._last.get(key)
                if last is not None and (value < last or self._in_restarted(name, labels, restarted_groups)):
                    self._offset[key] = self._offset.get(key, 0.0) + last
                self._last[key] = value
                fixed[labels] = value + self._offset.get(key, 0.0)
            out[name] = fixed
        return Scrape(t=scrape.t, samples=out)

    @staticmethod
    def _in_restarted(name: str, labels: Labels, groups: set) -> bool:
        for suffix in ("_bucket", "_sum"):
            if name.endswith(suffix):
                base = name.removesuffix(suffix)
                group = tuple(kv for kv in labels if kv[0] != "le")
                return (base, group) in groups
        return False


class MetricsSampler:
    """Polls a source; keeps the window's readings (oldest first) for plots."""

    def __init__(self, source: MetricsSource, window_s: float = 300.0, rate_interval_s: float = 10.0) -> None:
        self.source = source
        self.window_s = window_s
        self.rate_interval_s = max(rate_interval_s, getattr(source, "min_rate_interval_s", 0.0))
        self.readings: deque[Reading] = deque()
        self._scrapes: deque[Scrape] = deque()
        self._corrector = ResetCorrector()

    @property
    def latest(self) -> Reading | None:
        return self.readings[-1] if self.readings else None

    def poll(self) -> Reading:
        """Fetch one scrape (raises MetricsError) and return the reading it gives."""
        return self.add(self.source.fetch())

    def backfill(self, step_s: float = 5.0) -> int:
        """Fill the window from the source's history when it has one (Prometheus); returns how many."""
        fetch_range = getattr(self.source, "fetch_range", None)
        if fetch_range is None:
            return 0
        end = time.time()
        scrapes = fetch_range(end - self.window_s, end, step_s)
        for scrape in scrapes:
            self.add(scrape)
        return len(scrapes)

    def add(self, scrape: Scrape) -> Reading:
        if self._scrapes and scrape.t <= self._scrapes[-1].t:
            return self.readings[-1]  # not newer than what we have: nothing new
        scrape = self._corrector.correct(scrape)
        older = None
        for candidate in self._scrapes:  # the newest scrape at least rate_interval_s old, else the oldest
            if candidate.t <= scrape.t - self.rate_interval_s or older is None:
                older = candidate
        self._scrapes.append(scrape)
        reading = derive(scrape, older)
        self.readings.append(reading)
        self._trim(scrape.t)
        return reading

    def _trim(self, now: float) -> None:
        # only the scrapes a later reading can still compare with: one at least rate_interval_s old
        while len(self._scrapes) > 1 and self._scrapes[1].t <= now - self.rate_interval_s:
            self._scrapes.popleft()
        while self.readings and self.readings[0].t < now - self.window_s:
            self.readings.popleft()


def snapshot(source: MetricsSource, interval_s: float = 1.0, sleep: Callable[[float], None] | None = None) -> Reading:
    """One reading: rates over the last ``interval_s`` (0: only values since the server started).

    Prometheus answers from its history; Triton's endpoint is scraped twice, ``interval_s`` apart.
    """
    if interval_s <= 0:
        return derive(source.fetch())
    fetch_range = getattr(source, "fetch_range", None)
    if fetch_range is not None:
        newest = source.fetch()
        scrapes = fetch_range(newest.t - interval_s, newest.t, interval_s)
        older = next((s for s in scrapes if s.t < newest.t), None)
        return derive(newest, older)
    older = source.fetch()
    (sleep or time.sleep)(interval_s)
    return derive(source.fetch(), older)
