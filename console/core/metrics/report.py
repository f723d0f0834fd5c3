"""Human-readable numbers and the text form of a reading (what `triton-console metrics` prints)."""

from __future__ import annotations

from console.core.metrics.derive import Latency, Reading

ABSENT = "—"  # shown for a metric the server does not export (never 0)


def fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return ABSENT
    return f"{value:,.{digits}f}{(' ' + unit) if unit else ''}"


def fmt_bytes(value: float | None) -> str:
    if value is None:
        return ABSENT
    for unit, size in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(value) >= size:
            return f"{value / size:,.1f} {unit}"
    return f"{value:,.0f} B"


def fmt_latency(latency: Latency | None, scale: float = 1e3, unit: str = "ms") -> str:
    if latency is None:
        return ABSENT
    if latency.count <= 0:
        return "no requests"
    parts = [f"mean {fmt(_scaled(latency.mean_s, scale), unit)}"]
    for name, value in (("p50", latency.p50_s), ("p90", latency.p90_s), ("p99", latency.p99_s)):
        parts.append(f"{name} {fmt(_scaled(value, scale), unit)}")
    return f"{', '.join(parts)} (n={latency.count:g})"


def _scaled(value: float | None, scale: float) -> float | None:
    return None if value is None else value * scale


def render_text(reading: Reading, source: str) -> str:
    """A plain-text snapshot: per model, then per GPU; absent metrics say so."""
    span = f"over the last {reading.interval_s:.1f} s" if reading.interval_s else "since the server started"
    lines = [f"source: {source}", f"values {span}", ""]
    if not reading.models:
        lines.append("no model metrics on this server")
    for m in reading.models:
        lines += [
            f"model {m.model}",
            f"  requests ok/failed     {fmt(m.requests_ok, digits=0)} / {fmt(m.requests_failed, digits=0)}"
            + (f"   ({fmt(m.success_per_s, '/s', 2)} ok, {fmt(m.failure_per_s, '/s', 2)} failed)" if reading.interval_s else ""),
            f"  queue per request      {fmt(m.queue_ms_per_request, 'ms', 2)}",
            f"  compute per request    {fmt(m.compute_ms_per_request, 'ms', 2)}",
            f"  pending/running/waiting {fmt(m.pending, digits=0)} / {fmt(m.running, digits=0)} / {fmt(m.waiting, digits=0)}",
            f"  time to first token    {fmt_latency(m.ttft)}",
            f"  time per output token  {fmt_latency(m.tpot)}",
            f"  end-to-end latency     {fmt_latency(m.e2e, 1.0, 's')}",
            f"  tokens prompt/generated {fmt(m.prompt_tokens, digits=0)} / {fmt(m.generation_tokens, digits=0)}"
            + (f"   ({fmt(m.generation_tokens_per_s, 'tok/s')})" if reading.interval_s else ""),
        ]
    lines.append("")
    if not reading.has_gpu:
        lines.append("no GPU metrics on this server")
    else:
        lines.append(f"GPUs: {len(reading.gpus)}, total power {fmt(reading.total_power_w, 'W')}")
        for g in reading.gpus:
            where = f" ({g.where})" if g.where else ""
            util = None if g.utilization is None else g.utilization * 100
            lines.append(
                f"  {g.gpu}{where}: power {fmt(g.power_w, 'W')} of {fmt(g.power_limit_w, 'W', 0)}, "
                f"utilization {fmt(util, '%')}, memory {fmt_bytes(g.memory_used_bytes)} of {fmt_bytes(g.memory_total_bytes)}"
            )
    return "\n".join(lines)
