"""The streaming client against a real tritonserver (the echo model: no LLM needed)."""

from __future__ import annotations

import pytest

from console.core.streaming import Delta, Final, StreamError, TritonStreamClient
from console.core.tritonserver import free_ports


async def test_deltas_then_exactly_one_final(echo_server):
    client = TritonStreamClient(echo_server.grpc_url, timeout_s=30)
    events = [event async for event in client.stream("echo", "alpha beta gamma", {"max_tokens": 3})]
    await client.close()
    deltas = [e for e in events if isinstance(e, Delta)]
    finals = [e for e in events if isinstance(e, Final)]
    assert [d.text for d in deltas] == ["alpha", "beta", "gamma"]
    assert len(finals) == 1 and events[-1] is finals[0]
    final = finals[0]
    assert final.text == "alphabetagamma"
    assert final.output_tokens == 3  # the echo model sends no counts: one per non-empty delta
    assert final.t_start <= final.t_first <= deltas[-1].t <= final.t_end
    assert [d.t for d in deltas] == sorted(d.t for d in deltas)


async def test_unknown_model_is_not_ready(echo_server):
    client = TritonStreamClient(echo_server.grpc_url, timeout_s=30)
    with pytest.raises(StreamError) as err:
        await client.complete("no-such-model", "hi")
    await client.close()
    assert err.value.kind == "not_ready"
    assert "no-such-model" in err.value.message


async def test_unreachable_server_is_unavailable():
    (port,) = free_ports(1)
    client = TritonStreamClient(f"localhost:{port}", timeout_s=30)
    with pytest.raises(StreamError) as err:
        await client.complete("echo", "hi")
    await client.close()
    assert err.value.kind == "unavailable"


async def test_one_client_outlives_a_server_restart(tmp_path):
    """Down, refused a few times, back on the same ports: the same client's next stream works.

    (gRPC shares subchannels and backs off reconnects for up to 120 s by default; a console that kept the
    stale "connection refused" after the server came back failed CI once.)
    """
    import shutil
    from pathlib import Path

    from console.core.tritonserver import Ports, TritonServer

    repo = tmp_path / "repo"
    shutil.copytree(Path(__file__).parent / "models" / "echo", repo / "echo")
    ports = Ports(*free_ports(3))
    server = TritonServer(repo, ports, log_file=tmp_path / "triton.log")
    server.start()
    client = TritonStreamClient(server.grpc_url, timeout_s=30)
    try:
        server.wait_ready(300)
        assert (await client.complete("echo", "one two", {"max_tokens": 2})).text == "onetwo"
        server.stop()
        for _ in range(3):  # each refusal lengthens gRPC's reconnect backoff
            with pytest.raises(StreamError) as err:
                await client.complete("echo", "hi")
            assert err.value.kind == "unavailable"
        server = TritonServer(repo, ports, log_file=tmp_path / "triton2.log")
        server.start()
        server.wait_ready(300)
        assert (await client.complete("echo", "back again", {"max_tokens": 2})).text == "backagain"
    finally:
        await client.close()
        server.stop()


async def test_a_stalled_stream_times_out_and_the_server_cancels_it(pacer_server):
    """``timeout_s`` bounds the wait for each response: before the first one and between two.
    The call is cancelled, so the pacer stops the request (it says so in the server's log)."""
    import time

    client = TritonStreamClient(pacer_server.grpc_url, timeout_s=0.5)
    before = pacer_server.log_text().count("pacer: request cancelled")
    try:
        started = time.monotonic()
        with pytest.raises(StreamError) as err:
            await client.complete("pacer-a", "hi", {"max_tokens": 3, "pacer_ttft_ms": 3000})
        assert err.value.kind == "timeout" and time.monotonic() - started < 2.5
        events = []
        with pytest.raises(StreamError) as err:
            async for event in client.stream("pacer-a", "hi", {"max_tokens": 3, "pacer_ttft_ms": 0, "pacer_tokens_per_second": 1}):
                events.append(event)
        assert err.value.kind == "timeout" and len(events) == 1 and isinstance(events[0], Delta)  # the first token, then a 1 s gap
        assert (await client.complete("pacer-a", "hi", {"max_tokens": 3})).output_tokens == 3  # the channel is fine
    finally:
        await client.close()
    deadline = time.monotonic() + 10
    while pacer_server.log_text().count("pacer: request cancelled") < before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pacer_server.log_text().count("pacer: request cancelled") >= before + 2


async def test_first_values_reads_what_infer_result_reads(pacer_server, echo_server):
    """The stream reader's direct read of each response's outputs gives what tritonclient's
    ``InferResult.as_numpy`` gives, on every response of a real server (text, token counts,
    finish reason, the empty final response)."""
    from tritonclient.grpc._infer_result import InferResult

    from console.core.streaming import build_inputs, first_values, stream_request

    compared = set()
    for server, model in ((pacer_server, "pacer-b"), (echo_server, "echo")):
        client = TritonStreamClient(server.grpc_url, timeout_s=30)
        request = stream_request(model, build_inputs("tell me about the weather", {"max_tokens": 5}))

        async def requests():
            yield request

        call = client.open_stream(requests())
        try:
            while True:
                response = await call.read()
                infer = response.infer_response
                result = InferResult(infer)
                expected = {}
                for output in infer.outputs:
                    array = result.as_numpy(output.name)
                    expected[output.name] = None if array is None or array.size == 0 else array.reshape(-1)[0]
                    compared.add((model, output.name, output.datatype, expected[output.name] is None))
                assert first_values(infer) == expected
                if infer.parameters["triton_final_response"].bool_param:
                    break
        finally:
            await client.close()
    assert {(model, name, kind) for model, name, kind, _empty in compared} == {
        ("echo", "text_output", "BYTES"), ("pacer-b", "text_output", "BYTES"), ("pacer-b", "finish_reason", "BYTES"),
        ("pacer-b", "num_input_tokens", "UINT32"), ("pacer-b", "num_output_tokens", "UINT32"),
    }


def test_first_values_reads_empty_tensors_other_types_and_non_raw_contents_as_infer_result_does():
    """What the servers above do not send: an empty tensor, signed and float types, and an
    output in ``contents`` instead of the raw bytes (read through ``InferResult``)."""
    import struct

    from tritonclient.grpc import service_pb2
    from tritonclient.grpc._infer_result import InferResult

    from console.core.streaming import first_values

    response = service_pb2.ModelInferResponse()
    raw = [
        ("text_output", "BYTES", [0], b""),
        ("num_output_tokens", "INT64", [1], struct.pack("<q", -7)),
        ("score", "FP32", [2], struct.pack("<ff", 0.25, 9.0)),
        ("flag", "BOOL", [1], b"\x01"),
        ("word", "BYTES", [2], struct.pack("<I", 3) + b"abc" + struct.pack("<I", 1) + b"z"),
    ]
    for name, kind, shape, data in raw:
        response.outputs.add(name=name, datatype=kind, shape=shape)
        response.raw_output_contents.append(data)
    late = response.outputs.add(name="late", datatype="BYTES", shape=[1])  # after the raw ones, in contents
    late.contents.bytes_contents.append(b"hi")
    result = InferResult(response)
    expected = {}
    for output in response.outputs:
        array = result.as_numpy(output.name)
        expected[output.name] = None if array is None or array.size == 0 else array.reshape(-1)[0]
    assert first_values(response) == expected
    assert first_values(response) == {"text_output": None, "num_output_tokens": -7, "score": 0.25, "flag": True,
                                      "word": b"abc", "late": b"hi"}


def test_first_values_gives_none_for_an_output_it_cannot_read():
    """A raw tensor shorter than its type, and one in ``contents`` that ``InferResult`` cannot
    read either: None, as before, and the other outputs are still read."""
    import struct

    from tritonclient.grpc import service_pb2

    from console.core.streaming import first_values

    response = service_pb2.ModelInferResponse()
    response.outputs.add(name="short", datatype="INT64", shape=[1])
    response.raw_output_contents.append(b"\x01\x02")
    response.outputs.add(name="text_output", datatype="BYTES", shape=[1])
    response.raw_output_contents.append(struct.pack("<I", 2) + b"ok")
    response.outputs.add(name="ints", datatype="INT32", shape=[1]).contents.int_contents.append(42)
    assert first_values(response) == {"short": None, "text_output": b"ok", "ints": None}
