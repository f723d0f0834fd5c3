"""Helpers shared by the GPU proof scripts: /metrics parsing, summaries, result records."""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from dataclasses import asdict, dataclass


def scrape(metrics_url: str) -> str:
    with urllib.request.urlopen(metrics_url, timeout=10) as resp:
        return resp.read().decode("utf-8", errors="replace")


def metric(text: str, name: str, **labels: str) -> float | None:
    """The sum of the samples of ``name`` whose labels include ``labels`` (None if absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    found = None
    names = {name, name + "_total"}  # the parser names counter samples *_total even when the page does not
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name not in names:
                continue
            if all(sample.labels.get(k) == v for k, v in labels.items()):
                found = (found or 0.0) + sample.value
    return found


@dataclass
class StreamRecord:
    """One generation as the caller saw it, on the time.monotonic() clock."""

    t_start: float
    t_first: float | None
    t_end: float
    tokens: int
    input_tokens: int | None = None
    finish_reason: str | None = None


def summarize(records: list[StreamRecord]) -> dict:
    """Output tokens/s over the whole run, TTFT and per-stream decode rate (genai-perf definitions)."""
    if not records:
        return {"streams": 0}
    wall = max(r.t_end for r in records) - min(r.t_start for r in records)
    ttft = sorted(r.t_first - r.t_start for r in records if r.t_first is not None)
    decode = [(r.tokens - 1) / (r.t_end - r.t_first) for r in records if r.t_first is not None and r.tokens > 1 and r.t_end > r.t_first]
    tokens = sum(r.tokens for r in records)
    return {
        "streams": len(records),
        "output_tokens": tokens,
        "input_tokens": sum(r.input_tokens or 0 for r in records),
        "wall_s": wall,
        "output_tok_s": tokens / wall if wall > 0 else 0.0,
        "ttft_ms_median": 1e3 * statistics.median(ttft) if ttft else None,
        "ttft_ms_p90": 1e3 * ttft[int(0.9 * (len(ttft) - 1))] if ttft else None,
        "ttft_ms_mean": 1e3 * statistics.fmean(ttft) if ttft else None,
        "decode_tok_s_median": statistics.median(decode) if decode else None,
        "finish_reasons": sorted({str(r.finish_reason) for r in records}),
    }


def records_json(records: list[StreamRecord]) -> list[dict]:
    return [asdict(r) for r in records]


class Report:
    """PASS/FAIL lines with their evidence, and a JSON file at the end."""

    def __init__(self) -> None:
        self.items: list[dict] = []
        self.t0 = time.monotonic()

    def check(self, name: str, ok: bool, **evidence) -> bool:
        self.items.append({"check": name, "ok": bool(ok), **evidence})
        shown = " ".join(f"{k}={v!r}" for k, v in evidence.items())
        print(f"[{'PASS' if ok else 'FAIL'}] {name}: {shown}"[:1500], flush=True)
        return bool(ok)

    def note(self, name: str, **evidence) -> None:
        self.items.append({"note": name, **evidence})
        print(f"[note] {name}: " + " ".join(f"{k}={v!r}" for k, v in evidence.items())[:1500], flush=True)

    @property
    def failed(self) -> list[str]:
        return [i["check"] for i in self.items if "check" in i and not i["ok"]]

    def write(self, path: str) -> None:
        with open(path, "w") as fh:
            json.dump({"items": self.items, "failed": self.failed}, fh, indent=1, default=str)
