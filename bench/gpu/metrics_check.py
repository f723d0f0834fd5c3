"""On a GPU Triton running our model.py with vLLM: do the metrics move by what the clients saw?

Sends concurrent streams to each model with the console's streaming client, then compares the
movement of model.py's vllm:* metrics and Triton's counters with the clients' own counts, and
prints the console's reading (GPU power/utilization/memory included). Exit 1 on a mismatch.
Run on the device by `bash bench/gpu/device.sh metrics`; usage: metrics_check.py GRPC METRICS MODEL,MODEL [STREAMS] [MAX_TOKENS]
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from console.core.metrics import names  # noqa: E402
from console.core.metrics.derive import derive  # noqa: E402
from console.core.metrics.report import render_text  # noqa: E402
from console.core.metrics.sources import TritonMetricsSource  # noqa: E402
from console.core.streaming import Final, TritonStreamClient  # noqa: E402


def value(scrape, name: str, model: str) -> float:
    return sum(v for labels, v in scrape.series(name).items() if dict(labels).get("model") == model)


async def one(url: str, model: str, i: int, max_tokens: int) -> Final:
    client = TritonStreamClient(url, timeout_s=300)
    try:
        return await client.complete(model, f"stream {i}: hello, how are you", {"max_tokens": max_tokens, "temperature": 0.8})
    finally:
        await client.close()


async def main() -> int:
    grpc_url, metrics_url, models = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    streams = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    max_tokens = int(sys.argv[5]) if len(sys.argv) > 5 else 64
    source = TritonMetricsSource(metrics_url)
    before = source.fetch()
    t0 = time.monotonic()
    finals = await asyncio.gather(*(one(grpc_url, m, i, max_tokens) for m in models for i in range(streams)))
    wall = time.monotonic() - t0
    by_model = {m: finals[k * streams:(k + 1) * streams] for k, m in enumerate(models)}
    deadline = time.monotonic() + 30
    after = source.fetch()
    while time.monotonic() < deadline and any(
        value(after, f"{names.TTFT_S}_count", m) < value(before, f"{names.TTFT_S}_count", m) + streams
        or value(after, names.REQUEST_SUCCESS, m) < value(before, names.REQUEST_SUCCESS, m) + streams for m in models
    ):
        time.sleep(0.2)
        after = source.fetch()
    ok = True
    report = {"wall_s": round(wall, 2), "models": {}}
    for m, got in by_model.items():
        def moved(name: str) -> float:
            return value(after, name, m) - value(before, name, m)

        checks = {
            "prompt_tokens": (moved(names.PROMPT_TOKENS), sum(f.input_tokens or 0 for f in got)),
            "generation_tokens": (moved(names.GENERATION_TOKENS), sum(f.output_tokens for f in got)),
            "ttft_count": (moved(f"{names.TTFT_S}_count"), len(got)),
            "e2e_count": (moved(f"{names.E2E_S}_count"), len(got)),
            "tpot_count": (moved(f"{names.TPOT_S}_count"), sum(1 for f in got if f.output_tokens > 1)),
            "request_success": (moved(names.REQUEST_SUCCESS), len(got)),
            "running_after": (value(after, names.REQUESTS_RUNNING, m), 0),
            "waiting_after": (value(after, names.REQUESTS_WAITING, m), 0),
        }
        ttft_server = moved(f"{names.TTFT_S}_sum")
        ttft_client = sum(f.ttft or 0 for f in got)
        checks["ttft_sum_within_client"] = (ttft_server <= ttft_client + 0.05, True)
        report["models"][m] = {k: {"metric": a, "client": b, "ok": a == b} for k, (a, b) in checks.items()}
        report["models"][m]["ttft_mean_ms"] = {"server": round(1e3 * ttft_server / len(got), 2), "client": round(1e3 * ttft_client / len(got), 2)}
        ok &= all(a == b for a, b in checks.values())
    print(json.dumps(report, indent=1))
    print(render_text(derive(after, before), source.label))
    out = os.environ.get("OUT")
    if out:
        page = (await asyncio.to_thread(lambda: __import__("urllib.request").request.urlopen(metrics_url).read().decode()))
        Path(out, "metrics-gpu-modelpy.txt").write_text(page)
    print("ALL MATCH" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
