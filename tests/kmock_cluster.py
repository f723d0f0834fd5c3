"""A kmock Kubernetes API on loopback for the teardown and pause tests, with what they delete.

Stop-gap until the shared ``kube_cluster`` fixture (tests/kube_cluster.py, issue 4) lands; the
objects are the same kinds a real EKS + Karpenter cluster has. ``KarpenterStandIn`` plays the
one controller behaviour these tests depend on: a node whose NodePool was deleted, or a GPU
node with no Triton replica left, is removed (through the real API, over HTTP).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import kmock
import kubernetes

RESOURCES = (
    "v1/nodes",
    "v1/services",
    "v1/persistentvolumeclaims",
    "v1/persistentvolumes",
    "v1/pods",
    "apps/v1/deployments",
    "autoscaling/v2/horizontalpodautoscalers",
    "networking.k8s.io/v1/ingresses",
    "karpenter.sh/v1/nodepools",
)


def node(name: str, itype: str, pool: str, capacity: str = "on-demand", gpus: int = 0) -> dict:
    labels = {"node.kubernetes.io/instance-type": itype, "karpenter.sh/capacity-type": capacity}
    if pool:
        labels["karpenter.sh/nodepool"] = pool
    else:
        labels["eks.amazonaws.com/nodegroup"] = "core"
        labels["eks.amazonaws.com/capacityType"] = capacity.upper().replace("-", "_")
    cap = {"cpu": "96", "memory": "384Gi"} | ({"nvidia.com/gpu": str(gpus)} if gpus else {})
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}, "status": {"capacity": cap, "allocatable": cap}}


class KmockCluster:
    def __init__(self) -> None:
        self.emu = kmock.KubernetesEmulator()
        for resource in RESOURCES:
            self.emu.resources[resource]  # noqa: B018 - declaring a resource is an access
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self.url = ""
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        async def main() -> None:
            self._stop = asyncio.Event()
            async with self.emu, kmock.Server(self.emu) as server:
                self.url = str(server.url).rstrip("/")
                self._ready.set()
                await self._stop.wait()

        self._loop.run_until_complete(main())

    def start(self) -> KmockCluster:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("kmock did not start")
        config = kubernetes.client.Configuration()
        config.host = self.url
        self.api = kubernetes.client.ApiClient(config)
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def put(self, resource: str, obj: dict) -> None:
        meta = obj["metadata"]
        self.emu.objects[resource, meta.get("namespace"), meta["name"]] = obj

    def names(self, resource: str) -> set[str]:
        return {key[2] for key, o in self.emu.objects.items() if str(key[0]) == str(kmock.resource(resource)) and not o.deleted}

    def typical_eks(self, release: str = "triton-vllm", namespace: str = "triton-vllm", replicas: int = 1) -> None:
        """Two m5 core nodes, one g5 GPU node from NodePool gpu, Triton behind an NLB, a model PVC."""
        self.put("v1/nodes", node("ip-10-0-1-10", "m5.xlarge", ""))
        self.put("v1/nodes", node("ip-10-0-1-11", "m5.xlarge", ""))
        self.put("v1/nodes", node("ip-10-0-2-20", "g5.24xlarge", "gpu", "on-demand", gpus=4))
        for pool in ("gpu", "cpu"):
            self.put("karpenter.sh/v1/nodepools", {"apiVersion": "karpenter.sh/v1", "kind": "NodePool", "metadata": {"name": pool}})
        self.put(
            "v1/services",
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": release, "namespace": namespace},
             "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 8000}]},
             "status": {"loadBalancer": {"ingress": [{"hostname": "k8s-tritonvl-abc.elb.us-west-2.amazonaws.com"}]}}},
        )
        self.put("v1/services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"{release}-metrics", "namespace": namespace}, "spec": {"type": "ClusterIP"}})
        self.put(
            "networking.k8s.io/v1/ingresses",
            {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "grafana", "namespace": "monitoring"}, "spec": {}},
        )
        self.put(
            "v1/persistentvolumeclaims",
            {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "model-cache", "namespace": namespace},
             "spec": {"resources": {"requests": {"storage": "100Gi"}}, "storageClassName": "gp3"}},
        )
        self.put(
            "apps/v1/deployments",
            {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": release, "namespace": namespace},
             "spec": {"replicas": replicas, "selector": {"matchLabels": {"app.kubernetes.io/name": "triton-vllm"}}, "template": {}}},
        )
        self.put(
            "autoscaling/v2/horizontalpodautoscalers",
            {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": release, "namespace": namespace},
             "spec": {"minReplicas": 1, "maxReplicas": 2, "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": release}}},
        )


class KarpenterStandIn:
    """Removes nodes the way Karpenter would, through the API server, from a background thread."""

    def __init__(self, api: Any, release: str = "triton-vllm", namespace: str = "triton-vllm", delay_s: float = 1.0) -> None:
        self.core = kubernetes.client.CoreV1Api(api)
        self.custom = kubernetes.client.CustomObjectsApi(api)
        self.apps = kubernetes.client.AppsV1Api(api)
        self.release, self.namespace, self.delay_s = release, namespace, delay_s
        self.removed: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> KarpenterStandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)

    def _loop(self) -> None:
        while not self._stop.wait(self.delay_s):
            try:
                self._reconcile()
            except kubernetes.client.ApiException:
                continue

    def _reconcile(self) -> None:
        pools = {p["metadata"]["name"] for p in self.custom.list_cluster_custom_object("karpenter.sh", "v1", "nodepools")["items"]}
        try:
            replicas = self.apps.read_namespaced_deployment(self.release, self.namespace).spec.replicas or 0
        except kubernetes.client.ApiException:
            replicas = 0
        for n in self.core.list_node().items:
            pool = (n.metadata.labels or {}).get("karpenter.sh/nodepool")
            if pool is None:
                continue
            empty_gpu = pool == "gpu" and replicas == 0
            if pool not in pools or empty_gpu:
                self.core.delete_node(n.metadata.name)
                self.removed.append(n.metadata.name)
        if replicas > 0 and "gpu" in pools and not any((n.metadata.labels or {}).get("karpenter.sh/nodepool") == "gpu" for n in self.core.list_node().items):
            name = f"ip-10-0-2-{len(self.removed) + 30}"
            self.core.create_node(node(name, "g5.24xlarge", "gpu", gpus=4))


def wait_for(predicate, timeout: float = 30.0, interval: float = 0.2) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
