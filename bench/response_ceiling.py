"""How many streamed responses per second one Python-backend model can send through tritonserver.

No engine, no GPU: N closed-loop streams of the pacer model (bench/models/pacer), each asking
for more tokens per second than can be sent, so the pacer merges the tokens that are due into
one response whenever its sender falls behind. Responses/s is then the ceiling of the
per-response path (model code -> Python backend stub -> tritonserver -> gRPC -> client) for one
model instance on this host, and tokens per response says how far behind it fell. The client
side is spread over several processes so it is not the limit; the stub's and tritonserver's
CPU use over the window says which process is.

Why: P4 (docs/benchmarks.md) compares Triton + model.py against the vLLM engine alone, where
model.py sends one response per token (``stream_interval`` 1): at 64 streams the engine alone
makes 10,000-16,000 tokens/s, all of which must pass this path.

    .venv/bin/python bench/response_ceiling.py [--concurrency 1,16,64] [--rate 2000] [--window 5]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pacer import machine, serve  # noqa: E402


def _client(url: str, streams: int, tokens: int, rate: float, start: float, end: float, out) -> None:  # noqa: ANN001
    """One client process: ``streams`` closed-loop streams; counts what arrives in [start, end)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from console.core.streaming import Delta, TritonStreamClient

    counts = {"responses": 0, "tokens": 0, "requests": 0}
    sampling = {"max_tokens": tokens, "pacer_tokens_per_second": rate, "pacer_ttft_ms": 0}

    async def loop(client: TritonStreamClient) -> None:
        while time.time() < end:
            async for event in client.stream("flood", "flood", sampling):
                if isinstance(event, Delta) and start <= time.time() < end:
                    counts["responses"] += 1
                    counts["tokens"] += event.tokens
            counts["requests"] += 1

    async def main() -> None:
        client = TritonStreamClient(url)
        try:
            await asyncio.gather(*(loop(client) for _ in range(streams)))
        finally:
            await client.close()

    asyncio.run(main())
    out.put(counts)


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _stub_pids(server_pid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == server_pid:
                pids.append(int(entry.name))
    return pids


def level(url: str, server_pid: int, concurrency: int, procs: int, tokens: int, rate: float, window: float) -> dict:
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = max(1, min(procs, concurrency))
    per = [concurrency // procs + (1 if i < concurrency % procs else 0) for i in range(procs)]
    start = time.time() + 4.0  # spawn + imports + warm-up before the window opens
    end = start + window
    workers = [ctx.Process(target=_client, args=(url, n, tokens, rate, start, end, out)) for n in per]
    for worker in workers:
        worker.start()
    watched = [server_pid, *_stub_pids(server_pid)]
    time.sleep(max(0.0, start - time.time()))
    cpu0 = {pid: cpu_seconds(pid) for pid in watched}
    time.sleep(max(0.0, end - time.time()))
    cpu1 = {pid: cpu_seconds(pid) for pid in watched}
    results = [out.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    responses = sum(r["responses"] for r in results)
    got = sum(r["tokens"] for r in results)
    return {
        "concurrency": concurrency,
        "responses_per_s": responses / window,
        "tokens_per_s": got / window,
        "tokens_per_response": got / responses if responses else 0.0,
        "server_cpu": (cpu1[server_pid] - cpu0[server_pid]) / window,
        "stub_cpu": sum(cpu1[p] - cpu0[p] for p in watched[1:]) / window,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="1,16,64")
    parser.add_argument("--rate", type=float, default=2000.0, help="tokens/s asked of each stream")
    parser.add_argument("--tokens", type=int, default=1000, help="tokens per request")
    parser.add_argument("--window", type=float, default=5.0, help="seconds counted at each level")
    parser.add_argument("--procs", type=int, default=8, help="client processes")
    args = parser.parse_args()
    models = {"flood": {"ttft_ms": 0, "tokens_per_second": args.rate, "max_tokens": args.tokens}}
    with tempfile.TemporaryDirectory() as tmp, serve(models, Path(tmp)) as server:
        rows = [level(server.grpc_url, server.process.pid, int(c), args.procs, args.tokens, args.rate, args.window)
                for c in args.concurrency.split(",")]
    print(f"machine: {machine()}")
    print(f"pacer asked for {args.rate:.0f} tokens/s per stream, {args.tokens} tokens per request, "
          f"{args.window:.0f} s window, {args.procs} client processes at most")
    print(f"{'streams':>8}{'responses/s':>13}{'tokens/s':>11}{'tok/resp':>10}{'stub CPU':>10}{'server CPU':>12}")
    for row in rows:
        print(f"{row['concurrency']:>8}{row['responses_per_s']:>13,.0f}{row['tokens_per_s']:>11,.0f}"
              f"{row['tokens_per_response']:>10.2f}{row['stub_cpu']:>9.0%}{row['server_cpu']:>12.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
