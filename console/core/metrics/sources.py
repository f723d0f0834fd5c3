"""Where scrapes come from: Triton's metrics endpoint, or the cluster's Prometheus HTTP API.

Both give :class:`Scrape` objects with the same sample names, so everything downstream is
source-agnostic. Triton's endpoint is a URL: the local stack's, or the cluster's through the
managed port-forward. Prometheus keeps per-pod series (labels pod, instance); the derivation
sums them per model.
"""

from __future__ import annotations

import base64
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Protocol

from console.core.metrics.scrape import Labels, MetricsError, Scrape, labels_of, parse_text

# Everything the console reads, as one Prometheus series selector.
PROMETHEUS_SELECTOR = '__name__=~"nv_inference_.+|nv_gpu_.+|nv_energy_consumption|vllm:.+"'


class MetricsSource(Protocol):
    label: str  # what the screen shows as "source: ..."
    min_rate_interval_s: float  # shorter rate intervals would compare a sample with itself

    def fetch(self) -> Scrape: ...


def display_url(url: str) -> str:
    """The URL without user:password@ (a Prometheus behind basic auth), for labels and messages."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:  # unparsable: still never show what precedes an "@"
        return url if "@" not in url else "…@" + url.rsplit("@", 1)[1]
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def _http_get(url: str, timeout: float) -> bytes:
    """GET a URL; user:password@ in it becomes HTTP basic auth (a Prometheus behind a proxy)."""
    try:
        request = urllib.request.Request(display_url(url))
        parts = urllib.parse.urlsplit(url)
    except ValueError as exc:
        raise MetricsError(f"{display_url(url)!r}: not a usable URL ({exc})") from None
    if parts.username is not None:
        pair = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        request.add_header("Authorization", "Basic " + base64.b64encode(pair.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read()
    except urllib.error.HTTPError as exc:
        body = exc.read()[:500].decode("utf-8", "replace")
        raise MetricsError(f"{display_url(url)}: HTTP {exc.code} {exc.reason}: {body.strip()}") from None
    except urllib.error.URLError as exc:
        raise MetricsError(f"{display_url(url)}: cannot connect ({exc.reason})") from None
    except (TimeoutError, OSError) as exc:
        raise MetricsError(f"{display_url(url)}: {exc or type(exc).__name__}") from None
    except (ValueError, http.client.HTTPException) as exc:  # InvalidURL, a garbled answer, ...
        raise MetricsError(f"{display_url(url)}: not a usable URL ({exc})") from None


@dataclass
class TritonMetricsSource:
    """Triton's Prometheus text page (``http://host:8002/metrics``, or a saved page as ``file:PATH``)."""

    url: str
    timeout_s: float = 5.0
    min_rate_interval_s: float = 0.0  # every fetch reads Triton's live counters

    def __post_init__(self) -> None:
        if self.url.startswith("file:"):
            return
        if "://" not in self.url:
            self.url = f"http://{self.url}"
        try:
            path = urllib.parse.urlsplit(self.url).path
        except ValueError as exc:
            raise MetricsError(f"{display_url(self.url)!r}: not a usable URL ({exc})") from None
        if path in ("", "/"):
            self.url = self.url.rstrip("/") + "/metrics"

    @property
    def label(self) -> str:
        return f"triton {display_url(self.url)}"

    def fetch(self) -> Scrape:
        body = _http_get(self.url, self.timeout_s)
        return parse_text(body.decode("utf-8", "replace"), time.time())


@dataclass
class PrometheusSource:
    """The Prometheus HTTP API (``/api/v1/query``, ``/api/v1/query_range``).

    ``matchers`` narrows the series, e.g. ``namespace="triton-vllm"``.
    """

    url: str
    matchers: str = ""
    timeout_s: float = 10.0
    # Prometheus scrapes every 15-30 s: a shorter interval would often see no change at all
    min_rate_interval_s: float = 60.0

    def __post_init__(self) -> None:
        if "://" not in self.url:
            self.url = f"http://{self.url}"
        self.url = self.url.rstrip("/")

    @property
    def label(self) -> str:
        return f"prometheus {display_url(self.url)}"

    @property
    def query(self) -> str:
        extra = f",{self.matchers}" if self.matchers else ""
        return "{" + PROMETHEUS_SELECTOR + extra + "}"

    def _api(self, path: str, params: dict[str, str]) -> dict:
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            body = _http_get(url, self.timeout_s)
        except MetricsError as exc:
            raise MetricsError(f"prometheus: {exc}") from None
        try:
            data = json.loads(body)
        except ValueError:
            raise MetricsError(f"prometheus {display_url(url)}: answer is not JSON") from None
        if not isinstance(data, dict) or data.get("status") != "success":
            error = data.get("error", "unknown error") if isinstance(data, dict) else "unexpected answer"
            raise MetricsError(f"prometheus {path}: {error}")
        return data.get("data") or {}

    def reachable(self) -> bool:
        try:
            self._api("/api/v1/query", {"query": "vector(1)"})
        except MetricsError:
            return False
        return True

    def fetch(self) -> Scrape:
        data = self._api("/api/v1/query", {"query": self.query})
        if data.get("resultType") != "vector":
            raise MetricsError(f"prometheus: expected a vector, got {data.get('resultType')!r}")
        samples: dict[str, dict[Labels, float]] = {}
        t = time.time()
        for item in data.get("result", []):
            name, labels = _split(item.get("metric", {}))
            ts, value = item["value"]
            t = float(ts)
            samples.setdefault(name, {})[labels] = float(value)
        return Scrape(t=t, samples=samples)

    def fetch_range(self, start: float, end: float, step_s: float) -> list[Scrape]:
        """Scrapes at each step of ``start..end`` (to fill a window before live polling)."""
        data = self._api(
            "/api/v1/query_range",
            {"query": self.query, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step_s:g}"},
        )
        if data.get("resultType") != "matrix":
            raise MetricsError(f"prometheus: expected a matrix, got {data.get('resultType')!r}")
        by_time: dict[float, dict[str, dict[Labels, float]]] = {}
        for item in data.get("result", []):
            name, labels = _split(item.get("metric", {}))
            for ts, value in item.get("values", []):
                by_time.setdefault(float(ts), {}).setdefault(name, {})[labels] = float(value)
        return [Scrape(t=ts, samples=by_time[ts]) for ts in sorted(by_time)]


def _split(metric: dict[str, str]) -> tuple[str, Labels]:
    labels = dict(metric)
    name = labels.pop("__name__", "")
    if not name:
        raise MetricsError("prometheus: a series without a metric name")
    return name, labels_of(labels)


def choose_source(metrics_url: str, prometheus_url: str = "", matchers: str = "") -> MetricsSource:
    """Prometheus when one is configured and answers, else Triton's endpoint."""
    if prometheus_url:
        prometheus = PrometheusSource(prometheus_url, matchers)
        if prometheus.reachable():
            return prometheus
    return TritonMetricsSource(metrics_url)
