"""Pause GPU spend without tearing down: scale Triton to zero so Karpenter removes the GPU node.

Pausing records the replica count in an annotation on the Deployment and sets replicas to 0.
The HPA does not fight this: Kubernetes' HPA leaves a target scaled to zero alone ("scaling is
disabled since the replica count of the target is zero"). Karpenter then sees an empty GPU node
and consolidates it away. Resuming restores the recorded count (else the HPA's minReplicas,
else 1) and Karpenter launches a GPU node for the pending pod. The control plane, core nodes and
NAT keep billing while paused; the saving shown is the GPU nodes' price.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from console.core.burn_rate import PricedNode, priced_nodes

ANNOTATION = "triton-console/paused-replicas"
GPU_POOL = "gpu"


class PauseError(RuntimeError):
    pass


@dataclass
class PauseState:
    namespace: str
    release: str
    replicas: int
    recorded: int | None  # replicas saved by the last pause, if paused by us
    gpu_nodes: list[PricedNode] = field(default_factory=list)

    @property
    def paused(self) -> bool:
        return self.replicas == 0

    @property
    def gpu_hourly(self) -> float:
        return sum(n.hourly or 0.0 for n in self.gpu_nodes)

    def describe_pause(self) -> str:
        nodes = ", ".join(f"{n.name} ({n.instance_type} {n.capacity_type}, ${n.hourly or 0:.3f}/h)" for n in self.gpu_nodes) or "no GPU node now"
        return (
            f"Scale deployment {self.namespace}/{self.release} from {self.replicas} to 0 replicas.\n"
            f"Karpenter then removes the GPU node(s): {nodes}.\n"
            f"Saving: ${self.gpu_hourly:.3f}/h (${self.gpu_hourly * 24:.2f}/day). Control plane, core nodes and NAT keep billing."
        )


def is_gpu_node(node: PricedNode) -> bool:
    return node.gpus > 0 or node.pool == GPU_POOL


def gpu_nodes(api: Any, region: str) -> list[PricedNode]:
    return [n for n in priced_nodes(api, region) if is_gpu_node(n)]


def _deployment(api: Any, namespace: str, release: str) -> Any:
    from kubernetes import client

    try:
        return client.AppsV1Api(api).read_namespaced_deployment(release, namespace, _request_timeout=15)
    except client.ApiException as exc:
        if exc.status == 404:
            raise PauseError(f"no deployment {namespace}/{release}: is the serving stack installed?") from None
        raise


def _recorded(deployment: Any) -> int | None:
    value = ((deployment.metadata.annotations or {}) if deployment.metadata else {}).get(ANNOTATION)
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def pause_state(api: Any, namespace: str, release: str, region: str) -> PauseState:
    deployment = _deployment(api, namespace, release)
    replicas = int(deployment.spec.replicas or 0) if deployment.spec else 0
    return PauseState(namespace, release, replicas, _recorded(deployment), gpu_nodes(api, region))


def pause(api: Any, namespace: str, release: str) -> int:
    """Scale to zero, remembering the count; returns it. Pausing a paused deployment changes nothing."""
    from kubernetes import client

    deployment = _deployment(api, namespace, release)
    replicas = int(deployment.spec.replicas or 0)
    if replicas == 0:
        return _recorded(deployment) or 0
    body = {"metadata": {"annotations": {ANNOTATION: str(replicas)}}, "spec": {"replicas": 0}}
    client.AppsV1Api(api).patch_namespaced_deployment(release, namespace, body, _request_timeout=15)
    return replicas


def _hpa_min(api: Any, namespace: str, release: str) -> int | None:
    from kubernetes import client

    try:
        hpa = client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler(release, namespace, _request_timeout=15)
    except client.ApiException:
        return None
    return int(hpa.spec.min_replicas or 1) if hpa.spec else None


def resume(api: Any, namespace: str, release: str) -> int:
    """Scale back to the recorded count (else the HPA's minReplicas, else 1); returns it."""
    from kubernetes import client

    deployment = _deployment(api, namespace, release)
    current = int(deployment.spec.replicas or 0)
    if current > 0:
        return current
    replicas = _recorded(deployment) or _hpa_min(api, namespace, release) or 1
    body = {"metadata": {"annotations": {ANNOTATION: ""}}, "spec": {"replicas": replicas}}
    client.AppsV1Api(api).patch_namespaced_deployment(release, namespace, body, _request_timeout=15)
    return replicas


def watch_gpu_nodes(api: Any, region: str, want_gone: bool, timeout_s: float = 900, interval_s: float = 5) -> Iterator[list[PricedNode]]:
    """Yield the GPU node list every poll until there are none (``want_gone``) or at least one.

    Ends after the first list that satisfies the wish, or raises TimeoutError.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        nodes = gpu_nodes(api, region)
        yield nodes
        if (not nodes) == want_gone:
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"GPU nodes {'still there' if want_gone else 'not up'} after {timeout_s:.0f} s")
        time.sleep(interval_s)
