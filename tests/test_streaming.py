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
