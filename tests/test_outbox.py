"""model.py's Outbox through a real tritonserver: a test model (bench/models/outbox_burst) drives
model.py's own ``Outbox`` and ``Job`` from an engine thread that emits far faster than responses
can be sent, as vLLM's event loop does under load (P4, docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import json

import pytest

from bench.outbox_burst import MODEL_PY, make_repository
from console.core.streaming import Delta, Final, StreamError, TritonStreamClient
from tests.test_model_local import assert_generation_stopped, metric

pytestmark = [pytest.mark.triton]


@pytest.fixture(scope="module")
def burst_server(triton_server_factory, tmp_path_factory):
    repo = make_repository(tmp_path_factory.mktemp("outbox-repo"), {"outbox_burst": MODEL_PY}, response_threads=2)
    return triton_server_factory(repo, name="outbox")


def generated_tokens(server) -> float:
    return metric(server, "vllm:generation_tokens_total", "outbox_burst")


async def collect(client: TritonStreamClient, tokens: int) -> tuple[list[Delta], Final]:
    deltas: list[Delta] = []
    async for event in client.stream("outbox_burst", json.dumps({"tokens": tokens, "pause_every": 100})):
        if isinstance(event, Delta):
            deltas.append(event)
        else:
            return deltas, event
    raise AssertionError("no final response")


async def test_a_burst_arrives_whole_in_order_and_merged(burst_server):
    """Six streams of 3,000 tokens emitted back to back (a 0.5 ms pause every 100), on two sender
    threads: every stream's text is whole and in order across its responses, its token counts add
    up, the responses merged (fewer than tokens), the finish reason comes last, and the token
    counter moved by exactly what was sent."""
    before = generated_tokens(burst_server)
    client = TritonStreamClient(burst_server.grpc_url, timeout_s=60)
    try:
        results = await asyncio.gather(*(collect(client, 3000) for _ in range(6)))
    finally:
        await client.close()
    expected = "".join(f"t{i} " for i in range(3000))
    for deltas, final in results:
        assert "".join(d.text for d in deltas) == expected
        assert sum(d.tokens for d in deltas) == 3000 == final.output_tokens
        assert final.finish_reason == "length"
        assert len(deltas) < 3000, "responses were not merged"
    assert max(len(deltas) for deltas, _ in results) > 1, "no stream was sent in several responses"
    assert generated_tokens(burst_server) - before == 6 * 3000
    assert burst_server.process.poll() is None


async def test_a_cancel_reaches_the_engine_through_the_outbox(burst_server):
    """A long stream (a token every 2 ms) dropped by its client: the outbox learns of the cancel
    while sending and the engine thread stops well before its 5,000 tokens."""
    client = TritonStreamClient(burst_server.grpc_url, timeout_s=60)
    before = generated_tokens(burst_server)
    got = 0
    try:
        async for event in client.stream("outbox_burst", json.dumps({"tokens": 5000, "gap_ms": 2})):
            got += event.tokens if isinstance(event, Delta) else 0
            if got >= 50:
                break  # closing the stream cancels the request on the server
    finally:
        await client.close()
    await assert_generation_stopped(burst_server, "outbox_burst", before, would_make=2500)
    assert generated_tokens(burst_server) - before >= 50
    assert burst_server.process.poll() is None


async def test_a_response_that_cannot_be_sent_ends_the_request_with_an_error(burst_server):
    """Text no response can carry (a lone surrogate) fails a drain: the client gets an error that
    says so instead of waiting, the engine thread stops, and the next request is served."""
    client = TritonStreamClient(burst_server.grpc_url, timeout_s=60)
    before = generated_tokens(burst_server)
    try:
        with pytest.raises(StreamError, match="sending a response failed"):
            async for _event in client.stream("outbox_burst", json.dumps({"tokens": 5000, "gap_ms": 1, "unsendable_at": 20})):
                pass
        await assert_generation_stopped(burst_server, "outbox_burst", before, would_make=2500)
        deltas, final = await collect(client, 10)
        assert "".join(d.text for d in deltas) == "".join(f"t{i} " for i in range(10)) and final.finish_reason == "length"
    finally:
        await client.close()
    assert burst_server.process.poll() is None
