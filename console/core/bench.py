"""A concurrency sweep: for each level, a closed loop of N clients, genai-perf metrics per level.

At concurrency C, C workers each send a request, wait for its last token, and send the next,
until the level's request count is reached (genai-perf's "concurrency" load mode). Each worker
sends its requests on one gRPC stream of its own (``StreamLane``, as perf_analyzer does in
streaming mode), so TTFT does not count opening a stream. A warm-up request per model runs
first and is not counted.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import platform
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Sequence

from console.core.completion import Completion, Sampling, chat_messages, complete
from console.core.latency import Summary, ms

DEFAULT_CONCURRENCY = (1, 4, 16, 64)
DEFAULT_PROMPT = "Explain in three short paragraphs how a Kubernetes HPA decides to add a pod."


def requests_for(concurrency: int, requested: int | None) -> int:
    """Enough requests that every worker sends a few: max(requested or 16, 2 x concurrency)."""
    return max(requested or 16, 2 * concurrency)


@dataclass
class LevelResult:
    model: str
    concurrency: int
    summary: Summary
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        s = self.summary

        def dist(d: Any) -> dict:
            return {k: (None if getattr(d, k) is None else getattr(d, k) * 1000) for k in ("mean", "min", "max", "p50", "p90", "p99")}

        return {
            "model": self.model,
            "concurrency": self.concurrency,
            "requests": s.requests,
            "failures": s.failures,
            "duration_s": s.duration_s,
            "ttft_ms": dist(s.ttft),
            "itl_ms": dist(s.itl),
            "e2e_ms": dist(s.e2e),
            "output_tokens": s.output_tokens,
            "requests_per_s": s.requests_per_s,
            "output_tokens_per_s": s.output_tokens_per_s,
            "errors": self.errors[:5],
        }


async def run_level(client: Any, model: str, concurrency: int, requests: int, prompt: str, sampling: Sampling) -> LevelResult:
    messages = chat_messages(prompt, sampling)
    params = sampling.parameters()
    remaining = requests
    done: list[Completion] = []

    async def worker() -> None:
        nonlocal remaining
        async with client.lane() as lane:  # one stream per worker, as perf_analyzer's streaming mode
            while remaining > 0:
                remaining -= 1
                done.append(await complete(lane, model, messages, params))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    timings = [c.timing for c in done if c.timing is not None]
    errors = sorted({f"{c.error_kind}: {c.error}" for c in done if not c.ok})
    return LevelResult(model, concurrency, Summary.of(timings), errors)


async def sweep(
    client: Any,
    models: Sequence[str],
    concurrencies: Sequence[int] = DEFAULT_CONCURRENCY,
    requests: int | None = None,
    prompt: str = DEFAULT_PROMPT,
    sampling: Sampling = Sampling(),
    warmup: bool = True,
) -> AsyncIterator[LevelResult]:
    """Yield one :class:`LevelResult` per (model, concurrency), as each finishes."""
    for model in models:
        if warmup:
            await complete(client, model, chat_messages(prompt, sampling), sampling.parameters())
        for level in concurrencies:
            yield await run_level(client, model, level, requests_for(level, requests), prompt, sampling)


def report_json(url: str, levels: Sequence[LevelResult], prompt: str, sampling: Sampling, concurrencies: Sequence[int]) -> dict:
    return {
        "kind": "triton-console bench",
        "version": 1,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} {platform.machine()} {platform.system()}",
        "url": url,
        "models": sorted({lv.model for lv in levels}),
        "concurrencies": list(concurrencies),
        "prompt": prompt,
        "sampling": sampling.parameters(),
        "definitions": {
            "ttft": "first token time - request send time",
            "itl": "(e2e - ttft) / (output tokens - 1)",
            "e2e": "last response time - request send time",
            "output_tokens_per_s": "output tokens of the level / wall time of the level",
        },
        "levels": [lv.as_dict() for lv in levels],
    }


def render_table(levels: Sequence[LevelResult]) -> str:
    head = (
        f"{'model':<12}{'conc':>5}{'reqs':>6}{'fail':>5}"
        f"{'TTFT p50':>10}{'p90':>8}{'p99':>8}{'ITL p50':>9}{'p90':>7}{'p99':>7}"
        f"{'e2e p50':>9}{'p99':>9}{'req/s':>8}{'tok/s':>9}"
    )
    rows = [head, "-" * len(head)]
    for lv in levels:
        s = lv.summary
        rows.append(
            f"{lv.model[:12]:<12}{lv.concurrency:>5}{s.requests:>6}{s.failures:>5}"
            f"{ms(s.ttft.p50):>10}{ms(s.ttft.p90):>8}{ms(s.ttft.p99):>8}"
            f"{ms(s.itl.p50, 2):>9}{ms(s.itl.p90, 2):>7}{ms(s.itl.p99, 2):>7}"
            f"{ms(s.e2e.p50, 0):>9}{ms(s.e2e.p99, 0):>9}{s.requests_per_s:>8.2f}{s.output_tokens_per_s:>9.1f}"
        )
    rows.append("(latencies in ms; ITL = (e2e - TTFT) / (tokens - 1); tok/s = output tokens / level wall time)")
    return "\n".join(rows)


def render_plot(levels: Sequence[LevelResult], width: int = 80, height: int = 18, color: bool = True) -> str:
    """Output tokens/s and TTFT p50 against concurrency, one line per model (plotext text)."""
    import plotext as plt

    plt.clear_figure()
    plt.plotsize(width, height)
    plt.theme("clear")
    if not color:
        plt.clear_color()
    plt.subplots(1, 2)
    for index, (title, value) in enumerate(
        (("output tokens/s", lambda s: s.output_tokens_per_s), ("TTFT p50 (ms)", lambda s: (s.ttft.p50 or 0) * 1000)), 1
    ):
        plt.subplot(1, index)
        plt.title(title)
        plt.xlabel("concurrency")
        ticks = sorted({lv.concurrency for lv in levels})
        plt.xticks(list(range(len(ticks))), [str(c) for c in ticks])  # evenly spaced levels
        for model in dict.fromkeys(lv.model for lv in levels):
            points = [(ticks.index(lv.concurrency), value(lv.summary)) for lv in levels if lv.model == model]
            plt.plot([x for x, _ in points], [v for _, v in points], label=model, marker="dot")
    text = plt.build()
    plt.clear_figure()
    return text
