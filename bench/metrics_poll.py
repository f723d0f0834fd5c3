"""How much one Metrics poll costs on the console side: parse a /metrics page and derive a reading.

Pages: the recorded H100 page (tests/fixtures/metrics-h100.txt), and a larger one with model.py's
vllm:* histograms for N models (19 buckets each, like model.py's), to see how it scales.
Run: python bench/metrics_poll.py [--repeat 200]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.core.metrics.derive import derive  # noqa: E402
from console.core.metrics.scrape import parse_text  # noqa: E402

BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0]


def model_page(models: int) -> str:
    lines = []
    for family in ("vllm:time_to_first_token_seconds", "vllm:time_per_output_token_seconds", "vllm:e2e_request_latency_seconds"):
        lines.append(f"# TYPE {family} histogram")
        for m in range(models):
            for i, b in enumerate(BUCKETS):
                lines.append(f'{family}_bucket{{model="m{m}",version="1",le="{b}"}} {i * 3}')
            lines.append(f'{family}_bucket{{model="m{m}",version="1",le="+Inf"}} 60')
            lines.append(f'{family}_sum{{model="m{m}",version="1"}} 12.5')
            lines.append(f'{family}_count{{model="m{m}",version="1"}} 60')
    for counter in ("vllm:prompt_tokens_total", "vllm:generation_tokens_total"):
        lines.append(f"# TYPE {counter} counter")
        lines += [f'{counter}{{model="m{m}",version="1"}} {1000 + m}' for m in range(models)]
    return "\n".join(lines) + "\n"


def measure(text: str, repeat: int) -> float:
    older = parse_text(text, t=0)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        derive(parse_text(text, t=1), older)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    h100 = (ROOT / "tests" / "fixtures" / "metrics-h100.txt").read_text()
    print(f"python {platform.python_version()}, {platform.machine()}, repeat {args.repeat}, median per poll")
    print(f"H100 page ({len(h100.splitlines())} lines): {measure(h100, args.repeat):.2f} ms")
    for models in (2, 8):
        page = h100 + model_page(models)
        print(f"H100 page + vllm:* for {models} models ({len(page.splitlines())} lines): {measure(page, args.repeat):.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
