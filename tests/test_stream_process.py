"""Streams read by the helper process, against a real tritonserver (the pacer and echo models)."""

from __future__ import annotations

import asyncio
import time

import pytest

from bench.pacer import expected_text
from console.core.stream_process import FrameReader, ProcessStreamClient, StreamProcess, pack
from console.core.streaming import Delta, Final, StreamError
from console.core.tritonserver import free_ports
from tests.conftest import revived
from tests.pilot_helpers import eventually

TIMEOUT = 60


def test_frames_split_anywhere_are_put_back_together():
    messages = [("delta", 1, "a" * n, n, 0.5) for n in (0, 1, 300, 70_000)] + [("cancel", 2)]
    data = b"".join(pack(m) for m in messages)
    for step in (1, 7, 4096, len(data)):
        reader = FrameReader()
        out = []
        for i in range(0, len(data), step):
            out += reader.feed(data[i : i + step])
        assert out == messages


async def test_a_slow_reader_gets_the_whole_stream_merged_with_the_first_arrival_times(pacer_server):
    process = StreamProcess()
    started: list[float] = []
    start = process.start

    async def timed_start() -> None:
        await start()
        started.append(time.monotonic())

    process.start = timed_start  # the helper is not running yet: the first stream starts it
    client = ProcessStreamClient(pacer_server.grpc_url, process, timeout_s=30)
    try:
        t_asked = time.monotonic()
        events = []
        async for event in client.stream("pacer-a", "go", {"max_tokens": 60}):
            events.append(event)
            if len(events) == 1:
                await asyncio.sleep(0.5)  # the helper keeps reading meanwhile: 60 tokens at 400/s
        deltas = [e for e in events if isinstance(e, Delta)]
        final = events[-1]
        assert isinstance(final, Final) and final.output_tokens == 60 and final.finish_reason == "length"
        assert "".join(d.text for d in deltas) == final.text == expected_text(60)
        assert sum(d.tokens for d in deltas) == 60
        assert len(deltas) <= 3, f"what piled up while the reader slept came as {len(deltas)} deltas"
        # the clock: the stream starts when we asked (before the helper was even up, so the TTFT
        # holds its start); a merged delta keeps its first piece's arrival, long before we got it
        assert t_asked <= final.t_start < started[0] < final.t_first <= deltas[-1].t <= final.t_end
        assert deltas[1].t < final.t_first + 0.3
    finally:
        await process.stop()


async def test_failures_keep_their_kinds(echo_server):
    process = StreamProcess()
    try:
        with pytest.raises(StreamError) as err:
            async for _ in ProcessStreamClient(echo_server.grpc_url, process).stream("no-such-model", "hi"):
                pass
        assert err.value.kind == "not_ready" and "no-such-model" in err.value.message
        (port,) = free_ports(1)
        with pytest.raises(StreamError) as err:
            async for _ in ProcessStreamClient(f"localhost:{port}", process).stream("echo", "hi"):
                pass
        assert err.value.kind == "unavailable"
        events = [e async for e in ProcessStreamClient(echo_server.grpc_url, process).stream("echo", "still here")]
        assert events[-1].text == "stillhere"  # the same helper serves the next stream
    finally:
        await process.stop()


async def test_closing_a_stream_early_cancels_the_request_on_the_server(pacer_server):
    process = StreamProcess()
    client = ProcessStreamClient(pacer_server.grpc_url, process, timeout_s=30)
    before = pacer_server.log_text().count("pacer: request cancelled")
    try:
        events = client.stream("pacer-b", "long", {"max_tokens": 5000})
        async for event in events:
            if isinstance(event, Delta) and event.text:
                break
        await events.aclose()
        assert await eventually(lambda: pacer_server.log_text().count("pacer: request cancelled") > before, TIMEOUT)
    finally:
        await process.stop()


async def test_a_dead_helper_fails_its_streams_and_the_next_stream_starts_a_new_one(pacer_server):
    process = StreamProcess()
    client = ProcessStreamClient(pacer_server.grpc_url, process, timeout_s=30)
    before = pacer_server.log_text().count("pacer: request cancelled")
    try:
        with pytest.raises(StreamError) as err:
            async for event in client.stream("pacer-b", "long", {"max_tokens": 5000}):
                if isinstance(event, Delta) and event.text:
                    process._process.kill()
        assert err.value.kind == "broken" and "exited" in err.value.message
        # the helper's connection died with it: the server cancels the request (or, now and
        # then, tritonserver 2.51 crashes on that cancellation: upstream, see conftest.revived)
        cancelled = lambda: pacer_server.log_text().count("pacer: request cancelled") > before  # noqa: E731
        assert await eventually(lambda: cancelled() or not pacer_server.alive(), TIMEOUT)
        await asyncio.sleep(0.3)  # a crash follows the cancellation within milliseconds
        revived(pacer_server)
        final = await collect(client.stream("pacer-a", "again"))
        assert final.text == expected_text(24) and final.finish_reason == "length"
    finally:
        await process.stop()
    assert process._process is None


async def collect(events) -> Final:
    async for event in events:
        if isinstance(event, Final):
            return event
    raise AssertionError("no final event")


async def test_stopping_while_the_helper_starts_leaves_no_helper_behind():
    process = StreamProcess()
    starting = asyncio.create_task(process.start())
    await asyncio.sleep(0)  # the start is under way
    await process.stop()
    await starting
    assert process._process is None and not process.running
