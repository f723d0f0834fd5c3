"""Turn two scrapes into a :class:`Reading`: rates, per-request times, latency quantiles, GPU gauges.

Counters are cumulative since the server started, so everything per interval comes from the
increase between an older and a newer scrape. A counter that went down means the server (or a
pod) restarted: the increase is then the new value, counted from zero, as Prometheus' rate()
does. A series missing from the older scrape started at zero after it. Without an older
scrape, values are since the server started and rates are ``None``.

Anything the server does not export stays ``None`` (or an empty GPU list): absent, never zero.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from console.core.metrics import names as n
from console.core.metrics.scrape import Labels, Scrape

QUANTILES = (0.5, 0.9, 0.99)


@dataclass(frozen=True)
class Latency:
    """Observations of one histogram over the interval: how many, their mean, and quantiles."""

    count: float
    mean_s: float | None
    p50_s: float | None
    p90_s: float | None
    p99_s: float | None


@dataclass(frozen=True)
class ModelReading:
    model: str
    requests_ok: float | None  # successful requests in the interval (or since start)
    requests_failed: float | None
    success_per_s: float | None  # None without an interval
    failure_per_s: float | None
    queue_ms_per_request: float | None
    compute_ms_per_request: float | None  # input + infer + output
    pending: float | None  # Triton's pending requests (gauge)
    ttft: Latency | None  # model.py histograms
    tpot: Latency | None
    e2e: Latency | None
    prompt_tokens: float | None
    generation_tokens: float | None
    generation_tokens_per_s: float | None
    running: float | None  # model.py gauges
    waiting: float | None


@dataclass(frozen=True)
class GpuReading:
    gpu: str  # gpu_uuid
    where: str  # pod (or scrape instance) when the source knows it, else ""
    power_w: float | None
    power_limit_w: float | None
    utilization: float | None  # 0.0-1.0
    memory_used_bytes: float | None
    memory_total_bytes: float | None


@dataclass(frozen=True)
class Reading:
    t: float  # unix time of the newer scrape
    interval_s: float | None  # None: values are since the server started
    models: tuple[ModelReading, ...]
    gpus: tuple[GpuReading, ...]  # empty: the server exports no GPU metrics

    @property
    def has_gpu(self) -> bool:
        return bool(self.gpus)

    @property
    def total_power_w(self) -> float | None:
        values = [g.power_w for g in self.gpus if g.power_w is not None]
        return sum(values) if values else None

    @property
    def total_generation_tokens_per_s(self) -> float | None:
        values = [m.generation_tokens_per_s for m in self.models if m.generation_tokens_per_s is not None]
        return sum(values) if values else None

    def model(self, name: str) -> ModelReading | None:
        return next((m for m in self.models if m.model == name), None)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["has_gpu"] = self.has_gpu
        data["total_power_w"] = self.total_power_w
        data["total_generation_tokens_per_s"] = self.total_generation_tokens_per_s
        return data


def counter_increase(older: Scrape | None, newer: Scrape, name: str) -> dict[Labels, float]:
    """Per series increase of a counter (a drop is a restart from zero)."""
    out: dict[Labels, float] = {}
    before = older.series(name) if older is not None else {}
    for labels, value in newer.series(name).items():
        prev = before.get(labels)
        out[labels] = value if prev is None or value < prev else value - prev
    return out


def sum_by(values: dict[Labels, float], label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for labels, value in values.items():
        key = dict(labels).get(label, "")
        out[key] = out.get(key, 0.0) + value
    return out


def histogram_increase(older: Scrape | None, newer: Scrape, base: str) -> dict[str, tuple[dict[float, float], float, float]]:
    """Per model: (cumulative bucket counts by upper bound, sum, count) gained in the interval.

    A series whose ``_count`` went down restarted: all of its buckets count from zero.
    """
    counts_new = newer.series(f"{base}_count")
    counts_old = older.series(f"{base}_count") if older is not None else {}
    restarted = {labels for labels, value in counts_new.items() if labels in counts_old and value < counts_old[labels]}

    def gained(suffix: str) -> dict[Labels, float]:
        inc = counter_increase(older, newer, f"{base}{suffix}")
        new = newer.series(f"{base}{suffix}")
        for labels in inc:
            if tuple(kv for kv in labels if kv[0] != "le") in restarted:
                inc[labels] = new[labels]
        return inc

    out: dict[str, tuple[dict[float, float], float, float]] = {}
    sums = sum_by(gained("_sum"), "model")
    counts = sum_by(gained("_count"), "model")
    buckets: dict[str, dict[float, float]] = {}
    for labels, value in gained("_bucket").items():
        lab = dict(labels)
        try:
            le = float(lab.get("le", "nan"))
        except ValueError:
            continue
        if math.isnan(le):
            continue
        per_model = buckets.setdefault(lab.get("model", ""), {})
        per_model[le] = per_model.get(le, 0.0) + value
    for model, count in counts.items():
        out[model] = (buckets.get(model, {}), sums.get(model, 0.0), count)
    return out


def bucket_quantile(q: float, buckets: dict[float, float]) -> float | None:
    """The q-quantile from cumulative buckets, interpolated linearly as histogram_quantile() does."""
    if not buckets:
        return None
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total <= 0:
        return None
    rank = q * total
    prev_bound, prev_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if math.isinf(bound):
                finite = [b for b in bounds if not math.isinf(b)]
                return finite[-1] if finite else None
            if count == prev_count:
                return bound
            lower = prev_bound if prev_bound < bound else 0.0
            return lower + (bound - lower) * (rank - prev_count) / (count - prev_count)
        prev_bound, prev_count = bound, count
    return None


def _latency(entry: tuple[dict[float, float], float, float] | None) -> Latency | None:
    if entry is None:
        return None
    buckets, total, count = entry
    if count <= 0:
        return Latency(count=0.0, mean_s=None, p50_s=None, p90_s=None, p99_s=None)
    p50, p90, p99 = (bucket_quantile(q, buckets) for q in QUANTILES)
    return Latency(count=count, mean_s=total / count, p50_s=p50, p90_s=p90, p99_s=p99)


def _ratio(num: float | None, den: float | None, scale: float = 1.0) -> float | None:
    if num is None or den is None or den <= 0:
        return None
    return num / den * scale


def _gauge_by(scrape: Scrape, name: str, label: str) -> dict[str, float]:
    return sum_by(scrape.series(name), label) if scrape.has(name) else {}


def derive(newer: Scrape, older: Scrape | None = None) -> Reading:
    """A reading over the interval ``older.t .. newer.t`` (or since start when ``older`` is None)."""
    interval = newer.t - older.t if older is not None else None
    if interval is not None and interval <= 0:
        raise ValueError("the older scrape must come first")

    def counter(name: str) -> dict[str, float] | None:
        return sum_by(counter_increase(older, newer, name), "model") if newer.has(name) else None

    ok, failed = counter(n.REQUEST_SUCCESS), counter(n.REQUEST_FAILURE)
    queue = counter(n.QUEUE_DURATION_US)
    compute_parts = [counter(name) for name in n.COMPUTE_US]
    prompt, generated = counter(n.PROMPT_TOKENS), counter(n.GENERATION_TOKENS)
    hist = {base: histogram_increase(older, newer, base) if newer.has(f"{base}_count") else None for base in n.HISTOGRAMS}
    pending = _gauge_by(newer, n.PENDING_REQUESTS, "model")
    running = _gauge_by(newer, n.REQUESTS_RUNNING, "model")
    waiting = _gauge_by(newer, n.REQUESTS_WAITING, "model")

    models: set[str] = set()
    for per_model in (ok, failed, prompt, generated, pending, running, waiting, *hist.values()):
        models.update(per_model or {})
    models.discard("")

    def get(per_model: dict | None, model: str):
        return None if per_model is None else per_model.get(model)

    readings = []
    for model in sorted(models):
        model_ok = get(ok, model)
        compute = None
        if all(part is not None and model in part for part in compute_parts):
            compute = sum(part[model] for part in compute_parts)  # type: ignore[index]
        gen = get(generated, model)
        readings.append(
            ModelReading(
                model=model,
                requests_ok=model_ok,
                requests_failed=get(failed, model),
                success_per_s=_ratio(model_ok, interval),
                failure_per_s=_ratio(get(failed, model), interval),
                queue_ms_per_request=_ratio(get(queue, model), model_ok, 1e-3),
                compute_ms_per_request=_ratio(compute, model_ok, 1e-3),
                pending=pending.get(model),
                ttft=_latency(get(hist[n.TTFT_S], model)),
                tpot=_latency(get(hist[n.TPOT_S], model)),
                e2e=_latency(get(hist[n.E2E_S], model)),
                prompt_tokens=get(prompt, model),
                generation_tokens=gen,
                generation_tokens_per_s=_ratio(gen, interval),
                running=running.get(model),
                waiting=waiting.get(model),
            )
        )
    return Reading(t=newer.t, interval_s=interval, models=tuple(readings), gpus=_gpus(newer))


def _gpus(scrape: Scrape) -> tuple[GpuReading, ...]:
    fields = {
        "power_w": n.GPU_POWER_W,
        "power_limit_w": n.GPU_POWER_LIMIT_W,
        "utilization": n.GPU_UTILIZATION,
        "memory_used_bytes": n.GPU_MEMORY_USED,
        "memory_total_bytes": n.GPU_MEMORY_TOTAL,
    }
    values: dict[tuple[str, str], dict[str, float]] = {}
    for field_name, metric in fields.items():
        for labels, value in scrape.series(metric).items():
            lab = dict(labels)
            key = (lab.get("gpu_uuid", "gpu"), lab.get("pod") or lab.get("instance", ""))
            values.setdefault(key, {})[field_name] = value
    return tuple(
        GpuReading(gpu=gpu, where=where, **{f: got.get(f) for f in fields})  # type: ignore[arg-type]
        for (gpu, where), got in sorted(values.items())
    )
