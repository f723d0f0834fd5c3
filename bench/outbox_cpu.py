"""CPU that model.py's response path costs per token, on the stub and on tritonserver: two
model.py files side by side (a base commit's and this tree's), through a real tritonserver.

Why: on the GPU (P4 section 8, docs/benchmarks.md) vLLM's engine core made fewer decode steps
beside tritonserver and the stub than alone, and the stub's interpreter spent its time on
model.py's sending: the send, the generation-token counter (a round trip to tritonserver on
every response), the response tensors, the cancel query. Less CPU there is less to disturb the
engine core. Each side is an entry of the outbox test model (bench/models/outbox_burst), whose
engine threads emit a token every ``--gap-ms`` per stream; ``--streams`` streams of ``--tokens``
tokens run at once, and the side's stub process and tritonserver are measured from /proc over
the run (100 % = one CPU). Sides alternate, ``--rounds`` times.

    .venv/bin/python bench/outbox_cpu.py [--base HEAD~1] [--streams 8] [--gap-ms 2] [--tokens 1500] [--rounds 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent / "gpu"))

from bench.outbox_burst import alternating, base_and_tree  # noqa: E402
from bench.pacer import machine  # noqa: E402
from bench.response_ceiling import cpu_seconds  # noqa: E402
from spy import stub_pid  # noqa: E402

async def run_streams(url: str, model: str, streams: int, tokens: int, gap_ms: float) -> tuple[int, int]:
    """``streams`` streams at once; returns (tokens, responses) received."""
    from console.core.streaming import Delta, TritonStreamClient

    client = TritonStreamClient(url, timeout_s=120)

    async def one() -> tuple[int, int]:
        got, responses = 0, 0
        async for event in client.stream(model, json.dumps({"tokens": tokens, "gap_ms": gap_ms})):
            if isinstance(event, Delta):
                got, responses = got + event.tokens, responses + 1
        return got, responses

    try:
        results = await asyncio.gather(*(one() for _ in range(streams)))
    finally:
        await client.close()
    return sum(r[0] for r in results), sum(r[1] for r in results)


def side(url: str, model: str, server_pid: int, args: argparse.Namespace) -> dict:
    stub = stub_pid(model)
    if stub is None:
        raise RuntimeError(f"no stub process serves {model}")
    stub0, server0, t0 = cpu_seconds(stub), cpu_seconds(server_pid), time.monotonic()
    tokens, responses = asyncio.run(run_streams(url, model, args.streams, args.tokens, args.gap_ms))
    wall = time.monotonic() - t0
    stub_s, server_s = cpu_seconds(stub) - stub0, cpu_seconds(server_pid) - server0
    if tokens != args.streams * args.tokens:
        raise RuntimeError(f"{model}: {tokens} tokens arrived, {args.streams * args.tokens} were sent")
    return {"wall_s": wall, "tokens": tokens, "responses": responses,
            "stub_ms_per_1k": 1e6 * stub_s / tokens, "server_ms_per_1k": 1e6 * server_s / tokens,
            "stub_cpu": stub_s / wall, "server_cpu": server_s / wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="the commit whose model.py is the other side")
    parser.add_argument("--streams", type=int, default=8)
    parser.add_argument("--gap-ms", type=float, default=2.0)
    parser.add_argument("--tokens", type=int, default=1500)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4, help="response_threads of both sides")
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"base": [], "tree": []}
    with base_and_tree(args.base, args.threads) as server:
        for name in ("base", "tree"):  # warm-up: imports, first connections
            asyncio.run(run_streams(server.grpc_url, name, 2, 50, 0))
        for round_, name in alternating(args.rounds):
            got = side(server.grpc_url, name, server.process.pid, args)
            results[name].append(got)
            print(f"round {round_ + 1} {name:>4}: stub {got['stub_ms_per_1k']:.0f} ms CPU per 1,000 tokens "
                  f"({got['stub_cpu']:.0%} of a CPU), tritonserver {got['server_ms_per_1k']:.0f} ms "
                  f"({got['server_cpu']:.0%}); {got['tokens'] / got['responses']:.2f} tokens per response", flush=True)
    print(f"machine: {machine()}")
    print(f"{args.streams} streams x {args.tokens} tokens, a token every {args.gap_ms} ms each; response_threads "
          f"{args.threads}; base = {args.base}'s model.py, tree = this tree's")
    for name, runs in results.items():
        print(f"{name:>4}: stub {statistics.median(r['stub_ms_per_1k'] for r in runs):.0f} ms, tritonserver "
              f"{statistics.median(r['server_ms_per_1k'] for r in runs):.0f} ms of CPU per 1,000 tokens (medians of "
              f"{len(runs)}); tokens per response {statistics.median(r['tokens'] / r['responses'] for r in runs):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
