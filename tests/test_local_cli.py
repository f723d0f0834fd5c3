"""`triton-console local` end to end (a real tritonserver each), and the app on the local stack."""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from textual.widgets import DataTable, Static

from console.cli.local import connect_config
from console.core import local_stack
from console.core.config import Config
from console.core.streaming import TritonStreamClient
from console.core.tritonserver import free_ports, port_free
from console.tui.app import TritonConsoleApp

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"
pytestmark = [pytest.mark.triton]


def start_cli(*args: str, env_home: Path, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    """``triton-console local`` in a child process that Ctrl-C (SIGINT) reaches, as in a terminal.

    A suite started in the background (``cmd &`` in a script) runs with SIGINT ignored, and an
    ignored signal stays ignored in children: the CLI would never see the test's Ctrl-C. A
    handled one is reset to the default in a child, so the handler is set while starting it.
    """
    env = dict(os.environ, XDG_CACHE_HOME=str(env_home / "cache"), XDG_DATA_HOME=str(env_home / "data"), PYTHONUNBUFFERED="1")
    env.update(extra_env or {})
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "console", "local", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
    finally:
        signal.signal(signal.SIGINT, previous)


def read_until(proc: subprocess.Popen, marker: str, timeout: float) -> str:
    """Output lines until one contains ``marker`` (or the process ends, or time runs out)."""
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1)
        except queue.Empty:
            continue
        if line is None:
            break
        seen.append(line)
        if marker in line:
            break
    proc.stdout_rest = lines  # what comes after, for communicate-like reads
    return "".join(seen)


def drain(proc: subprocess.Popen, timeout: float) -> str:
    """The rest of the output once the process has exited."""
    proc.wait(timeout=timeout)
    rest = []
    while True:
        line = proc.stdout_rest.get(timeout=10)
        if line is None:
            return "".join(rest)
        rest.append(line)


def require_smollm() -> None:
    try:
        local_stack.smollm_gguf()
    except local_stack.LocalStackError as exc:
        pytest.skip(str(exc))


def port_args(ports: list[int]) -> list[str]:
    return ["--grpc-port", str(ports[0]), "--http-port", str(ports[1]), "--metrics-port", str(ports[2])]


@pytest.mark.smollm
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_local_starts_prints_and_stops_on_sigint(tmp_path):
    require_smollm()
    ports = free_ports(3)
    proc = start_cli(*port_args(ports), env_home=tmp_path)
    try:
        out = read_until(proc, "Ctrl-C stops it.", timeout=600)
        assert "Ctrl-C stops it." in out, out
        assert "models: smollm2-precise, smollm2-creative" in out
        for port in ports:
            assert f"localhost:{port}" in out
        assert "llama2" not in out and "mistral7b" not in out
        proc.send_signal(signal.SIGINT)
        rest = drain(proc, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert "stopped" in rest
    assert all(port_free(port) for port in ports)  # tritonserver is gone too


@contextlib.contextmanager
def local_on_echo(tmp_path: Path):
    """`triton-console local --models <echo repo>`, ready; stopped with SIGTERM on the way out,
    which must end it with status 0 and free its ports. Yields (process, output so far, ports)."""
    repo = tmp_path / "repo"
    shutil.copytree(TESTS / "models" / "echo", repo / "echo")
    ports = free_ports(3)
    proc = start_cli(*port_args(ports), "--models", str(repo), env_home=tmp_path)
    try:
        out = read_until(proc, "Ctrl-C stops it.", timeout=180)
        yield proc, out, ports
        proc.send_signal(signal.SIGTERM)
        rest = drain(proc, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, rest
    assert all(port_free(port) for port in ports)


def test_local_serves_a_chosen_repository_and_sigterm_stops_it(tmp_path):
    with local_on_echo(tmp_path) as (_proc, out, _ports):
        assert "models: echo" in out, out


async def ask_echo(url: str, prompt: str) -> str:
    client = TritonStreamClient(url, timeout_s=30)
    try:
        return (await client.complete("echo", prompt)).text
    finally:
        await client.close()


def tritonserver_pid(grpc_port: int) -> int:
    """The pid of the tritonserver that listens on ``grpc_port`` (from /proc)."""
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if cmdline and cmdline[0].endswith(b"tritonserver") and f"--grpc-port={grpc_port}".encode() in cmdline:
            return int(entry.name)
    raise AssertionError(f"no tritonserver on port {grpc_port}")


def test_local_starts_a_crashed_server_again_and_says_so(tmp_path):
    """tritonserver 2.51 can crash on a client's cancellation (README, "Known upstream crash"):
    `triton-console local` starts it again on the same ports and reports both on stderr."""
    with local_on_echo(tmp_path) as (proc, _out, ports):
        os.kill(tritonserver_pid(ports[0]), signal.SIGSEGV)
        seen, deadline = [], time.monotonic() + 120
        while not any("is back on the same ports" in line for line in seen) and time.monotonic() < deadline:
            try:
                seen.append(proc.stdout_rest.get(timeout=1) or "")
            except queue.Empty:
                continue
        out = "".join(seen)
        assert "tritonserver exited (code -11); starting it again (1 of 3)" in out, out
        assert "is back on the same ports" in out, out
        assert asyncio.run(ask_echo(f"localhost:{ports[0]}", "still here")) == "stillhere"


def test_local_taken_port_is_a_clear_error(tmp_path):
    ports = free_ports(3)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", ports[1]))
        busy.listen()
        proc = start_cli(*port_args(ports), "--models", str(TESTS / "models"), env_home=tmp_path)
        out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert f"HTTP port {ports[1]} already in use" in out
    assert "--http-port" in out


@pytest.mark.smollm
@pytest.mark.timeout(600)
def test_local_model_that_fails_to_load_shows_the_server_log_lines(tmp_path):
    require_smollm()
    repo = tmp_path / "broken"
    local_stack.generate_repository(repo, overrides={"engine": "bogus"}, entries=local_stack.ENTRIES[:1])
    proc = start_cli(*port_args(free_ports(3)), "--models", str(repo), env_home=tmp_path)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1, out
    assert "tritonserver exited" in out or "not ready" in out
    assert "parameter engine must be one of" in out  # model.py's own message, from the server log
    assert "smollm2-precise" in out


@pytest.mark.smollm
async def test_app_shell_lists_the_local_stack_models(local_stack):
    cfg = connect_config(Config(), local_stack)
    assert cfg.triton.models == local_stack.models
    app = TritonConsoleApp(cfg)
    async with app.run_test(size=(140, 32)) as pilot:
        table = app.screen.query_one(DataTable)
        deadline = time.monotonic() + 30
        while table.row_count < 2 and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert table.row_count == 2
        for name in local_stack.models:
            assert "READY" in str(table.get_cell(name, "state"))
        assert "2/2 models ready" in str(app.screen.query_one("#server-line", Static).render())
        await pilot.press("enter")
        config_text = app.screen.query_one("#config-text", Static)
        deadline = time.monotonic() + 20
        while "default_temperature" not in str(config_text.render()) and time.monotonic() < deadline:
            await pilot.pause(0.1)
        assert "gguf_file" in str(config_text.render())


def test_dash_dash_local_opens_the_app_on_the_stack_and_stops_it(tmp_path, monkeypatch):
    """`triton-console --local`: the real app (headless here, instead of the terminal loop) is
    connected to the stack it started, and the stack is gone once the app exits."""
    import console.tui.app as app_module
    from console import cli

    repo = tmp_path / "repo"
    shutil.copytree(TESTS / "models" / "echo", repo / "echo")
    ports = free_ports(3)
    for key, value in {"GRPC_PORT": ports[0], "HTTP_PORT": ports[1], "METRICS_PORT": ports[2], "MODELS": repo}.items():
        monkeypatch.setenv(f"TRITON_CONSOLE_LOCAL_{key}", str(value))
    seen = {}

    def run_app_headless(cfg, on_app=None):
        async def drive():
            app = TritonConsoleApp(cfg)
            on_app(app)  # the stack's watch, reporting to this app
            seen["watching"] = any(t.name == "tritonserver-watch" for t in threading.enumerate())
            async with app.run_test(size=(120, 30)) as pilot:
                table = app.screen.query_one(DataTable)
                deadline = time.monotonic() + 30
                while table.row_count < 1 and time.monotonic() < deadline:
                    await pilot.pause(0.1)
                seen["rows"] = table.row_count
                seen["state"] = str(table.get_cell("echo", "state")) if table.row_count else ""

        seen["url"], seen["models"] = cfg.triton.url, list(cfg.triton.models)
        asyncio.run(drive())
        return 0

    monkeypatch.setattr(app_module, "run_app", run_app_headless)
    assert cli.main(["--local"]) == 0
    assert seen["url"] == f"localhost:{ports[0]}"
    assert seen["models"] == ["echo"]
    assert seen["rows"] == 1 and "READY" in seen["state"]
    assert all(port_free(port) for port in ports)  # stopped with the app
    assert seen["watching"] and not any(t.name == "tritonserver-watch" for t in threading.enumerate())


@pytest.mark.smollm
async def test_a_client_that_drops_its_connection_stops_the_generation(local_stack):
    """A client process killed mid-stream (no cancel, the socket just goes): generation stops."""
    from tests.test_model_local import assert_generation_stopped, metric

    model = local_stack.models[1]
    script = (
        "import asyncio, sys\n"
        "from console.core.streaming import TritonStreamClient\n"
        "async def main():\n"
        f"    c = TritonStreamClient({local_stack.grpc_url!r}, 120)\n"
        f"    async for e in c.stream({model!r}, 'Tell me about rivers.', {{'max_tokens': 400, 'ignore_eos': True}}):\n"
        "        print('delta', flush=True)\n"
        "asyncio.run(main())\n"
    )
    before = metric(local_stack, "vllm:generation_tokens_total", model)
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert "delta" in read_until(proc, "delta", timeout=180)
    finally:
        proc.kill()
        proc.wait(timeout=30)
    await assert_generation_stopped(local_stack, model, before, 400)


def test_hf_token_never_reaches_the_server_log_or_the_output(tmp_path):
    """A gated model that cannot load (no such repo offline): the token is used, never written."""
    token = "hf_" + "Zq7" * 12  # token-shaped, fake
    repo = tmp_path / "gated"
    (repo / "gated" / "1").mkdir(parents=True)
    template = (ROOT / "model_repository" / "llama2" / "config.pbtxt").read_text()
    (repo / "gated" / "config.pbtxt").write_text(local_stack.set_parameter(template, "model", "meta-llama/Not-There-7b"))
    shutil.copy2(ROOT / "model_repository" / "llama2" / "1" / "model.py", repo / "gated" / "1" / "model.py")
    proc = start_cli(*port_args(free_ports(3)), "--models", str(repo), env_home=tmp_path, extra_env={"HF_TOKEN": token})
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 1, out
    assert "gated" in out and "Not-There-7b" in out  # the load failed and says which model
    logs = list((tmp_path / "data").rglob("tritonserver-*.log"))
    assert logs
    for text in [out, *(log.read_text(errors="replace") for log in logs)]:
        assert token not in text
