"""Port-forwards through the API server (WebSocket) to a real tritonserver, surviving pod loss."""

from __future__ import annotations

import asyncio

import pytest

from console.core.kube.connection import Target, connect
from console.core.kube.monitor import ClusterMonitor
from console.core.kube.portforward import TritonForwards, pod_models, ready_pod_picker
from console.core.server_info import TritonAdmin
from tests.kube_cluster import NAMESPACE, PODS, POD_READY, POD_SPOT, wait_until


def _ready_models(fw: TritonForwards) -> list[str]:
    async def ask() -> list[str]:
        admin = TritonAdmin(fw.triton_url, timeout_s=10)
        try:
            status = await admin.status()
            forward = fw.grpc
            assert status.error is None, (f"{status.error}; the forward: {forward.state!r}, "
                                          f"{forward.connections} connections, {forward.failures} failures")
            return status.ready_models
        finally:
            await admin.close()

    return asyncio.run(ask())


@pytest.fixture
def forwards(kube_cluster, echo_server, tmp_path):
    for pod in (POD_READY, POD_SPOT):
        kube_cluster.forward_target(NAMESPACE, pod, 8001, "127.0.0.1", echo_server.ports.grpc)
        kube_cluster.forward_target(NAMESPACE, pod, 8002, "127.0.0.1", echo_server.ports.metrics)
    connection = connect(Target(kubeconfig=kube_cluster.kubeconfig(tmp_path / "kc")))
    monitor = ClusterMonitor(connection, NAMESPACE).start()
    assert monitor.wait_synced(30)
    fw = TritonForwards(connection.api_client, NAMESPACE, ready_pod_picker(monitor)).start()
    yield fw, monitor
    fw.stop()
    monitor.stop()


def test_triton_is_reached_through_the_forward_and_survives_pod_loss(kube_cluster, forwards):
    fw, monitor = forwards
    assert fw.grpc.state == f"ready -> {POD_READY}:8001"
    assert _ready_models(fw) == ["echo"]
    import urllib.request

    assert b"nv_inference_request_success" in urllib.request.urlopen(fw.metrics_url, timeout=10).read()
    port = fw.grpc.local_port
    # the serving pod goes away, another becomes ready: same local port, new pod
    kube_cluster.delete(PODS, POD_READY, NAMESPACE)
    kube_cluster.patch(PODS, POD_SPOT, {"status": {"conditions": [{"type": "Ready", "status": "True"}],
                                                   "containerStatuses": [{"name": "triton", "ready": True, "restartCount": 3,
                                                                          "image": "x", "imageID": "y", "state": {"running": {}}}]}},
                       NAMESPACE)
    wait_until(lambda: ready_pod_picker(monitor)() == POD_SPOT, what="the other pod ready")
    wait_until(lambda: _ready_models(fw) == ["echo"], timeout=30, what="models through the new pod")
    assert fw.grpc.local_port == port and fw.grpc.pod == POD_SPOT and POD_SPOT in fw.grpc.state


def test_no_ready_pod_is_a_visible_state_not_a_hang(kube_cluster, forwards):
    fw, monitor = forwards
    kube_cluster.delete(PODS, POD_READY, NAMESPACE)
    wait_until(lambda: ready_pod_picker(monitor)() is None, what="no ready pod")
    import socket

    with socket.create_connection(("127.0.0.1", fw.grpc.local_port), timeout=10) as conn:
        conn.settimeout(10)
        assert conn.recv(10) == b""  # closed at once
    assert fw.grpc.state == "waiting for a ready pod"


def test_pod_models_asks_one_pod(kube_cluster, echo_server):
    kube_cluster.forward_target(NAMESPACE, POD_READY, 8001, "127.0.0.1", echo_server.ports.grpc)
    assert pod_models(kube_cluster.api_client(), NAMESPACE, POD_READY) == ["echo"]
    answer = pod_models(kube_cluster.api_client(), NAMESPACE, POD_SPOT, timeout_s=3)  # no target: refused
    assert isinstance(answer, str) and answer
