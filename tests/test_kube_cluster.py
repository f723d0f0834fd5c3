"""The test API server itself behaves like a Kubernetes API server where our code relies on it."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import kubernetes

from tests.kube_cluster import DEPLOYMENTS, HPAS, NAMESPACE, NODES, PODS, POD_PENDING, POD_READY


def _watch_lines(url: str, stop_after: int, timeout: float = 20, until=None) -> list[dict]:
    out = []
    with urllib.request.urlopen(url, timeout=timeout) as response:
        for line in response:
            out.append(json.loads(line))
            if len(out) >= stop_after or (until and until(out)):
                break
    return out


def test_official_client_lists_realistic_objects(kube_cluster):
    client = kube_cluster.api_client()
    core = kubernetes.client.CoreV1Api(client)
    nodes = core.list_node(_request_timeout=10).items
    gpu = [n for n in nodes if "nvidia.com/gpu" in (n.status.allocatable or {})]
    assert len(nodes) == 4 and len(gpu) == 2
    assert {n.metadata.labels["karpenter.sh/capacity-type"] for n in gpu} == {"on-demand", "spot"}
    pods = core.list_namespaced_pod(NAMESPACE, label_selector="app.kubernetes.io/name=triton-vllm", _request_timeout=10)
    assert len(pods.items) == 3 and int(pods.metadata.resource_version) >= max(int(p.metadata.resource_version) for p in pods.items)
    assert core.list_namespaced_pod(NAMESPACE, label_selector="app.kubernetes.io/name=other", _request_timeout=10).items == []
    hpa = kubernetes.client.AutoscalingV2Api(client).read_namespaced_horizontal_pod_autoscaler("triton-vllm", NAMESPACE, _request_timeout=10)
    assert hpa.status.current_metrics[0].pods.metric.name == "avg_time_queue_ms"
    pools = kubernetes.client.CustomObjectsApi(client).list_cluster_custom_object("karpenter.sh", "v1", "nodepools", _request_timeout=10)
    assert {p["metadata"]["name"] for p in pools["items"]} == {"gpu", "cpu"}


def test_scale_delete_and_logs_through_the_official_client(kube_cluster):
    client = kube_cluster.api_client()
    scale = kubernetes.client.AppsV1Api(client).patch_namespaced_deployment_scale(
        "triton-vllm", NAMESPACE, {"spec": {"replicas": 1}}, _request_timeout=10)
    assert scale.spec.replicas == 1 and kube_cluster.get(DEPLOYMENTS, "triton-vllm", NAMESPACE)["spec"]["replicas"] == 1
    core = kubernetes.client.CoreV1Api(client)
    core.delete_namespaced_pod(POD_PENDING, NAMESPACE, _request_timeout=10)
    assert POD_PENDING not in kube_cluster.names(PODS, NAMESPACE)
    response = core.read_namespaced_pod_log(POD_READY, NAMESPACE, tail_lines=1, _preload_content=False, _request_timeout=10)
    assert b"Started Metrics Service" in response.data


def test_watch_resumes_from_a_version_sends_bookmarks_and_answers_410_after_compaction(kube_cluster):
    kube_cluster.emulator.bookmark_interval_s = 0.2
    listed = json.load(urllib.request.urlopen(f"{kube_cluster.url}/api/v1/nodes", timeout=10))
    rv = listed["metadata"]["resourceVersion"]
    threading.Timer(0.3, kube_cluster.patch, (NODES, listed["items"][0]["metadata"]["name"], {"metadata": {"labels": {"x": "y"}}})).start()
    events = _watch_lines(f"{kube_cluster.url}/api/v1/nodes?watch=true&resourceVersion={rv}&allowWatchBookmarks=true", 50,
                          until=lambda seen: any(e["type"] == "MODIFIED" for e in seen) and seen[-1]["type"] == "BOOKMARK")
    changes = [e for e in events if e["type"] != "BOOKMARK"]
    assert [e["type"] for e in changes] == ["MODIFIED"] and changes[0]["object"]["metadata"]["labels"]["x"] == "y"
    assert int(events[-1]["object"]["metadata"]["resourceVersion"]) > int(rv)
    kube_cluster.compact()
    gone = _watch_lines(f"{kube_cluster.url}/api/v1/nodes?watch=true&resourceVersion={rv}", 1)
    assert gone[0]["type"] == "ERROR" and gone[0]["object"]["code"] == 410


def test_dropped_watches_are_cut_mid_stream(kube_cluster):
    url = f"{kube_cluster.url}/api/v1/namespaces/{NAMESPACE}/pods?watch=true&timeoutSeconds=60"
    outcome: list[object] = []

    def consume() -> None:
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                outcome.append(len(response.read().splitlines()))
        except Exception as exc:  # noqa: BLE001 - the cut is the point
            outcome.append(exc)

    thread = threading.Thread(target=consume)
    thread.start()
    deadline = time.monotonic() + 20
    while kube_cluster.open_watches() == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kube_cluster.drop_watches() == 1
    thread.join(20)
    assert outcome and isinstance(outcome[0], Exception), outcome


def test_unknown_resources_are_404_and_missing_crds_are_absent(empty_kube_cluster):
    try:
        urllib.request.urlopen(f"{empty_kube_cluster.url}/apis/karpenter.sh/v1/nodepools", timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
    else:  # pragma: no cover - the assertion is the point
        raise AssertionError("a cluster without Karpenter must not serve nodepools")
    assert empty_kube_cluster.names(PODS) == []
    assert json.load(urllib.request.urlopen(f"{empty_kube_cluster.url}/apis/autoscaling/v2/namespaces/x/horizontalpodautoscalers", timeout=10))["items"] == []
    assert HPAS


def test_more_resources_can_be_declared(empty_kube_cluster):
    pvcs = ("", "v1", "persistentvolumeclaims")
    empty_kube_cluster.declare(pvcs, "PersistentVolumeClaim", True)
    empty_kube_cluster.add(pvcs, {"metadata": {"name": "model-cache", "namespace": NAMESPACE}, "spec": {"storageClassName": "gp3"}})
    core = kubernetes.client.CoreV1Api(empty_kube_cluster.api_client())
    claims = core.list_namespaced_persistent_volume_claim(NAMESPACE, _request_timeout=10).items
    assert [c.metadata.name for c in claims] == ["model-cache"]
    core.delete_namespaced_persistent_volume_claim("model-cache", NAMESPACE, _request_timeout=10)
    assert empty_kube_cluster.names(pvcs) == []
