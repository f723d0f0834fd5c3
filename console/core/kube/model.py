"""What the operator sees of each Kubernetes object: plain rows built from the API's JSON dicts.

Watches keep raw dicts (cheap to parse, no kubernetes model classes on the hot path); these
functions turn one object into one immutable row, so a table can compare rows and update only
the cells that changed. Nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from typing import Any

GPU = "nvidia.com/gpu"
_SUFFIX = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
           "n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18}
_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?[0-9]+)?)([a-zA-Z]*)$")


def quantity(text: Any) -> float:
    """A Kubernetes resource quantity (``3920m``, ``15896704Ki``, ``4``) as a number; bad input -> 0."""
    if text is None:
        return 0.0
    if isinstance(text, (int, float)):
        return float(text)
    match = _QUANTITY.match(str(text).strip())
    if not match or match.group(2) not in _SUFFIX:
        return 0.0
    return float(match.group(1)) * _SUFFIX[match.group(2)]


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def clock() -> dt.datetime:
    """Now, in UTC (one place to read the time, so ages can be pinned in snapshot tests)."""
    return dt.datetime.now(dt.timezone.utc)


def age(text: str | None, now: dt.datetime | None = None) -> str:
    """``kubectl``-style age: 45s, 12m, 5h, 3d."""
    then = parse_time(text)
    if then is None:
        return "?"
    seconds = max(0, int(((now or clock()) - then).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size * (2 if unit != "m" else 1):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _meta(obj: dict) -> dict:
    return obj.get("metadata") or {}


def _condition(obj: dict, kind: str) -> dict:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == kind:
            return condition
    return {}


@dataclass(frozen=True)
class NodeRow:
    name: str
    ready: str  # "Ready", "NotReady", "Ready,SchedulingDisabled"
    instance_type: str
    capacity_type: str  # "on-demand" | "spot" | "?"
    pool: str  # Karpenter NodePool, or the managed node group
    gpus_allocatable: int
    gpus_requested: int
    cpu: float  # allocatable cores
    memory_gib: float  # allocatable
    created: str
    zone: str = ""
    price_per_hour: float | None = None

    @property
    def is_gpu(self) -> bool:
        return self.gpus_allocatable > 0


def node_row(obj: dict, gpus_requested: int = 0) -> NodeRow:
    meta, status = _meta(obj), obj.get("status") or {}
    labels = meta.get("labels") or {}
    allocatable = status.get("allocatable") or {}
    ready = "Ready" if _condition(obj, "Ready").get("status") == "True" else "NotReady"
    if (obj.get("spec") or {}).get("unschedulable"):
        ready += ",SchedulingDisabled"
    capacity = labels.get("karpenter.sh/capacity-type") or labels.get("eks.amazonaws.com/capacityType", "?")
    capacity = {"ON_DEMAND": "on-demand", "SPOT": "spot"}.get(capacity, capacity.lower() if capacity != "?" else "?")
    pool = labels.get("karpenter.sh/nodepool") or (
        f"ng:{labels['eks.amazonaws.com/nodegroup']}" if "eks.amazonaws.com/nodegroup" in labels else "")
    return NodeRow(
        name=meta.get("name", "?"), ready=ready,
        instance_type=labels.get("node.kubernetes.io/instance-type") or labels.get("beta.kubernetes.io/instance-type", "?"),
        capacity_type=capacity, pool=pool, gpus_allocatable=int(quantity(allocatable.get(GPU))),
        gpus_requested=gpus_requested, cpu=round(quantity(allocatable.get("cpu")), 2),
        memory_gib=round(quantity(allocatable.get("memory")) / 2**30, 1), created=meta.get("creationTimestamp", ""),
        zone=labels.get("topology.kubernetes.io/zone", ""),
    )


@dataclass(frozen=True)
class PodRow:
    name: str
    namespace: str
    ready: str  # "1/1"
    status: str  # phase, or the reason that matters (CrashLoopBackOff, Unschedulable, Terminating)
    restarts: int
    node: str
    gpus: int
    created: str
    ip: str = ""
    is_ready: bool = False
    phase: str = ""


def pod_gpus(obj: dict) -> int:
    total = 0
    for container in (obj.get("spec") or {}).get("containers") or []:
        resources = container.get("resources") or {}
        total += int(quantity((resources.get("requests") or {}).get(GPU) or (resources.get("limits") or {}).get(GPU)))
    return total


def pod_row(obj: dict) -> PodRow:
    meta, spec, status = _meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    containers = status.get("containerStatuses") or []
    ready_count = sum(1 for c in containers if c.get("ready"))
    total = len(spec.get("containers") or []) or len(containers)
    reason = status.get("reason") or status.get("phase") or "Unknown"
    for c in containers:
        state = c.get("state") or {}
        waiting, terminated = state.get("waiting"), state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
    scheduled = _condition(obj, "PodScheduled")
    if status.get("phase") == "Pending" and scheduled.get("status") == "False" and scheduled.get("reason"):
        reason = scheduled["reason"]
    if meta.get("deletionTimestamp"):
        reason = "Terminating"
    return PodRow(
        name=meta.get("name", "?"), namespace=meta.get("namespace", ""), ready=f"{ready_count}/{total}", status=reason,
        restarts=sum(int(c.get("restartCount") or 0) for c in containers), node=spec.get("nodeName") or "",
        gpus=pod_gpus(obj), created=meta.get("creationTimestamp", ""), ip=status.get("podIP", ""),
        is_ready=_condition(obj, "Ready").get("status") == "True" and status.get("phase") == "Running",
        phase=status.get("phase") or "",
    )


@dataclass(frozen=True)
class MetricView:
    name: str  # "pods/avg_time_queue_ms", "resource/cpu"
    current: str
    target: str


@dataclass(frozen=True)
class ConditionView:
    type: str
    status: str
    reason: str
    message: str


@dataclass(frozen=True)
class HpaView:
    name: str
    target: str
    current: int
    desired: int
    min: int
    max: int
    metrics: tuple[MetricView, ...] = ()
    conditions: tuple[ConditionView, ...] = ()

    @property
    def at_max(self) -> bool:
        return self.current >= self.max or self.desired >= self.max

    @property
    def limited(self) -> bool:
        return any(c.type == "ScalingLimited" and c.status == "True" for c in self.conditions)


def _metric_name(spec: dict) -> str:
    kind = spec.get("type", "?")
    body = spec.get(kind[:1].lower() + kind[1:] if kind else "", {}) or {}
    name = (body.get("metric") or {}).get("name") or body.get("name") or "?"
    return f"{kind.lower()}/{name}"


def _target_text(target: dict) -> str:
    if "averageUtilization" in target:
        return f"{target['averageUtilization']}%"
    return str(target.get("averageValue") or target.get("value") or "?")


def _current_text(current: dict) -> str:
    if "averageUtilization" in current:
        return f"{current['averageUtilization']}%"
    value = current.get("averageValue") or current.get("value")
    if value is None:
        return "<unknown>"
    number = quantity(value)
    return f"{number:g}" if number or value in ("0", 0) else str(value)


def hpa_view(obj: dict) -> HpaView:
    meta, spec, status = _meta(obj), obj.get("spec") or {}, obj.get("status") or {}
    currents = {_metric_name(m): m for m in status.get("currentMetrics") or []}
    metrics = []
    for m in spec.get("metrics") or []:
        name = _metric_name(m)
        kind = m.get("type", "")
        body = m.get(kind[:1].lower() + kind[1:], {}) or {}
        current_body = currents.get(name, {}).get(kind[:1].lower() + kind[1:], {}) or {}
        metrics.append(MetricView(name, _current_text(current_body.get("current") or {}) if current_body else "<unknown>",
                                  _target_text(body.get("target") or {})))
    ref = spec.get("scaleTargetRef") or {}
    return HpaView(
        name=meta.get("name", "?"), target=f"{ref.get('kind', '?')}/{ref.get('name', '?')}",
        current=int(status.get("currentReplicas") or 0), desired=int(status.get("desiredReplicas") or 0),
        min=int(spec.get("minReplicas") or 1), max=int(spec.get("maxReplicas") or 0), metrics=tuple(metrics),
        conditions=tuple(ConditionView(c.get("type", "?"), c.get("status", "?"), c.get("reason", ""), c.get("message", ""))
                         for c in status.get("conditions") or []),
    )


@dataclass(frozen=True)
class DeploymentView:
    name: str
    replicas: int
    ready: int
    updated: int
    available: int


def deployment_view(obj: dict) -> DeploymentView:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return DeploymentView(_meta(obj).get("name", "?"), int(spec.get("replicas") or 0), int(status.get("readyReplicas") or 0),
                          int(status.get("updatedReplicas") or 0), int(status.get("availableReplicas") or 0))


@dataclass(frozen=True)
class EventRow:
    key: str
    type: str  # "Warning" | "Normal"
    reason: str
    object: str  # "Pod/name"
    message: str
    count: int
    last_seen: str


def event_row(obj: dict) -> EventRow:
    meta = _meta(obj)
    involved = obj.get("involvedObject") or obj.get("regarding") or {}
    last = obj.get("lastTimestamp") or obj.get("eventTime") or obj.get("firstTimestamp") or meta.get("creationTimestamp", "")
    return EventRow(key=f"{meta.get('namespace', '')}/{meta.get('name', '?')}", type=obj.get("type") or "Normal",
                    reason=obj.get("reason") or "", object=f"{involved.get('kind', '?')}/{involved.get('name', '?')}",
                    message=(obj.get("message") or obj.get("note") or "").strip(), count=int(obj.get("count") or 1),
                    last_seen=last or "")


def events_in_order(events: list[EventRow]) -> list[EventRow]:
    """Warnings first, then newest first."""
    return sorted(events, key=lambda e: (e.type != "Warning", _sort_time(e.last_seen)), reverse=False)


def _sort_time(text: str) -> float:
    then = parse_time(text)
    return -then.timestamp() if then else 0.0


@dataclass(frozen=True)
class NodePoolView:
    name: str
    instance_types: tuple[str, ...]
    capacity_types: tuple[str, ...]
    limits: dict = field(default_factory=dict, hash=False, compare=True)
    usage: dict = field(default_factory=dict, hash=False, compare=True)
    ready: bool = False


def nodepool_view(obj: dict) -> NodePoolView:
    spec = obj.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or {}
    types: tuple[str, ...] = ()
    capacity: tuple[str, ...] = ()
    for req in template.get("requirements") or []:
        if req.get("key") == "node.kubernetes.io/instance-type":
            types = tuple(req.get("values") or ())
        elif req.get("key") == "karpenter.sh/capacity-type":
            capacity = tuple(req.get("values") or ())
    return NodePoolView(_meta(obj).get("name", "?"), types, capacity, dict(spec.get("limits") or {}),
                        dict((obj.get("status") or {}).get("resources") or {}), _condition(obj, "Ready").get("status") == "True")


@dataclass(frozen=True)
class NodeClaimView:
    name: str
    pool: str
    node: str
    instance_type: str
    state: str  # the last condition that is True among Launched/Registered/Initialized/Ready


def nodeclaim_view(obj: dict) -> NodeClaimView:
    meta, status, spec = _meta(obj), obj.get("status") or {}, obj.get("spec") or {}
    state = "Pending"
    for kind in ("Launched", "Registered", "Initialized", "Ready"):
        if _condition(obj, kind).get("status") == "True":
            state = kind
    itype = (meta.get("labels") or {}).get("node.kubernetes.io/instance-type", "")
    if not itype:
        for req in spec.get("requirements") or []:
            if req.get("key") == "node.kubernetes.io/instance-type" and len(req.get("values") or []) == 1:
                itype = req["values"][0]
    return NodeClaimView(meta.get("name", "?"), (meta.get("labels") or {}).get("karpenter.sh/nodepool", ""),
                         status.get("nodeName", ""), itype, state)


def as_dict(row: Any) -> dict:
    return asdict(row)
