"""Figures for the local stack on this machine: cold start to ready, TTFT and tokens/s.

    python bench/local_stack.py [--requests 5] [--max-tokens 64] [--json out.json]

Starts the real local stack (tritonserver + our model.py on SmolLM2-135M-Instruct, generated
repository, free ports), then per model runs sequential streamed requests (ignore_eos, so every
request makes exactly --max-tokens tokens), then both models at once. Prints a Markdown table.
TTFT = first non-empty delta − send; decode tok/s = (tokens − 1) / (last − first delta);
ITL = (e2e − TTFT) / (tokens − 1) as genai-perf defines it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from console.core import local_stack  # noqa: E402
from console.core.streaming import Final, TritonStreamClient  # noqa: E402
from console.core.tritonserver import Ports, free_ports  # noqa: E402

PROMPT = "Write a short story about a lighthouse keeper."


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


async def one(client: TritonStreamClient, model: str, max_tokens: int) -> Final:
    return await client.complete(model, PROMPT, {"max_tokens": max_tokens, "ignore_eos": True, "temperature": 0.7})


def summarise(finals: list[Final]) -> dict:
    ttft = [f.ttft for f in finals if f.ttft is not None]
    itl = [(f.e2e - f.ttft) / (f.output_tokens - 1) for f in finals if f.ttft is not None and f.output_tokens > 1]
    return {
        "requests": len(finals),
        "tokens": sum(f.output_tokens for f in finals),
        "ttft_median_s": statistics.median(ttft),
        "ttft_max_s": max(ttft),
        "itl_median_s": statistics.median(itl),
        "decode_tok_s": statistics.median(1 / x for x in itl),
        "e2e_median_s": statistics.median(f.e2e for f in finals),
    }


async def measure(stack: local_stack.LocalStack, requests: int, max_tokens: int) -> dict:
    client = TritonStreamClient(stack.grpc_url, timeout_s=300)
    results: dict = {}
    await one(client, stack.models[0], 4)  # warm-up (first-call allocations), not counted
    for model in stack.models:
        results[model] = summarise([await one(client, model, max_tokens) for _ in range(requests)])
    t0 = time.monotonic()
    both = await asyncio.gather(*(one(client, m, max_tokens) for m in stack.models for _ in range(2)))
    wall = time.monotonic() - t0
    results["both models, 2 streams each"] = {**summarise(list(both)), "aggregate_tok_s": sum(f.output_tokens for f in both) / wall}
    await client.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--json", metavar="FILE")
    args = parser.parse_args()
    t0 = time.monotonic()
    stack = local_stack.start(Ports(*free_ports(3)), timeout=900)
    cold = time.monotonic() - t0
    try:
        results = asyncio.run(measure(stack, args.requests, args.max_tokens))
    finally:
        stack.stop()
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": machine(),
        "command": "python bench/local_stack.py " + " ".join(sys.argv[1:]),
        "cold_start_to_ready_s": cold,
        "models": stack.models,
        "results": results,
    }
    print(f"date: {report['date']}\nmachine: {report['machine']}\ncommand: {report['command']}")
    print(f"cold start to ready (generate repository + tritonserver + both models loaded): {cold:.1f} s\n")
    print("| run | requests | tokens | TTFT median | TTFT max | ITL median | decode tok/s | e2e median | aggregate tok/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        agg = f"{r['aggregate_tok_s']:.1f}" if "aggregate_tok_s" in r else "—"
        print(
            f"| {name} | {r['requests']} | {r['tokens']} | {r['ttft_median_s'] * 1000:.0f} ms | {r['ttft_max_s'] * 1000:.0f} ms "
            f"| {r['itl_median_s'] * 1000:.0f} ms | {r['decode_tok_s']:.1f} | {r['e2e_median_s']:.2f} s | {agg} |"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
