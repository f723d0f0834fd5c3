"""One scrape of a metrics source: every sample by its full name, with labels and a timestamp."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs: hashable, order-free


class MetricsError(Exception):
    """A metrics source cannot be read or parsed; the message says which and why."""


def labels_of(mapping: dict[str, str]) -> Labels:
    return tuple(sorted(mapping.items()))


@dataclass(frozen=True)
class Scrape:
    """Samples of one scrape: ``samples[name][labels] = value`` (histograms as ``_bucket`` etc.)."""

    t: float  # unix time of the scrape
    samples: dict[str, dict[Labels, float]] = field(default_factory=dict)

    def series(self, name: str) -> dict[Labels, float]:
        return self.samples.get(name, {})

    def has(self, name: str) -> bool:
        return bool(self.samples.get(name))

    def names(self) -> set[str]:
        return {name for name, series in self.samples.items() if series}


def parse_text(text: str, t: float) -> Scrape:
    """Parse Prometheus text exposition (what Triton's /metrics serves) with prometheus_client."""
    from prometheus_client.parser import text_string_to_metric_families

    declared = _declared_counters(text)
    samples: dict[str, dict[Labels, float]] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if math.isnan(sample.value):
                    continue
                name = sample.name
                # The parser appends "_total" to counters declared without it
                # (nv_inference_request_success); keep the name the server exports.
                if family.type == "counter" and name not in declared and name.removesuffix("_total") in declared:
                    name = name.removesuffix("_total")
                samples.setdefault(name, {})[labels_of(sample.labels)] = float(sample.value)
    except ValueError as exc:  # the parser raises ValueError for malformed lines
        raise MetricsError(f"not a Prometheus metrics page: {exc}") from None
    return Scrape(t=t, samples=samples)


def _declared_counters(text: str) -> set[str]:
    """Names on ``# TYPE <name> counter`` lines, exactly as the server wrote them."""
    names = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[:2] == ["#", "TYPE"] and parts[3] == "counter":
            names.add(parts[2])
    return names
