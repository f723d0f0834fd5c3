"""Shared fixtures: an isolated home for every test, and real tritonserver processes."""

from __future__ import annotations

import gc
import shutil
import warnings
from pathlib import Path

import pytest

from console.core.server_watch import start_again
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


@pytest.fixture(autouse=True)
def gc_given_back():
    """Every app a test runs gives garbage collection back as it found it (console/tui/quiet_gc.py):
    a leftover freeze or threshold would change every later test's memory behaviour."""
    before = gc.get_threshold()
    yield
    assert gc.get_threshold() == before, "an app left CPython's collection thresholds changed"
    assert gc.get_freeze_count() == 0, "an app left objects frozen"


_SERVERS: dict[str, TritonServer] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test reports every session tritonserver that is no longer running, with its exit
    code and log tail: a flaky "connection refused" then says whether the server died, and why."""
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for name, server in _SERVERS.items():
        if server.process is not None and not server.alive():
            tail = "\n".join(server.log_text().splitlines()[-40:])
            report.sections.append((f"tritonserver {name!r} exited with code {server.process.returncode}", tail))


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
            _SERVERS[f"{name}-{len(servers)}"] = server
            return server
        raise last  # type: ignore[misc]

    yield start
    for server in servers:
        server.stop()
    _SERVERS.clear()


@pytest.fixture(scope="session")
def echo_server(triton_server_factory, tmp_path_factory) -> TritonServer:
    """A real tritonserver serving tests/models/echo (streams the input's words back)."""
    repo = tmp_path_factory.mktemp("echo-repo")
    shutil.copytree(TESTS / "models" / "echo", repo / "echo")
    return triton_server_factory(repo, name="echo")


@pytest.fixture(scope="session")
def _moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_server(_moto_server, monkeypatch):
    """A real moto server on loopback; boto3 reaches it through AWS_ENDPOINT_URL.

    State is reset for every test (moto's reset API), credentials are fake.
    """
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{_moto_server}/moto-api/reset", method="POST"), timeout=10)
    monkeypatch.setenv("AWS_ENDPOINT_URL", _moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return _moto_server


STANDINS = TESTS / "standins"


@pytest.fixture
def terraform_standin(tmp_path, monkeypatch):
    """Point the terraform runner at the stand-in executable playing a scenario.

    ``use(scenario)`` (a name under tests/standins/scenarios/ without .json, or a path) sets
    ``TERRAFORM_BIN``, ``TERRAFORM_STANDIN_SCENARIO`` and ``TERRAFORM_STANDIN_LOG`` and returns
    the invocation log path; call it again to switch scenario mid-test (the state stays).
    """
    log = tmp_path / "terraform-invocations.jsonl"
    monkeypatch.setenv("TERRAFORM_BIN", str(STANDINS / "terraform"))
    monkeypatch.setenv("TERRAFORM_STANDIN_LOG", str(log))

    def use(scenario: str | Path) -> Path:
        path = Path(scenario)
        if not path.is_file():
            path = STANDINS / "scenarios" / f"{scenario}.json"
        monkeypatch.setenv("TERRAFORM_STANDIN_SCENARIO", str(path))
        return log

    return use


@pytest.fixture(scope="session")
def local_stack(triton_server_factory, tmp_path_factory):
    """ONE real tritonserver for the whole session serving the generated local repository:
    our model.py on SmolLM2-135M-Instruct as ``smollm2-precise`` and ``smollm2-creative``.

    Returns a :class:`console.core.local_stack.LocalStack` (``.grpc_url``, ``.http_url``,
    ``.metrics_url``, ``.models``, ``.server``). Keep generations short (small max_tokens).
    """
    from console.core import local_stack as stack_mod

    try:
        stack_mod.smollm_gguf()
    except stack_mod.LocalStackError as exc:
        pytest.skip(str(exc))
    repo = tmp_path_factory.mktemp("local-repository")
    names = stack_mod.generate_repository(repo)
    server = triton_server_factory(repo, name="local-stack", timeout=600)
    return stack_mod.LocalStack(server=server, models=names, repository=repo, ready_s=server.wait_ready(timeout=5))


@pytest.fixture(scope="session")
def echo_and_failing_server(triton_server_factory, tmp_path_factory) -> TritonServer:
    """A real tritonserver serving echo and failing (every request raises in execute())."""
    repo = tmp_path_factory.mktemp("echo-failing-repo")
    for name in ("echo", "failing"):
        shutil.copytree(TESTS / "models" / name, repo / name)
    return triton_server_factory(repo, name="echo-failing")

@pytest.fixture
def kube_cluster():
    """A realistic Kubernetes API server (kmock, real HTTP on loopback): see tests/kube_cluster.py.

    Loaded with the seed blueprint's shape: m5 core nodes, g5 GPU nodes from Karpenter, Triton
    pods, Deployment/ReplicaSet, an autoscaling/v2 HPA with custom-metric status, warning events,
    Karpenter NodePools/NodeClaims. Use ``.add/.patch/.delete``, ``.drop_watches()``, ``.compact()``
    (410 Gone for older resourceVersions), ``.kubeconfig(path)`` and ``.api_client()``.
    """
    from tests.kube_cluster import KubeCluster

    cluster = KubeCluster().start()
    cluster.load_realistic()
    yield cluster
    cluster.stop()


@pytest.fixture
def empty_kube_cluster():
    """The same API server with nothing in it and no Karpenter CRDs."""
    from tests.kube_cluster import KubeCluster

    cluster = KubeCluster(with_karpenter=False).start()
    yield cluster
    cluster.stop()


# ----- issue 3: the pacer test model (bench/models/pacer) -----------------------------------
PACER_MODELS = {
    "pacer-a": {"tokens_per_second": 400, "ttft_ms": 20, "max_tokens": 24},
    "pacer-b": {"tokens_per_second": 200, "ttft_ms": 40, "max_tokens": 16},
}


@pytest.fixture(scope="session")
def _pacer_session_server(triton_server_factory, tmp_path_factory) -> TritonServer:
    from bench.pacer import make_repository

    repo = make_repository(tmp_path_factory.mktemp("pacer-repo"), PACER_MODELS)
    return triton_server_factory(repo, name="pacer")


@pytest.fixture
def pacer_server(_pacer_session_server) -> TritonServer:
    """A real tritonserver with two pacer entries (fixed text, fixed rate): one per chat pane.

    One for the session; if an earlier test's cancellations crashed it (upstream, see
    :func:`revived`), it is started again, with a warning, before the next test gets it."""
    return revived(_pacer_session_server)


class UpstreamCrash(UserWarning):
    """tritonserver died under a test of ours (not a failure of the code under test)."""


def revived(server: TritonServer) -> TritonServer:
    """``server`` as it is while it runs; after it died, the same server started again on the
    same ports and repository, and a warning with its exit code and log tail.

    Tritonserver 2.51 (the only one a wheel ships, nvidia-pytriton 0.7.0) has races in its gRPC
    request cancellation that can crash it with signal 11 when a client goes away mid-stream
    (triton-inference-server/server#7368, fixed upstream in 24.12 by #7840; docs/decisions.md).
    Tests that cancel or kill streams on purpose use this so that such a crash neither fails
    the behaviour they check in our code nor takes the shared server from the tests after them.
    The crash stays visible in the warnings summary and its log is kept beside the new one."""
    if server.process is None or server.alive():
        return server
    code = server.process.returncode
    tail = "\n".join(server.log_text().splitlines()[-12:])
    warnings.warn(UpstreamCrash(f"tritonserver exited with code {code} under a test; started again\n{tail}"), stacklevel=2)
    start_again(server, "test")
    server.wait_ready(timeout=300)
    return server
