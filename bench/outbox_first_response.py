"""How long a new request's first response waits in model.py's Outbox while other streams keep
its sender threads busy: two model.py files side by side (a base commit's and this tree's),
through a real tritonserver, on the CPU.

Each side is an entry of the outbox test model (bench/models/outbox_burst): model.py's own
``Outbox`` and ``Job`` fed by engine threads. ``--streams`` background streams emit a token every
``--gap-ms`` each (a helper process reads them), as vLLM's loop emits outputs for many streams;
meanwhile probe requests of one token go out one after another and their time to first token is
recorded (client side). Sides alternate, ``--rounds`` times. This is the wait that P4 section 7
traced on the GPU (first output -> send returned, ~20 ms at 64 streams); the figure here is this
machine's, for comparing the two model.py files, not a GPU figure.

    .venv/bin/python bench/outbox_first_response.py [--base HEAD~1] [--streams 32] [--gap-ms 2]
        [--probes 30] [--rounds 3] [--threads 4]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.outbox_burst import alternating, base_and_tree  # noqa: E402
from bench.pacer import machine  # noqa: E402
from console.core.latency import percentile  # noqa: E402


def background(url: str, model: str, streams: int, gap_ms: float, ready, stop) -> None:  # noqa: ANN001 - mp events
    """(Helper process) ``streams`` long streams, read until ``stop`` is set, then dropped."""
    from console.core.streaming import TritonStreamClient

    async def main() -> None:
        client = TritonStreamClient(url, timeout_s=60)
        started = asyncio.Event()
        count = [0]

        async def one() -> None:
            async for _event in client.stream(model, json.dumps({"tokens": 10_000_000, "gap_ms": gap_ms})):
                count[0] += 1
                if count[0] >= streams:
                    started.set()

        tasks = [asyncio.create_task(one()) for _ in range(streams)]
        await asyncio.wait_for(started.wait(), 60)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await client.close()

    asyncio.run(main())


async def probes(url: str, model: str, count: int) -> list[float]:
    from console.core.streaming import TritonStreamClient

    client = TritonStreamClient(url, timeout_s=60)
    ttfts = []
    try:
        for _ in range(count):
            final = await client.complete(model, json.dumps({"tokens": 1}))
            ttfts.append(1000 * final.ttft)
            await asyncio.sleep(0.02)
    finally:
        await client.close()
    return ttfts


def side(url: str, model: str, args: argparse.Namespace) -> list[float]:
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Event(), ctx.Event()
    helper = ctx.Process(target=background, args=(url, model, args.streams, args.gap_ms, ready, stop))
    helper.start()
    try:
        if not ready.wait(90):
            raise RuntimeError("the background streams did not start")
        time.sleep(1.0)
        return asyncio.run(probes(url, model, args.probes))
    finally:
        stop.set()
        helper.join(30)
        time.sleep(1.0)  # the cancelled streams' engine threads stop (the outbox's cancel checks)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD~1", help="the commit whose model.py is the other side")
    parser.add_argument("--streams", type=int, default=32)
    parser.add_argument("--gap-ms", type=float, default=2.0)
    parser.add_argument("--probes", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=4, help="response_threads of both sides")
    args = parser.parse_args()
    results: dict[str, list[float]] = {"base": [], "tree": []}
    with base_and_tree(args.base, args.threads) as server:
        for round_, name in alternating(args.rounds):
            got = side(server.grpc_url, name, args)
            results[name] += got
            print(f"round {round_ + 1} {name:>4}: probe TTFT p50 {percentile(got, 50):.2f} ms, "
                  f"p90 {percentile(got, 90):.2f} ms ({len(got)} probes)", flush=True)
    print(f"machine: {machine()}")
    print(f"{args.streams} background streams, a token every {args.gap_ms} ms each; response_threads {args.threads}; "
          f"base = {args.base}'s model.py, tree = this tree's")
    for name, got in results.items():
        print(f"{name:>4}: probe TTFT p50 {percentile(got, 50):.2f} ms, p90 {percentile(got, 90):.2f} ms, "
              f"max {max(got):.2f} ms over {len(got)} probes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
