"""Port-forwards the console keeps itself: a local port that always leads to a ready Triton pod.

Each accepted local connection opens its own API-server port-forward stream (WebSocket,
``v4.channel.k8s.io``, via the kubernetes client) to the pod chosen *at that moment*: when the
pod goes away, open connections break (gRPC clients reconnect) and the next ones reach another
ready pod, on the same local port, so chat, bench and metrics keep their URLs. ``state`` tells
the operator what the forward is doing.
"""

from __future__ import annotations

import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

PodPicker = Callable[[], "str | None"]


def ready_pod_picker(monitor: Any, label: str = "app.kubernetes.io/name=triton-vllm") -> PodPicker:
    """Pick a ready pod with ``label`` from a ClusterMonitor's pod watch (oldest first: most warmed up)."""
    key, _, value = label.partition("=")

    def pick() -> str | None:
        from console.core.kube.model import pod_row

        candidates = [p for p in monitor.objects("pods") if ((p.get("metadata") or {}).get("labels") or {}).get(key) == value]
        rows = sorted((pod_row(p) for p in candidates), key=lambda r: r.created)
        ready = [r.name for r in rows if r.is_ready]
        return ready[0] if ready else None

    return pick


class PortForward:
    """127.0.0.1:<local_port> -> <pod>:<remote_port>, the pod picked per connection."""

    def __init__(self, api_client: Any, namespace: str, remote_port: int, pick_pod: PodPicker, local_port: int = 0,
                 name: str = "", connect_timeout_s: float = 10.0) -> None:
        import kubernetes.client

        # Its own ApiClient: the client's websocket helper swaps ``api_client.request`` while it
        # connects, which must never affect the watches sharing the main client.
        self.api_client = kubernetes.client.ApiClient(api_client.configuration)
        self.namespace, self.remote_port, self.pick_pod = namespace, remote_port, pick_pod
        self.name = name or str(remote_port)
        self.connect_timeout_s = connect_timeout_s
        self.state = "starting"
        self.pod: str | None = None
        self.connections = 0
        self.failures = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", local_port))
        self._listener.listen(64)
        self.local_port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept_loop, name=f"forward-{self.name}", daemon=True)
        self._lock = threading.Lock()
        self._bad: dict[str, float] = {}  # pod -> when it failed; skipped for a while

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.local_port}"

    def start(self) -> PortForward:
        self._refresh_state()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self._listener.close()
        except OSError:
            pass
        self._thread.join(3)
        self.state = "stopped"

    def _choose(self) -> str | None:
        pod = self.pick_pod()
        now = time.monotonic()
        if pod and now - self._bad.get(pod, -1e9) < 5.0:
            return None
        return pod

    def _refresh_state(self) -> None:
        pod = self._choose()
        if pod is None:
            self.state = "waiting for a ready pod"
        elif self.failures and self.pod == pod and self.state.startswith("error"):
            pass
        else:
            self.state = f"ready -> {pod}:{self.remote_port}"
        self.pod = pod

    def _accept_loop(self) -> None:
        self._listener.settimeout(1.0)
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except socket.timeout:
                self._refresh_state()
                continue
            except OSError:
                break
            threading.Thread(target=self._serve, args=(conn,), name=f"forward-{self.name}-conn", daemon=True).start()

    def _open(self, pod: str) -> Any:
        import kubernetes.client
        from kubernetes.stream import portforward

        core = kubernetes.client.CoreV1Api(self.api_client)
        with self._lock:  # the websocket helper patches the client while it connects
            forward = portforward(core.connect_get_namespaced_pod_portforward, pod, self.namespace,
                                  ports=str(self.remote_port), _request_timeout=self.connect_timeout_s)
        return forward

    def _serve(self, conn: socket.socket) -> None:
        pod = self._choose()
        if pod is None:
            self.state = "waiting for a ready pod"
            conn.close()
            return
        try:
            forward = self._open(pod)
        except Exception as exc:  # noqa: BLE001 - a failed forward is a state, not a crash
            self.failures += 1
            self._bad[pod] = time.monotonic()
            self.state = f"error: {pod}: {type(exc).__name__}: {str(exc)[:120]}"
            conn.close()
            return
        self.pod = pod
        self.connections += 1
        self.state = f"ready -> {pod}:{self.remote_port}"
        remote = forward.socket(self.remote_port)
        try:
            _relay(conn, remote, self._stop)
        finally:
            error = forward.error(self.remote_port)
            if error:
                self.failures += 1
                self._bad[pod] = time.monotonic()
                self.state = f"error: {pod}: {error.strip()[:160]}"
            for s in (conn, remote):
                try:
                    s.close()
                except OSError:
                    pass
            forward.close()


def _relay(a: socket.socket, b: Any, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes."""
    selector = selectors.DefaultSelector()
    selector.register(a, selectors.EVENT_READ, b)
    selector.register(b, selectors.EVENT_READ, a)
    try:
        while not stop.is_set():
            for key, _ in selector.select(timeout=1.0):
                try:
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                except OSError:
                    return
                if not data:
                    return
                key.data.sendall(data)
    finally:
        selector.close()


class TritonForwards:
    """The two forwards the console needs: Triton gRPC (8001) and metrics (8002)."""

    def __init__(self, api_client: Any, namespace: str, pick_pod: PodPicker, grpc_port: int = 8001,
                 metrics_port: int = 8002) -> None:
        self.grpc = PortForward(api_client, namespace, grpc_port, pick_pod, name="grpc")
        self.metrics = PortForward(api_client, namespace, metrics_port, pick_pod, name="metrics")

    def start(self) -> TritonForwards:
        self.grpc.start()
        self.metrics.start()
        return self

    def stop(self) -> None:
        self.grpc.stop()
        self.metrics.stop()

    @property
    def triton_url(self) -> str:
        return self.grpc.address

    @property
    def metrics_url(self) -> str:
        return f"http://{self.metrics.address}/metrics"

    def states(self) -> dict[str, str]:
        return {"grpc": f"{self.grpc.address} {self.grpc.state}", "metrics": f"{self.metrics.address} {self.metrics.state}"}


def pod_models(api_client: Any, namespace: str, pod: str, grpc_port: int = 8001, timeout_s: float = 5.0) -> list[str] | str:
    """Which models a pod reports ready, through a short-lived forward to that pod (or an error text)."""
    import asyncio

    from console.core.server_info import TritonAdmin

    forward = PortForward(api_client, namespace, grpc_port, lambda: pod, name=f"probe-{pod}").start()
    try:
        async def ask() -> Any:
            admin = TritonAdmin(forward.address, timeout_s=timeout_s)
            try:
                return await admin.status()
            finally:
                await admin.close()

        status = asyncio.run(ask())
        if status.error:
            return status.error
        return status.ready_models
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}: {exc}"
    finally:
        forward.stop()
