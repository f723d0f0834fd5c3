"""The batch prompt client's job (the seed's triton-client.py, done right).

Prompts go out with bounded concurrency, each as chat messages so the server applies the
model's own template; results come back in input order with per-request timings from the
streaming client; the summary uses genai-perf's definitions (:mod:`console.core.latency`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from console.core.completion import Completion, Sampling, chat_messages, complete
from console.core.latency import Summary, ms
from console.core.secrets import redact


class PromptsError(ValueError):
    """The prompts file cannot be used; the message names the file and why."""


def load_prompts(path: Path) -> list[str]:
    """One prompt per line; blank lines and lines starting with '#' are skipped."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptsError(f"{path}: cannot read: {exc}") from None
    prompts = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not prompts:
        raise PromptsError(f"{path}: no prompts in it (one per line; '#' starts a comment)")
    return prompts


@dataclass
class BatchResult:
    model: str
    url: str
    prompts: list[str]
    completions: list[Completion]  # same order as prompts
    sampling: Sampling
    concurrency: int
    stream: bool

    @property
    def summary(self) -> Summary:
        return Summary.of([c.timing for c in self.completions if c.timing is not None])

    @property
    def failed(self) -> list[int]:
        """1-based numbers of the prompts that failed."""
        return [i for i, c in enumerate(self.completions, 1) if not c.ok]


async def run_batch(
    client: Any,
    model: str,
    prompts: Sequence[str],
    sampling: Sampling,
    concurrency: int = 4,
    stream: bool = True,
    on_done: Callable[[int, Completion], None] | None = None,
    url: str = "",
) -> BatchResult:
    """Send every prompt (at most ``concurrency`` in flight); ``on_done(index, completion)`` per finish."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    results: list[Completion | None] = [None] * len(prompts)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(len(prompts)):
        queue.put_nowait(index)
    params = sampling.parameters()

    async def worker() -> None:
        async with client.lane() as lane:  # one stream per worker, reused prompt after prompt
            while True:
                try:
                    index = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                done = await complete(lane, model, chat_messages(prompts[index], sampling), params, stream=stream)
                results[index] = done
                if on_done is not None:
                    on_done(index, done)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(prompts)))))
    return BatchResult(model, url, list(prompts), [r for r in results if r is not None], sampling, concurrency, stream)


def _rate(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def render_results(result: BatchResult) -> str:
    """The results file: per prompt in input order, then the summary."""
    out: list[str] = []
    total = len(result.prompts)
    for number, (prompt, done) in enumerate(zip(result.prompts, result.completions), 1):
        timing = done.timing
        out.append(f"=== Prompt {number}/{total} ===")
        out.append(prompt)
        out.append("--- Response ---")
        if done.ok:
            out.append(done.text.strip() or "(empty response)")
        else:
            out.append(f"FAILED ({done.error_kind}): {done.error}")
            if done.text:
                out.append(f"(partial response before the failure) {done.text.strip()}")
        out.append("--- Timing ---")
        out.append(
            f"TTFT: {ms(timing.ttft if timing else None)} ms | "
            f"e2e latency: {ms(timing.e2e if timing else None)} ms | "
            f"output tokens: {timing.output_tokens if timing else 0} | "
            f"tokens/s: {_rate(timing.tokens_per_s if timing else None)} | "
            f"finish: {done.finish_reason or '—'}"
        )
        out.append("")
    out.append(render_summary(result))
    return redact("\n".join(out) + "\n")


def render_summary(result: BatchResult) -> str:
    s = result.summary
    lines = [
        "=== Summary ===",
        f"model: {result.model}   url: {result.url or '—'}   concurrency: {result.concurrency}   "
        f"stream: {'yes' if result.stream else 'no'}   sampling: {result.sampling.describe()}",
        f"prompts: {s.requests}   succeeded: {s.requests - s.failures}   failed: {s.failures}"
        + (f" (prompts {', '.join(map(str, result.failed))})" if result.failed else ""),
        f"{'':24}{'p50':>10}{'p90':>10}{'p99':>10}",
    ]
    for label, dist in (("TTFT (ms)", s.ttft), ("e2e latency (ms)", s.e2e), ("inter-token latency (ms)", s.itl)):
        lines.append(f"{label:24}{ms(dist.p50):>10}{ms(dist.p90):>10}{ms(dist.p99):>10}")
    lines.append(
        f"output tokens: {s.output_tokens}   wall time: {s.duration_s:.2f} s   "
        f"aggregate output tokens/s: {s.output_tokens_per_s:.1f}   requests/s: {s.requests_per_s:.2f}"
    )
    return "\n".join(lines)


def result_json(result: BatchResult) -> dict:
    return {
        "model": result.model,
        "url": result.url,
        "concurrency": result.concurrency,
        "stream": result.stream,
        "sampling": result.sampling.parameters() | ({"system_prompt": True} if result.sampling.system_prompt else {}),
        "results": [{"index": i, "prompt": p} | c.as_dict() for i, (p, c) in enumerate(zip(result.prompts, result.completions), 1)],
        "summary": result.summary.as_dict(),
        "failed": result.failed,
    }
