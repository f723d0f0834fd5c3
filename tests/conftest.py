"""Shared fixtures: an isolated home for every test, and real tritonserver processes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from console.core.tritonserver import Ports, TritonServer, TritonServerError, free_ports

TESTS = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Config, data and cache dirs under tmp: tests never touch the operator's files."""
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(tmp_path / var.lower()))
    for var in [v for v in __import__("os").environ if v.startswith("TRITON_CONSOLE_")]:
        monkeypatch.delenv(var)
    return tmp_path


@pytest.fixture(scope="session")
def triton_server_factory(tmp_path_factory):
    """Start a real tritonserver over a model repository on free ports; stopped at session end.

    ``start(repo, name=..., env=..., timeout=...)`` returns a ready :class:`TritonServer`.
    """
    servers: list[TritonServer] = []

    def start(repo: Path, name: str = "triton", env: dict[str, str] | None = None, timeout: float = 300) -> TritonServer:
        last: Exception | None = None
        for _attempt in range(3):  # a free port can be taken between probe and bind
            server = TritonServer(
                Path(repo),
                Ports(*free_ports(3)),
                log_file=tmp_path_factory.mktemp(name) / "tritonserver.log",
                extra_env=env or {},
                extra_args=["--exit-timeout-secs=5"],
            )
            try:
                server.start()
                server.wait_ready(timeout=timeout)
            except TritonServerError as exc:
                server.stop()
                last = exc
                if "address already in use" in str(exc).lower() or "already in use" in str(exc):
                    continue
                raise
            servers.append(server)
            return server
        raise last  # type: ignore[misc]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def echo_server(triton_server_factory, tmp_path_factory) -> TritonServer:
    """A real tritonserver serving tests/models/echo (streams the input's words back)."""
    repo = tmp_path_factory.mktemp("echo-repo")
    shutil.copytree(TESTS / "models" / "echo", repo / "echo")
    return triton_server_factory(repo, name="echo")
