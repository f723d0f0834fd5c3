"""Watches against a real HTTP API server (kmock): updates arrive, drops and 410s lose nothing."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from console.core.kube.connection import Target, connect
from console.core.kube.monitor import ClusterMonitor
from console.core.kube.watch import NODEPOOLS, PODS as PODS_RESOURCE, ResourceWatcher
from tests.kube_cluster import (GPU_NODE, NAMESPACE, NODES, PODS, POD_PENDING, POD_READY, POD_SPOT, gpu_node, triton_pod,
                                wait_until)


@pytest.fixture
def monitor(kube_cluster, tmp_path):
    connection = connect(Target(kubeconfig=kube_cluster.kubeconfig(tmp_path / "kubeconfig")))
    mon = ClusterMonitor(connection, NAMESPACE).start()
    assert mon.wait_synced(30)
    yield mon
    mon.stop()


def _pod_names(mon: ClusterMonitor) -> list[str]:
    return [p.name for p in mon.picture().pods]


def test_first_listing_gives_the_whole_picture(monitor):
    picture = monitor.picture()
    assert [n.instance_type for n in picture.nodes] == ["g5.24xlarge", "g5.2xlarge", "m5.xlarge", "m5.xlarge"]
    gpu = picture.nodes[0]
    assert (gpu.gpus_allocatable, gpu.gpus_requested, gpu.pool, gpu.capacity_type) == (4, 1, "gpu", "on-demand")
    assert picture.nodes[1].capacity_type == "spot" and picture.nodes[2].pool == "ng:core-node-group"
    statuses = {p.name: p.status for p in picture.pods}
    assert statuses == {POD_READY: "Running", POD_SPOT: "CrashLoopBackOff", POD_PENDING: "Unschedulable"}
    hpa = picture.hpas[0]
    assert hpa.at_max and hpa.limited and hpa.metrics[0].name == "pods/avg_time_queue_ms"
    assert (hpa.metrics[0].current, hpa.metrics[0].target) == ("182", "50")
    assert [e.type for e in picture.events][:2] == ["Warning", "Warning"]
    assert picture.karpenter and {p.name for p in picture.nodepools} == {"cpu", "gpu"}
    assert len(picture.nodeclaims) == 2


def test_watch_updates_show_up(kube_cluster, monitor):
    kube_cluster.patch(PODS, POD_PENDING, {"spec": {"nodeName": GPU_NODE}, "status": {"phase": "Running", "conditions": [
        {"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}]}}, NAMESPACE)
    wait_until(lambda: {p.name: p.status for p in monitor.picture().pods}[POD_PENDING] == "Running", what="pod update")
    wait_until(lambda: monitor.picture().nodes[0].gpus_requested == 2, what="GPU request moved to the node")
    kube_cluster.add(NODES, gpu_node("ip-10-0-99-1.us-west-2.compute.internal", "g5.xlarge", 1, "spot"))
    wait_until(lambda: len(monitor.picture().nodes) == 5, what="new node")


def test_a_dropped_watch_resumes_without_losing_or_duplicating_rows(kube_cluster, monitor):
    watcher = monitor.watchers["pods"]
    before = watcher.status.reconnects
    wait_until(lambda: kube_cluster.open_watches() >= 8, what="all watches open")
    assert kube_cluster.drop_watches() >= 8
    # changes while the console is disconnected
    kube_cluster.delete(PODS, POD_SPOT, NAMESPACE)
    kube_cluster.add(PODS, triton_pod("triton-vllm-5d9c7b8f6d-new01", GPU_NODE))
    kube_cluster.patch(PODS, POD_READY, {"status": {"containerStatuses": [{"name": "triton", "ready": True, "restartCount": 5,
                                                                             "image": "x", "imageID": "y", "state": {}}]}}, NAMESPACE)
    expected = sorted([POD_PENDING, POD_READY, "triton-vllm-5d9c7b8f6d-new01"])
    wait_until(lambda: _pod_names(monitor) == expected, what="pods after reconnect")
    wait_until(lambda: {p.name: p.restarts for p in monitor.picture().pods}[POD_READY] == 5, what="modified pod")
    assert watcher.status.reconnects > before and watcher.status.relists == 0  # resumed from its version
    time.sleep(1.0)
    assert _pod_names(monitor) == expected  # nothing replayed twice


def test_a_410_relists_and_replaces_the_rows(kube_cluster, monitor):
    watcher = monitor.watchers["pods"]
    wait_until(lambda: kube_cluster.open_watches() >= 8, what="all watches open")
    kube_cluster.compact()
    kube_cluster.drop_watches()
    kube_cluster.delete(PODS, POD_PENDING, NAMESPACE)
    kube_cluster.add(PODS, triton_pod("triton-vllm-5d9c7b8f6d-after410", GPU_NODE))
    expected = sorted([POD_READY, POD_SPOT, "triton-vllm-5d9c7b8f6d-after410"])
    wait_until(lambda: _pod_names(monitor) == expected, what="pods after 410")
    assert watcher.status.relists >= 1
    kube_cluster.add(PODS, triton_pod("triton-vllm-5d9c7b8f6d-later", GPU_NODE))
    wait_until(lambda: "triton-vllm-5d9c7b8f6d-later" in _pod_names(monitor), what="watch continues after relist")
    assert len(_pod_names(monitor)) == len(set(_pod_names(monitor))) == 4


def test_missing_karpenter_crds_are_absent_not_errors(empty_kube_cluster, tmp_path):
    connection = connect(Target(kubeconfig=empty_kube_cluster.kubeconfig(tmp_path / "k")))
    mon = ClusterMonitor(connection, NAMESPACE).start()
    try:
        assert mon.wait_synced(30)
        picture = mon.picture()
        assert picture.watches["nodepools"].startswith("absent") and not picture.karpenter
        assert picture.watches["pods"] in ("watching", "listing") and picture.nodes == ()
    finally:
        mon.stop()


def test_unreachable_server_retries_and_stops_promptly(tmp_path):
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    import kubernetes.client

    configuration = kubernetes.client.Configuration()
    configuration.host = f"http://127.0.0.1:{port}"
    watcher = ResourceWatcher(kubernetes.client.ApiClient(configuration), PODS_RESOURCE, NAMESPACE,
                              backoff_s=(0.05, 0.2), request_timeout_s=2).start()
    wait_until(lambda: watcher.status.state == "retrying", what="retrying state")
    assert "cannot reach" in watcher.status.detail
    started = time.monotonic()
    watcher.stop()
    assert time.monotonic() - started < 5 and watcher.status.state == "stopped"


def test_a_silent_server_never_hangs_the_watch():
    """An API server that accepts and then says nothing: the read timeout turns it into a retry."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    threading.Thread(target=accept, daemon=True).start()
    import kubernetes.client

    configuration = kubernetes.client.Configuration()
    configuration.host = f"http://127.0.0.1:{server.getsockname()[1]}"
    watcher = ResourceWatcher(kubernetes.client.ApiClient(configuration), NODEPOOLS, None,
                              backoff_s=(0.05, 0.2), request_timeout_s=1).start()
    try:
        wait_until(lambda: watcher.status.state == "retrying", timeout=30, what="read timeout -> retry")
        assert "silent" in watcher.status.detail or "timed out" in watcher.status.detail.lower()
    finally:
        watcher.stop()
        stop.set()
        server.close()
        for conn in held:
            conn.close()
