"""The local stack's tritonserver is started again when it dies on its own (a real server)."""

from __future__ import annotations

import os
import shutil
import signal
import time

import pytest

from console.core.local_stack import LocalStack
from console.core.streaming import TritonStreamClient
from console.core.tritonserver import Ports, TritonServer, free_ports
from tests.conftest import TESTS
from tests.pilot_helpers import eventually


@pytest.fixture
def echo_stack(tmp_path):
    repo = tmp_path / "repo"
    shutil.copytree(TESTS / "models" / "echo", repo / "echo")
    server = TritonServer(repo, Ports(*free_ports(3)), log_file=tmp_path / "logs" / "tritonserver.log")
    server.start()
    server.wait_ready(timeout=120)
    stack = LocalStack(server=server, models=["echo"], repository=repo)
    yield stack
    stack.stop()


def crash(server: TritonServer) -> None:
    os.killpg(server.process.pid, signal.SIGSEGV)  # what tritonserver 2.51's cancellation race does
    server.process.wait(10)


async def test_a_crashed_server_comes_back_on_its_ports_and_the_same_client_goes_on(echo_stack):
    lines: list[str] = []
    client = TritonStreamClient(echo_stack.grpc_url, timeout_s=30)
    try:
        assert (await client.complete("echo", "before crash")).text == "beforecrash"
        echo_stack.watch(lines.append)
        first = echo_stack.server.process
        crash(echo_stack.server)
        assert await eventually(lambda: echo_stack.server.process is not first and echo_stack.server.is_ready(), 120)
        assert (await client.complete("echo", "after restart")).text == "afterrestart"
        assert await eventually(lambda: any("is back on the same ports" in line for line in lines), 30)
    finally:
        await client.close()
    assert "exited (code -11); starting it again (1 of 3)" in lines[0]
    kept = list(echo_stack.server.log_file.parent.glob("tritonserver.crashed-*.log"))
    assert len(kept) == 1 and "Started GRPCInferenceService" in kept[0].read_text()
    echo_stack.stop()  # a stop is not a crash: nothing is started again
    time.sleep(1.5)
    assert not echo_stack.server.alive() and not any("exited (code 0" in line for line in lines)


async def test_it_gives_up_after_its_restarts(echo_stack):
    lines: list[str] = []
    watch = echo_stack.watch(lines.append, max_restarts=1)
    first = echo_stack.server.process
    crash(echo_stack.server)
    assert await eventually(lambda: echo_stack.server.process is not first and echo_stack.server.is_ready(), 120)
    crash(echo_stack.server)
    assert await eventually(watch.gave_up.is_set, 30)
    assert not echo_stack.server.alive()
    assert "not restarted: 1 restarts already" in lines[-1]


async def test_the_app_on_the_local_stack_is_told_of_the_crash_and_the_restart(echo_stack):
    """`triton-console --local`: the watch's lines reach the running app as notifications."""
    from console.cli.local import connect_config, tell_app
    from console.core.config import Config
    from console.tui.app import TritonConsoleApp

    app = TritonConsoleApp(connect_config(Config(), echo_stack))
    async with app.run_test(size=(120, 30)) as pilot:
        echo_stack.watch(lambda line: tell_app(app, line))
        crash(echo_stack.server)
        deadline = time.monotonic() + 120
        while not any("is back" in n.message for n in app._notifications) and time.monotonic() < deadline:
            await pilot.pause(0.2)
        messages = [n.message for n in app._notifications]
    assert any("exited (code -11); starting it again" in m for m in messages), messages
    assert any("is back on the same ports" in m for m in messages), messages
