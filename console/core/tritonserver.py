"""Run a real tritonserver from the nvidia-pytriton wheel (Triton 2.51, Python backend inside).

Used by `triton-console local` and by the test fixtures. The recipe (facts.md): the Python
backend stub for the running Python must sit in ``backends/python/``; ``LD_LIBRARY_PATH`` must
include ``nvidia_pytriton.libs`` and the Python LIBDIR; model.py finds our site-packages through
``EXTRA_SITE_DIRS`` (the stub does not always honour PYTHONPATH).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import site
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from console.core import paths

INSTALL_HINT = "pip install nvidia-pytriton==0.7.0  (the wheel ships tritonserver 2.51)"
# Server log lines that explain a failed start or load.
_RELEVANT = ("error", "failed", "unavailable", "traceback", "exception", "address already in use", "exit")


class TritonServerError(RuntimeError):
    """tritonserver could not be found, started, or did not become ready; message says why."""


class PortInUse(TritonServerError):
    pass


@dataclass(frozen=True)
class TritonInstall:
    binary: Path
    backends_dir: Path
    lib_dir: Path
    version: str = "2.51.0"


@dataclass(frozen=True)
class Ports:
    grpc: int = 8001
    http: int = 8000
    metrics: int = 8002

    def items(self) -> list[tuple[str, int]]:
        return [("gRPC", self.grpc), ("HTTP", self.http), ("metrics", self.metrics)]


def find_install() -> TritonInstall:
    """Locate tritonserver inside the nvidia-pytriton wheel and make its Python backend usable."""
    spec = importlib.util.find_spec("pytriton")
    if spec is None or not spec.origin:
        raise TritonServerError(f"tritonserver not found: {INSTALL_HINT}")
    pkg = Path(spec.origin).parent
    base = pkg / "tritonserver"
    binary = base / "bin" / "tritonserver"
    lib_dir = pkg.parent / "nvidia_pytriton.libs"
    if not binary.is_file():
        raise TritonServerError(f"{binary} missing: reinstall with {INSTALL_HINT}")
    pyver = f"{sys.version_info.major}.{sys.version_info.minor}"
    stub = base / "python_backend_stubs" / pyver / "triton_python_backend_stub"
    if not stub.is_file():
        raise TritonServerError(f"the wheel has no Python backend stub for Python {pyver}")
    backends = base / "backends"
    target = backends / "python" / "triton_python_backend_stub"
    if not target.is_file():
        try:
            shutil.copy2(stub, target)
        except OSError:
            backends = _private_backends(backends, stub)
    return TritonInstall(binary=binary, backends_dir=backends, lib_dir=lib_dir)


def _private_backends(backends: Path, stub: Path) -> Path:
    """A writable copy of the backends folder (links) when site-packages is read-only."""
    private = paths.ensure_dir(paths.cache_dir() / "backends" / "python")
    for item in (backends / "python").iterdir():
        link = private / item.name
        if not link.exists():
            link.symlink_to(item)
    if not (private / stub.name).exists():
        shutil.copy2(stub, private / stub.name)
    return private.parent


def site_dirs() -> list[str]:
    """The site-packages of this interpreter, handed to model.py through EXTRA_SITE_DIRS."""
    dirs = [*site.getsitepackages()]
    user = site.getusersitepackages()
    if isinstance(user, str) and os.path.isdir(user):
        dirs.append(user)
    return [d for d in dirs if os.path.isdir(d)]


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_ports_free(ports: Ports) -> None:
    taken = [f"{name} port {port}" for name, port in ports.items() if not port_free(port)]
    if taken:
        raise PortInUse(
            f"{', '.join(taken)} already in use; stop what listens there or pick other ports "
            "(--grpc-port/--http-port/--metrics-port)"
        )


def free_ports(count: int = 3) -> list[int]:
    """Ports the OS says are free right now (for tests and `--ports auto`)."""
    socks, found = [], []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            socks.append(sock)
            found.append(sock.getsockname()[1])
    finally:
        for sock in socks:
            sock.close()
    return found


@dataclass
class TritonServer:
    """One tritonserver process over a model repository. Use as a context manager."""

    model_repository: Path
    ports: Ports = field(default_factory=Ports)
    log_file: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)
    process: subprocess.Popen | None = None
    started_at: float = 0.0

    @property
    def grpc_url(self) -> str:
        return f"localhost:{self.ports.grpc}"

    @property
    def http_url(self) -> str:
        return f"localhost:{self.ports.http}"

    @property
    def metrics_url(self) -> str:
        return f"http://localhost:{self.ports.metrics}/metrics"

    def command(self, install: TritonInstall) -> list[str]:
        return [
            str(install.binary),
            f"--model-repository={self.model_repository}",
            f"--backend-directory={install.backends_dir}",
            f"--grpc-port={self.ports.grpc}",
            f"--http-port={self.ports.http}",
            f"--metrics-port={self.ports.metrics}",
            "--allow-metrics=true",
            "--log-verbose=0",
            *self.extra_args,
        ]

    def environment(self, install: TritonInstall) -> dict[str, str]:
        env = dict(os.environ)
        libs = [str(install.lib_dir), sysconfig.get_config_var("LIBDIR") or ""]
        if env.get("LD_LIBRARY_PATH"):
            libs.append(env["LD_LIBRARY_PATH"])
        env["LD_LIBRARY_PATH"] = os.pathsep.join(p for p in libs if p)
        sites = site_dirs()
        env["EXTRA_SITE_DIRS"] = os.pathsep.join(sites)
        env["PYTHONPATH"] = os.pathsep.join([*sites, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        # The stub embeds Python with an isolated config (env vars ignored) and finds its prefix
        # by looking `python3` up on PATH: this interpreter's bin first makes it use our venv
        # (numpy<2) instead of the base install, whose numpy 2 garbles BYTES inputs.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]).rstrip(os.pathsep)
        env.setdefault("HF_HUB_OFFLINE", "1")
        env.setdefault("TRANSFORMERS_OFFLINE", "1")
        env.setdefault("TOKENIZERS_PARALLELISM", "false")
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        if self.process is not None:
            raise TritonServerError("already started")
        repo = Path(self.model_repository)
        if not repo.is_dir():
            raise TritonServerError(f"model repository {repo} does not exist")
        check_ports_free(self.ports)
        install = find_install()
        if self.log_file is None:
            self.log_file = paths.ensure_dir(paths.data_dir() / "logs") / f"tritonserver-{self.ports.grpc}.log"
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_file, "wb")  # noqa: SIM115 - handed to the child
        try:
            self.process = subprocess.Popen(
                self.command(install),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.environment(install),
                start_new_session=True,  # Ctrl-C in a terminal reaches us, we stop it in order
            )
        finally:
            log.close()
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def is_ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://{self.http_url}/v2/health/ready", timeout=2) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def wait_ready(self, timeout: float = 300.0, poll: float = 0.25, give_up: Callable[[], bool] | None = None) -> float:
        """Block until the server and all its models are ready; returns seconds since start.
        Raises TritonServerError when it exits, after ``timeout``, or once ``give_up()`` is true."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if give_up is not None and give_up():
                raise TritonServerError("stopped waiting for tritonserver to be ready")
            if not self.alive():
                code = self.process.returncode if self.process else None
                raise TritonServerError(
                    f"tritonserver exited (code {code}) before it was ready:\n{self.relevant_log_lines()}"
                )
            if self.is_ready():
                return time.monotonic() - self.started_at
            time.sleep(poll)
        raise TritonServerError(f"tritonserver not ready after {timeout:.0f}s:\n{self.relevant_log_lines()}")

    def log_text(self) -> str:
        if self.log_file and self.log_file.is_file():
            return self.log_file.read_text(encoding="utf-8", errors="replace")
        return ""

    def relevant_log_lines(self, limit: int = 40) -> str:
        """The server log lines that explain a failure (errors, failed loads, tracebacks)."""
        lines = self.log_text().splitlines()
        keep = [ln for ln in lines if any(k in ln.lower() for k in _RELEVANT) and "nvml" not in ln.lower()]
        keep = keep or lines[-limit:]
        return "\n".join(keep[-limit:])

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGINT (Triton unloads models and exits), then SIGKILL if it hangs."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return proc.returncode if proc else None
        for sig, wait in ((signal.SIGINT, timeout), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                return proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
        return proc.poll()

    def __enter__(self) -> TritonServer:
        self.start()
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
