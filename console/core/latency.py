"""Latency metrics with genai-perf's definitions, computed from one request's timestamps.

TTFT = first token - request sent; e2e = last response - request sent;
ITL (inter-token latency) = (e2e - TTFT) / (output tokens - 1); per-request output tokens/s =
output tokens / e2e. Aggregates (requests/s, output tokens/s) divide by the wall-clock span of
the whole run (first send to last finish), never by a sum of overlapping request times.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Iterable, Sequence

PERCENTILES = (50, 90, 99)


@dataclass(frozen=True)
class RequestTiming:
    """One request's clock readings (time.monotonic seconds) and outcome."""

    t_start: float
    t_first: float | None
    t_end: float
    output_tokens: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def ttft(self) -> float | None:
        return None if self.t_first is None else self.t_first - self.t_start

    @property
    def e2e(self) -> float:
        return self.t_end - self.t_start

    @property
    def itl(self) -> float | None:
        """None for fewer than two tokens: there is no interval to measure."""
        if self.ttft is None or self.output_tokens < 2:
            return None
        return (self.e2e - self.ttft) / (self.output_tokens - 1)

    @property
    def tokens_per_s(self) -> float | None:
        return self.output_tokens / self.e2e if self.e2e > 0 and self.output_tokens else None


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default), None for no data."""
    data = sorted(values)
    if not data:
        return None
    rank = (len(data) - 1) * pct / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return data[low] + (data[high] - data[low]) * (rank - low)


@dataclass(frozen=True)
class Distribution:
    count: int
    mean: float | None
    min: float | None
    max: float | None
    p50: float | None
    p90: float | None
    p99: float | None

    @classmethod
    def of(cls, values: Iterable[float | None]) -> Distribution:
        data = [v for v in values if v is not None]
        if not data:
            return cls(0, None, None, None, None, None, None)
        p50, p90, p99 = (percentile(data, p) for p in PERCENTILES)
        return cls(len(data), sum(data) / len(data), min(data), max(data), p50, p90, p99)


@dataclass(frozen=True)
class Summary:
    """A run of requests: counts, latency distributions (seconds), throughput."""

    requests: int
    failures: int
    duration_s: float
    ttft: Distribution
    itl: Distribution
    e2e: Distribution
    output_tokens: int
    requests_per_s: float
    output_tokens_per_s: float
    per_request_tokens_per_s: Distribution = field(default_factory=lambda: Distribution.of([]))

    @classmethod
    def of(cls, timings: Sequence[RequestTiming]) -> Summary:
        ok = [t for t in timings if t.ok]
        span = (max(t.t_end for t in timings) - min(t.t_start for t in timings)) if timings else 0.0
        tokens = sum(t.output_tokens for t in ok)
        return cls(
            requests=len(timings),
            failures=len(timings) - len(ok),
            duration_s=span,
            ttft=Distribution.of(t.ttft for t in ok),
            itl=Distribution.of(t.itl for t in ok),
            e2e=Distribution.of(t.e2e for t in ok),
            output_tokens=tokens,
            requests_per_s=len(ok) / span if span > 0 else 0.0,
            output_tokens_per_s=tokens / span if span > 0 else 0.0,
            per_request_tokens_per_s=Distribution.of(t.tokens_per_s for t in ok),
        )

    def as_dict(self) -> dict:
        return asdict(self)


def ms(seconds: float | None, digits: int = 1) -> str:
    """Seconds as a millisecond string for tables, '—' when unknown."""
    return "—" if seconds is None else f"{seconds * 1000:.{digits}f}"
