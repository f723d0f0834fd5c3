"""What the cluster costs right now, per hour: nodes, control plane, NAT gateways, load balancers.

Nodes come from the Kubernetes node list (instance type and capacity type from the well-known
labels), so a node that Karpenter just launched counts as soon as it registers. Everything else
comes from AWS describe calls through the same ownership rule the teardown uses
(:mod:`console.core.teardown.ownership`). When the node list cannot be read, the EC2 instances
tagged to the cluster stand in for it. When there is no cluster the answer says so, and still
counts leftovers that bill.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from console.core import pricing

log = logging.getLogger(__name__)

INSTANCE_TYPE_LABELS = ("node.kubernetes.io/instance-type", "beta.kubernetes.io/instance-type")
CAPACITY_LABELS = ("karpenter.sh/capacity-type", "eks.amazonaws.com/capacityType")
POOL_LABELS = ("karpenter.sh/nodepool", "eks.amazonaws.com/nodegroup")
BILLING_KINDS = ("eks", "ec2-instance", "nat-gateway", "load-balancer", "elastic-ip", "ebs-volume")


@dataclass(frozen=True)
class PricedNode:
    name: str
    instance_type: str
    capacity_type: str  # "on-demand" | "spot"
    pool: str
    gpus: int
    hourly: float | None  # None: no price known for this instance type
    price_source: str = ""


def priced_node(node: Any, region: str) -> PricedNode:
    """A kubernetes V1Node (or its dict) with its hourly price."""
    meta = node.metadata if hasattr(node, "metadata") else None
    labels = dict((meta.labels if meta else node.get("metadata", {}).get("labels")) or {})
    name = meta.name if meta else node.get("metadata", {}).get("name", "?")
    status = node.status if hasattr(node, "status") else None
    capacity = dict((status.capacity if status else (node.get("status") or {}).get("capacity")) or {})
    itype = next((labels[k] for k in INSTANCE_TYPE_LABELS if labels.get(k)), "")
    ctype = pricing.normalise_capacity_type(next((labels[k] for k in CAPACITY_LABELS if labels.get(k)), "on-demand"))
    pool = next((labels[k] for k in POOL_LABELS if labels.get(k)), "")
    quote = pricing.price_quote(itype, region, ctype) if itype else pricing.PriceQuote(None, "unknown")
    try:
        gpus = int(str(capacity.get("nvidia.com/gpu", "0")))
    except ValueError:
        gpus = 0
    return PricedNode(name, itype or "?", ctype, pool, gpus, quote.price, quote.source)


def priced_nodes(api_client: Any, region: str, label_selector: str = "") -> list[PricedNode]:
    from kubernetes import client

    nodes = client.CoreV1Api(api_client).list_node(label_selector=label_selector or None, _request_timeout=15).items
    return [priced_node(n, region) for n in nodes]


@dataclass(frozen=True)
class BurnLine:
    what: str  # "node" | "control plane" | "NAT gateway" | "load balancer" | "public IPv4" | "EBS" | "instance"
    detail: str  # e.g. "g5.24xlarge spot"
    count: int
    hourly: float  # for all `count` of them


@dataclass
class BurnRate:
    cluster: str
    region: str
    state: str  # "ok" | "no-cluster" | "no-credentials" | "error"
    lines: list[BurnLine] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    at: float = field(default_factory=time.time)

    @property
    def hourly(self) -> float:
        return sum(line.hourly for line in self.lines)

    def headline(self) -> str:
        """One line for the app header: honest about what it does not know."""
        if self.state == "no-credentials":
            return "burn: no AWS credentials"
        if self.state == "error":
            return "burn: unknown (" + (self.notes[0] if self.notes else "AWS error") + ")"
        if self.state == "no-cluster":
            if self.lines:
                return f"no cluster · leftovers ${self.hourly:.2f}/h"
            return "no cluster · $0.00/h"
        gpu = sum(line.count for line in self.lines if line.what == "node" and _is_gpu_type(line.detail))
        extra = f" · {gpu} GPU node{'s' if gpu != 1 else ''}" if gpu else ""
        unknown = " +?" if any("no price" in n for n in self.notes) else ""
        return f"burn ${self.hourly:.2f}/h{unknown} (${self.hourly * 24:.0f}/day){extra}"


def _is_gpu_type(detail: str) -> bool:
    return detail.split(".")[0] in ("g4dn", "g5", "g6", "g6e", "p3", "p4d", "p5")


def _node_lines(nodes: list[PricedNode]) -> tuple[list[BurnLine], list[str]]:
    groups: Counter[tuple[str, str]] = Counter((n.instance_type, n.capacity_type) for n in nodes)
    lines, notes = [], []
    for (itype, ctype), count in sorted(groups.items()):
        prices = [n.hourly for n in nodes if (n.instance_type, n.capacity_type) == (itype, ctype)]
        if any(p is None for p in prices):
            notes.append(f"no price for {itype}")
        lines.append(BurnLine("node", f"{itype} {ctype}", count, sum(p or 0.0 for p in prices)))
    return lines, notes


def compute_burn_rate(cluster: str, region: str, *, api_client: Any = None, session: Any = None, profile: str = "") -> BurnRate:
    """The cluster's hourly cost now. Never raises for AWS or Kubernetes trouble: it says so."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    from console.core.teardown.inventory import Clients, discover

    rate = BurnRate(cluster, region, "ok")
    if session is None and not pricing.aws_credentials_configured(profile):
        rate.state = "no-credentials"
        return rate
    try:
        import boto3

        clients = Clients(region, session or boto3.Session(profile_name=profile or None, region_name=region))
        inventory = discover(clients, cluster, BILLING_KINDS)
    except NoCredentialsError:
        rate.state = "no-credentials"
        return rate
    except (BotoCoreError, ClientError) as exc:
        rate.state, rate.notes = "error", [str(exc)[:80]]
        return rate
    if inventory.errors:
        rate.notes.extend(f"could not list {kind}" for kind in inventory.errors)
        if any("credentials" in why.lower() for why in inventory.errors.values()):
            rate.state = "no-credentials"
            return rate
    if not inventory.of_kind("eks-cluster"):
        rate.state = "no-cluster"
    nodes: list[PricedNode] | None = None
    if api_client is not None and rate.state == "ok":
        try:
            nodes = priced_nodes(api_client, region)
        except Exception as exc:  # noqa: BLE001 - any connection trouble: fall back to EC2
            rate.notes.append(f"node list unavailable ({type(exc).__name__}); EC2 instances counted")
    if nodes is not None:
        lines, notes = _node_lines(nodes)
        rate.lines.extend(lines)
        rate.notes.extend(notes)
    else:
        instances = inventory.of_kind("ec2-instance")
        kinds: Counter[str] = Counter(r.detail.split(",")[0] for r in instances)
        for detail, count in sorted(kinds.items()):
            total = sum(r.hourly for r in instances if r.detail.split(",")[0] == detail)
            rate.lines.append(BurnLine("node", detail, count, total))
    labels = {"eks-cluster": "control plane", "nat-gateway": "NAT gateway", "load-balancer": "load balancer", "elastic-ip": "public IPv4", "ebs-volume": "EBS"}
    for kind, what in labels.items():
        found = inventory.of_kind(kind)
        if found:
            rate.lines.append(BurnLine(what, ", ".join(sorted({r.detail.split(",")[0] for r in found}))[:40], len(found), sum(r.hourly for r in found)))
    return rate
