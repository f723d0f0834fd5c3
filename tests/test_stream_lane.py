"""StreamLane: one gRPC stream carrying one request after another, against a real tritonserver."""

from __future__ import annotations

import grpc
import pytest

from bench.pacer import expected_text
from console.core.streaming import Delta, Final, StreamError, TritonStreamClient
from tests.pilot_helpers import eventually


async def collect(events) -> tuple[list[Delta], Final]:
    deltas, final = [], None
    async for event in events:
        if isinstance(event, Delta):
            deltas.append(event)
        else:
            final = event
    assert final is not None
    return deltas, final


async def test_requests_one_after_another_share_one_stream_and_keep_their_own_answers(echo_server):
    client = TritonStreamClient(echo_server.grpc_url, timeout_s=30)
    try:
        async with client.lane() as lane:
            deltas, first = await collect(lane.stream("echo", "alpha beta gamma", {"max_tokens": 3}))
            call = lane._call
            assert call is not None  # the stream stays open after the final response
            answers = [first] + [(await collect(lane.stream("echo", f"word{i} other{i}")))[1] for i in range(3)]
            assert lane._call is call, "the later requests opened streams of their own"
        assert lane._call is None  # closed with the lane: half-closed, and the server ended it
        assert await call.code() == grpc.StatusCode.OK
    finally:
        await client.close()
    assert [d.text for d in deltas] == ["alpha", "beta", "gamma"]
    assert [a.text for a in answers] == ["alphabetagamma", "word0other0", "word1other1", "word2other2"]
    for before, after in zip(answers, answers[1:]):  # each request is timed from its own send
        assert before.t_end <= after.t_start <= after.t_first <= after.t_end


async def test_a_failed_request_leaves_the_lane_working(echo_and_failing_server):
    client = TritonStreamClient(echo_and_failing_server.grpc_url, timeout_s=30)
    try:
        async with client.lane() as lane:
            await collect(lane.stream("echo", "warm"))
            with pytest.raises(StreamError) as err:
                await collect(lane.stream("failing", "anything"))
            assert err.value.kind == "bad_request"
            with pytest.raises(StreamError) as err:
                await collect(lane.stream("no-such-model", "hi"))
            assert err.value.kind == "not_ready"
            _, final = await collect(lane.stream("echo", "still here"))
            assert final.text == "stillhere"
    finally:
        await client.close()


async def test_stopping_a_request_cancels_it_on_the_server_and_the_next_one_is_whole(pacer_server):
    client = TritonStreamClient(pacer_server.grpc_url, timeout_s=30)
    before = pacer_server.log_text().count("pacer: request cancelled")
    try:
        async with client.lane() as lane:
            events = lane.stream("pacer-b", "long", {"max_tokens": 5000})
            async for event in events:
                if isinstance(event, Delta) and event.text:
                    break
            await events.aclose()
            assert await eventually(lambda: pacer_server.log_text().count("pacer: request cancelled") > before, 60)
            _, final = await collect(lane.stream("pacer-a", "again"))
    finally:
        await client.close()
    assert final.text == expected_text(24) and final.finish_reason == "length" and final.output_tokens == 24
