"""The serving-metrics panels, defined once: what the Metrics place plots per reading and what
the Grafana dashboard queries. Keeping both here is what makes them the same panels.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from console.core.metrics import names as n
from console.core.metrics.derive import GpuReading, Latency, Reading

NO_GPU = "no GPU metrics on this server"
NO_MODEL_METRICS = "this server exports no generation metrics (model.py vllm:* metrics)"


@dataclass(frozen=True)
class Query:
    expr: str  # PromQL for Grafana
    legend: str  # Grafana legendFormat


@dataclass(frozen=True)
class Panel:
    id: str
    title: str
    unit: str  # shown in the console
    grafana_unit: str
    values: Callable[[Reading], dict[str, float | None]]  # series name -> value in this reading
    absent: str  # what to say when no reading has any value
    queries: tuple[Query, ...]
    gauges: bool = False  # values are instantaneous (plotted from the first poll on)


def _gpu_name(gpu: GpuReading) -> str:
    short = gpu.gpu.removeprefix("GPU-")[:8]
    return f"{gpu.where}/{short}" if gpu.where else f"gpu {short}"


def _gpu_power(r: Reading) -> dict[str, float | None]:
    values = {_gpu_name(g): g.power_w for g in r.gpus}
    if len(r.gpus) > 1:
        values["total"] = r.total_power_w
    return values


def _gpu_memory(r: Reading) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    for g in r.gpus:
        name = _gpu_name(g)
        values[f"{name} used"] = None if g.memory_used_bytes is None else g.memory_used_bytes / 2**30
        values[f"{name} total"] = None if g.memory_total_bytes is None else g.memory_total_bytes / 2**30
    return values


def _mean_ms(latency: Latency | None) -> float | None:
    return None if latency is None or latency.mean_s is None else latency.mean_s * 1e3


def _per_model(r: Reading, pick: Callable, exported: Callable) -> dict[str, float | None]:
    """Per model that exports the metric (``exported(m)``): absent models get no series at all."""
    return {m.model: pick(m) for m in r.models if exported(m)}


SUM_BY_MODEL = "sum by (model)"
RATE = "[$__rate_interval]"

PANELS: tuple[Panel, ...] = (
    Panel(
        "gpu-power", "GPU power", "W", "watt", _gpu_power, NO_GPU,
        (Query(f"sum by (pod, gpu_uuid) ({n.GPU_POWER_W})", "{{pod}} {{gpu_uuid}}"),
         Query(f"sum({n.GPU_POWER_W})", "total")),
        gauges=True,
    ),
    Panel(
        "gpu-utilization", "GPU utilization", "%", "percent",
        lambda r: {_gpu_name(g): None if g.utilization is None else g.utilization * 100 for g in r.gpus}, NO_GPU,
        (Query(f"100 * avg by (pod, gpu_uuid) ({n.GPU_UTILIZATION})", "{{pod}} {{gpu_uuid}}"),),
        gauges=True,
    ),
    Panel(
        "gpu-memory", "GPU memory", "GiB", "bytes", _gpu_memory, NO_GPU,
        (Query(f"sum by (pod, gpu_uuid) ({n.GPU_MEMORY_USED})", "{{pod}} {{gpu_uuid}} used"),
         Query(f"sum by (pod, gpu_uuid) ({n.GPU_MEMORY_TOTAL})", "{{pod}} {{gpu_uuid}} total")),
        gauges=True,
    ),
    Panel(
        "requests", "Requests per second", "req/s", "reqps",
        lambda r: {
            **{f"{m.model} ok": m.success_per_s for m in r.models if m.requests_ok is not None},
            **{f"{m.model} failed": m.failure_per_s for m in r.models if m.requests_failed is not None},
        },
        "no request metrics on this server",
        (Query(f"{SUM_BY_MODEL} (rate({n.REQUEST_SUCCESS}{RATE}))", "{{model}} ok"),
         Query(f"{SUM_BY_MODEL} (rate({n.REQUEST_FAILURE}{RATE}))", "{{model}} failed")),
    ),
    Panel(
        "queue-compute", "Queue and compute time per request", "ms", "ms",
        lambda r: {
            **{f"{m.model} queue": m.queue_ms_per_request for m in r.models if m.requests_ok is not None},
            **{f"{m.model} compute": m.compute_ms_per_request for m in r.models if m.requests_ok is not None},
        },
        "no request metrics on this server",
        (Query(f"{SUM_BY_MODEL} (rate({n.QUEUE_DURATION_US}{RATE})) / {SUM_BY_MODEL} (rate({n.REQUEST_SUCCESS}{RATE})) / 1000", "{{model}} queue"),
         Query(
             f"({SUM_BY_MODEL} (rate({n.COMPUTE_INPUT_US}{RATE})) + {SUM_BY_MODEL} (rate({n.COMPUTE_INFER_US}{RATE}))"
             f" + {SUM_BY_MODEL} (rate({n.COMPUTE_OUTPUT_US}{RATE}))) / {SUM_BY_MODEL} (rate({n.REQUEST_SUCCESS}{RATE})) / 1000",
             "{{model}} compute")),
    ),
    Panel(
        "ttft", "Time to first token", "ms", "ms", lambda r: _per_model(r, lambda m: _mean_ms(m.ttft), lambda m: m.ttft is not None), NO_MODEL_METRICS,
        (Query(f"1000 * {SUM_BY_MODEL} (rate({n.TTFT_S}_sum{RATE})) / {SUM_BY_MODEL} (rate({n.TTFT_S}_count{RATE}))", "{{model}} mean"),
         Query(f"1000 * histogram_quantile(0.9, sum by (model, le) (rate({n.TTFT_S}_bucket{RATE})))", "{{model}} p90")),
    ),
    Panel(
        "tpot", "Time per output token", "ms", "ms", lambda r: _per_model(r, lambda m: _mean_ms(m.tpot), lambda m: m.tpot is not None), NO_MODEL_METRICS,
        (Query(f"1000 * {SUM_BY_MODEL} (rate({n.TPOT_S}_sum{RATE})) / {SUM_BY_MODEL} (rate({n.TPOT_S}_count{RATE}))", "{{model}} mean"),
         Query(f"1000 * histogram_quantile(0.9, sum by (model, le) (rate({n.TPOT_S}_bucket{RATE})))", "{{model}} p90")),
    ),
    Panel(
        "tokens", "Tokens per second generated", "tok/s", "short",
        lambda r: {
            **_per_model(r, lambda m: m.generation_tokens_per_s, lambda m: m.generation_tokens is not None),
            **({"total": r.total_generation_tokens_per_s} if sum(m.generation_tokens is not None for m in r.models) > 1 else {}),
        },
        NO_MODEL_METRICS,
        (Query(f"{SUM_BY_MODEL} (rate({n.GENERATION_TOKENS}{RATE}))", "{{model}}"),
         Query(f"sum(rate({n.GENERATION_TOKENS}{RATE}))", "total")),
    ),
)


def panel(panel_id: str) -> Panel:
    return next(p for p in PANELS if p.id == panel_id)


def window_series(readings, spec: Panel) -> dict[str, tuple[list[float], list[float]]]:
    """Per series name: (seconds relative to the latest reading, values), absent points skipped.

    A reading without an interval (the first poll) has no rates, so only gauge panels use it.
    """
    readings = list(readings)
    if not readings:
        return {}
    now = readings[-1].t
    out: dict[str, tuple[list[float], list[float]]] = {}
    for reading in readings:
        if reading.interval_s is None and not spec.gauges:
            continue
        for name, y in spec.values(reading).items():
            if y is None:
                continue
            xs, ys = out.setdefault(name, ([], []))
            xs.append(reading.t - now)
            ys.append(y)
    return out
