"""What a stream reader costs per response: CPU of ``TritonStreamClient.stream`` (plus the helper
pipe's ``pack``) per delta, as the chat's stream-reader process runs it.

One pacer entry streams 3,000 tokens at 2,500 tok/s (one response per token, like a served LLM);
each measurement runs in a fresh Python that imports ``console`` from a tree: this one, and with
``--base DIR`` another one too (``BASE=<commit> bash bench/wide_host.sh base`` puts a commit's in
.base/), alternating, against the same server. Printed per run: CPU per delta of the reading
thread (Python and grpc's work on the loop) and of the whole process (grpc's own threads too).

    .venv/bin/python bench/reader_cost.py [--base .base] [--rounds 3] [--tokens 3000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pacer import machine, serve  # noqa: E402

MEASURE = """
import asyncio, json, sys, time
sys.path.insert(0, sys.argv[1])
from console.core.helper_pipe import pack
from console.core.streaming import Delta, TritonStreamClient

async def read(url, streams):
    client = TritonStreamClient(url)
    thread, process, count = time.thread_time(), time.process_time(), 0
    for _ in range(streams):
        async for event in client.stream("fast", "go"):
            if isinstance(event, Delta):
                pack(("delta", 1, event.text, event.tokens, event.t))
                count += 1
    thread, process = time.thread_time() - thread, time.process_time() - process
    await client.close()
    return thread / count * 1e6, process / count * 1e6

asyncio.run(read(sys.argv[2], 1))  # warm: imports, channel
print(json.dumps(asyncio.run(read(sys.argv[2], 2))))
"""


def measure(tree: Path, url: str) -> tuple[float, float]:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(tree), url], capture_output=True, text=True, timeout=300, check=True)
    return tuple(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="another tree (with console/) to measure alternately")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tokens", type=int, default=3000)
    args = parser.parse_args()
    trees = [("this tree", ROOT)] + ([("base", args.base.resolve())] if args.base else [])
    models = {"fast": {"tokens_per_second": 2500, "ttft_ms": 5, "max_tokens": args.tokens}}
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in trees}
    with tempfile.TemporaryDirectory() as tmp, serve(models, Path(tmp)) as server:
        for round_ in range(args.rounds):
            for name, tree in (trees if round_ % 2 == 0 else trees[::-1]):
                results[name].append(measure(tree, server.grpc_url))
    print(f"machine: {machine()}")
    print(f"one stream of {args.tokens} tokens at 2,500 tok/s, two per measurement; CPU µs per delta")
    for name, runs in results.items():
        print(f"{name:>10}: reading thread " + ", ".join(f"{t:.1f}" for t, _ in runs)
              + "; process " + ", ".join(f"{p:.1f}" for _, p in runs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
