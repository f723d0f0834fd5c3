"""The pacer test model (bench/models/pacer), the benchmarks' ground truth: its own options."""

from __future__ import annotations

import asyncio
import json
import urllib.request

from bench.pacer import expected_text, make_repository
from console.core.streaming import TritonStreamClient


async def test_length_jitter_ends_requests_early_and_instances_are_set(triton_server_factory, tmp_path):
    entry = {"tokens_per_second": 2000, "ttft_ms": 0, "max_tokens": 8, "length_jitter": 6, "instances": 2}
    server = triton_server_factory(make_repository(tmp_path / "repo", {"jittery": entry}), name="pacer-jitter")
    client = TritonStreamClient(server.grpc_url)
    try:
        finals = await asyncio.gather(*(client.complete("jittery", "hello") for _ in range(12)))
    finally:
        await client.close()

    lengths = [final.output_tokens for final in finals]
    assert all(2 <= n <= 8 for n in lengths) and len(set(lengths)) > 1, lengths
    for final in finals:  # a shortened answer is the same text cut early, ended as by an end-of-sequence
        assert final.text == expected_text(final.output_tokens)
        assert final.finish_reason == ("length" if final.output_tokens == 8 else "stop")
    with urllib.request.urlopen(f"http://{server.http_url}/v2/models/jittery/config", timeout=5) as resp:
        assert json.load(resp)["instance_group"][0]["count"] == 2
