"""The Kubernetes half of a teardown: what only the cluster itself can clean up properly.

Order matters. LoadBalancer Services and Ingresses go first, while the controllers that own
their AWS load balancers still run (they remove the LB, then the finalizer, then the object).
PVCs next, while the EBS CSI driver still runs to delete their volumes. Karpenter NodePools
last, and we wait for their nodes to go, so no instance outlives the cluster that launched it.
Every function is idempotent: what is already gone is simply not found.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from console.core import pricing

NODEPOOL = ("karpenter.sh", "v1", "nodepools")
NODEPOOL_LABEL = "karpenter.sh/nodepool"
SYSTEM_NAMESPACES = ("kube-system",)


@dataclass(frozen=True)
class KubeObject:
    kind: str  # "Service" | "Ingress" | "PersistentVolumeClaim" | "NodePool" | "Node"
    namespace: str
    name: str
    detail: str = ""
    hourly: float = 0.0

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def _is_not_found(exc: Exception) -> bool:
    return getattr(exc, "status", None) == 404


def _unless_missing(call: Callable[[], Any], default: Any = None) -> Any:
    """``call()``, or ``default`` when the API answers 404 (a kind not installed, an object gone)."""
    from kubernetes import client

    try:
        return call()
    except client.ApiException as exc:
        if _is_not_found(exc):
            return default
        raise


def load_balancer_objects(api: Any) -> list[KubeObject]:
    """LoadBalancer Services and all Ingresses (each usually owns one AWS load balancer)."""
    from kubernetes import client

    found = []
    for svc in client.CoreV1Api(api).list_service_for_all_namespaces(_request_timeout=15).items:
        if (svc.spec.type if svc.spec else "") == "LoadBalancer":
            hosts = [i.hostname or i.ip for i in ((svc.status.load_balancer.ingress if svc.status and svc.status.load_balancer else None) or [])]
            found.append(KubeObject("Service", svc.metadata.namespace, svc.metadata.name, ", ".join(h for h in hosts if h) or "load balancer", pricing.LOAD_BALANCER["network"]))
    ingresses = _unless_missing(lambda: client.NetworkingV1Api(api).list_ingress_for_all_namespaces(_request_timeout=15).items, [])
    for ing in ingresses:
        found.append(KubeObject("Ingress", ing.metadata.namespace, ing.metadata.name, "ingress", pricing.LOAD_BALANCER["application"]))
    return found


def persistent_volume_claims(api: Any) -> list[KubeObject]:
    from kubernetes import client

    claims = _unless_missing(lambda: client.CoreV1Api(api).list_persistent_volume_claim_for_all_namespaces(_request_timeout=15).items, [])
    found = []
    for pvc in claims:
        size = ((pvc.spec.resources.requests or {}) if pvc.spec and pvc.spec.resources else {}).get("storage", "")
        gib = _gib(size)
        found.append(KubeObject("PersistentVolumeClaim", pvc.metadata.namespace, pvc.metadata.name, f"{size or '?'} {pvc.spec.storage_class_name or ''}".strip(), pricing.ebs_hourly("gp3", gib)))
    return found


def _gib(quantity: str) -> int:
    units = {"Ki": 1 / 1024**2, "Mi": 1 / 1024, "Gi": 1, "Ti": 1024, "G": 1e9 / 1024**3, "T": 1e12 / 1024**3}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            try:
                return max(1, round(float(quantity[: -len(suffix)]) * factor))
            except ValueError:
                return 0
    return 0


def nodepools(api: Any, region: str) -> list[KubeObject]:
    """Karpenter NodePools with the $/h of the nodes each one runs now (none when Karpenter is absent)."""
    from kubernetes import client

    from console.core.burn_rate import priced_nodes

    pools = _unless_missing(lambda: client.CustomObjectsApi(api).list_cluster_custom_object(*NODEPOOL, _request_timeout=15))
    if pools is None:  # no Karpenter
        return []
    pools = pools.get("items", [])
    nodes = priced_nodes(api, region, NODEPOOL_LABEL)
    found = []
    for pool in pools:
        name = pool["metadata"]["name"]
        mine = [n for n in nodes if n.pool == name]
        detail = ", ".join(f"{n.name} {n.instance_type} {n.capacity_type}" for n in mine) or "no nodes"
        found.append(KubeObject("NodePool", "", name, detail, sum(n.hourly or 0.0 for n in mine)))
    return found


Notify = Callable[[str], None]


def _wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
    return True


def delete_load_balancers(api: Any, notify: Notify, timeout_s: float = 600, interval_s: float = 5) -> list[str]:
    """Delete LB Services and Ingresses; wait until the API no longer has them (their controller
    removes the finalizer only once the AWS load balancer is gone). Returns what did not go."""
    from kubernetes import client

    core, net = client.CoreV1Api(api), client.NetworkingV1Api(api)
    objs = load_balancer_objects(api)
    for obj in objs:
        notify(f"deleting {obj.kind} {obj.ref}")
        delete = core.delete_namespaced_service if obj.kind == "Service" else net.delete_namespaced_ingress
        _unless_missing(lambda: delete(obj.name, obj.namespace, _request_timeout=15))
    if objs and not _wait_until(lambda: not load_balancer_objects(api), timeout_s, interval_s):
        return [f"{o.kind} {o.ref}" for o in load_balancer_objects(api)]
    return []


def delete_persistent_volume_claims(api: Any, notify: Notify, timeout_s: float = 600, interval_s: float = 5) -> list[str]:
    from kubernetes import client

    core = client.CoreV1Api(api)
    claims = [c for c in persistent_volume_claims(api) if c.namespace not in SYSTEM_NAMESPACES]
    for claim in claims:
        notify(f"deleting PVC {claim.ref}")
        _unless_missing(lambda: core.delete_namespaced_persistent_volume_claim(claim.name, claim.namespace, _request_timeout=15))

    def gone() -> bool:
        left = {c.ref for c in persistent_volume_claims(api)}
        return not any(c.ref in left for c in claims)

    if claims and not _wait_until(gone, timeout_s, interval_s):
        return [f"PVC {c.ref}" for c in persistent_volume_claims(api) if c.namespace not in SYSTEM_NAMESPACES]
    return []


def delete_nodepools(api: Any, region: str, notify: Notify, timeout_s: float = 900, interval_s: float = 5) -> list[str]:
    """Delete every NodePool and wait until no node carries a NodePool label any more."""
    from kubernetes import client

    from console.core.burn_rate import priced_nodes

    custom = client.CustomObjectsApi(api)
    pools = nodepools(api, region)
    for pool in pools:
        notify(f"deleting NodePool {pool.name} ({pool.detail})")
        _unless_missing(lambda: custom.delete_cluster_custom_object(*NODEPOOL, pool.name, _request_timeout=15))
    names = {p.name for p in pools}

    def nodes_left() -> list[str]:
        return [n.name for n in priced_nodes(api, region, NODEPOOL_LABEL) if n.pool in names]

    last: list[str] = []

    def gone() -> bool:
        nonlocal last
        now = nodes_left()
        if now != last:
            notify(f"waiting for nodes to go: {', '.join(now) or 'none left'}")
            last = now
        return not now

    if pools and not _wait_until(gone, timeout_s, interval_s):
        return [f"Node {n}" for n in nodes_left()]
    return []
