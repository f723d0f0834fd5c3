"""What Karpenter does that the teardown and pause tests rely on, played through the real API.

A background thread watches NodePools and the Triton Deployment on the test API server
(tests/kube_cluster.py) and, as Karpenter would: removes nodes whose NodePool is gone, removes
the GPU pool's nodes once no Triton replica wants them (consolidation of empty nodes), and
launches one GPU node when replicas want one again. Every change goes over HTTP.
"""

from __future__ import annotations

import threading
from typing import Any

import kubernetes

from tests.kube_cluster import NAMESPACE, RELEASE, gpu_node


class KarpenterStandIn:
    def __init__(self, api: Any, delay_s: float = 0.3) -> None:
        self.core = kubernetes.client.CoreV1Api(api)
        self.custom = kubernetes.client.CustomObjectsApi(api)
        self.apps = kubernetes.client.AppsV1Api(api)
        self.delay_s = delay_s
        self.removed: list[str] = []
        self.launched: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="karpenter-standin", daemon=True)

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
            replicas = self.apps.read_namespaced_deployment(RELEASE, NAMESPACE).spec.replicas or 0
        except kubernetes.client.ApiException:
            replicas = 0
        gpu_nodes = []
        for node in self.core.list_node().items:
            pool = (node.metadata.labels or {}).get("karpenter.sh/nodepool")
            if pool is None:
                continue
            if pool not in pools or (pool == "gpu" and replicas == 0):
                self.core.delete_node(node.metadata.name)
                self.removed.append(node.metadata.name)
            elif pool == "gpu":
                gpu_nodes.append(node.metadata.name)
        if replicas > 0 and "gpu" in pools and not gpu_nodes:
            name = f"ip-10-0-14-{len(self.launched) + 1}.us-west-2.compute.internal"
            self.core.create_node(gpu_node(name, age_s=0))
            self.launched.append(name)
