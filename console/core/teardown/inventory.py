"""Find every AWS resource that belongs to a cluster (see :mod:`.ownership`), with its $/h.

One ``find_<kind>`` function per kind; :func:`discover` runs them all. Each returns
:class:`AwsResource` rows that carry what deleting them needs (``extra``). Kinds whose API
answers an error are reported in ``Inventory.errors`` rather than silently counted as empty,
so nobody is told "nothing left" when the sweep could not look.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from console.core import pricing
from console.core.teardown.ownership import log_group_owned_by, owned_by, tag_dict

log = logging.getLogger(__name__)


@dataclass
class AwsResource:
    kind: str  # one of KINDS
    id: str
    name: str = ""
    hourly: float = 0.0  # USD per hour it bills while it exists
    detail: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name or self.id}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "name": self.name, "hourly": round(self.hourly, 4), "detail": self.detail}


@dataclass
class Inventory:
    resources: list[AwsResource] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # kind -> why it could not be listed

    @property
    def hourly(self) -> float:
        return sum(r.hourly for r in self.resources)

    def of_kind(self, kind: str) -> list[AwsResource]:
        return [r for r in self.resources if r.kind == kind]


class Clients:
    """boto3 clients for one region, made on first use."""

    def __init__(self, region: str, session=None) -> None:  # noqa: ANN001 - boto3.Session
        import boto3

        self.region = region
        self.session = session or boto3.Session(region_name=region)
        self._made: dict[str, Any] = {}

    def __call__(self, service: str):  # noqa: ANN204
        if service not in self._made:
            from botocore.config import Config

            config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=30)
            self._made[service] = self.session.client(service, region_name=self.region, config=config)
        return self._made[service]


def _pages(client, operation: str, key: str, **kwargs) -> list[dict]:  # noqa: ANN001
    items: list[dict] = []
    if client.can_paginate(operation):
        for page in client.get_paginator(operation).paginate(**kwargs):
            items.extend(page.get(key, []))
    else:
        items.extend(getattr(client, operation)(**kwargs).get(key, []))
    return items


def _name(tags: dict[str, str], fallback: str = "") -> str:
    return tags.get("Name", fallback)


def find_eks(c: Clients, cluster: str) -> list[AwsResource]:
    """The EKS cluster itself and its managed node groups (they bill through their instances)."""
    eks = c("eks")
    try:
        info = eks.describe_cluster(name=cluster)["cluster"]
    except eks.exceptions.ResourceNotFoundException:
        return []
    support = (info.get("upgradePolicy") or {}).get("supportType", "")
    price = pricing.EKS_CONTROL_PLANE_EXTENDED if support == "EXTENDED_ACTIVE" else pricing.EKS_CONTROL_PLANE
    found = [
        AwsResource(
            "eks-cluster",
            cluster,
            cluster,
            price,
            f"version {info.get('version', '?')}, {info.get('status', '?').lower()}",
            {"vpc": (info.get("resourcesVpcConfig") or {}).get("vpcId")},
        )
    ]
    for group in _pages(eks, "list_nodegroups", "nodegroups", clusterName=cluster):
        found.append(AwsResource("eks-nodegroup", f"{cluster}/{group}", group, 0.0, "managed node group (instances listed separately)", {"cluster": cluster}))
    return found


def find_instances(c: Clients, cluster: str) -> list[AwsResource]:
    states = ["pending", "running", "stopping", "stopped"]
    found = []
    for reservation in _pages(c("ec2"), "describe_instances", "Reservations", Filters=[{"Name": "instance-state-name", "Values": states}]):
        for inst in reservation.get("Instances", []):
            tags = tag_dict(inst.get("Tags"))
            if not owned_by(tags, cluster):
                continue
            capacity = "spot" if inst.get("InstanceLifecycle") == "spot" else "on-demand"
            itype = inst.get("InstanceType", "?")
            running = inst.get("State", {}).get("Name") in ("pending", "running")
            price = (pricing.price_quote(itype, c.region, capacity, session=c.session).price or 0.0) if running else 0.0
            found.append(AwsResource("ec2-instance", inst["InstanceId"], _name(tags), price, f"{itype} {capacity}, {inst.get('State', {}).get('Name')}"))
    return found


def _elbv2_tags(client, arns: list[str]) -> dict[str, dict[str, str]]:  # noqa: ANN001
    tags: dict[str, dict[str, str]] = {}
    for start in range(0, len(arns), 20):
        for desc in client.describe_tags(ResourceArns=arns[start : start + 20]).get("TagDescriptions", []):
            tags[desc["ResourceArn"]] = tag_dict(desc.get("Tags"))
    return tags


def find_load_balancers(c: Clients, cluster: str) -> list[AwsResource]:
    found = []
    elbv2 = c("elbv2")
    lbs = _pages(elbv2, "describe_load_balancers", "LoadBalancers")
    tags = _elbv2_tags(elbv2, [lb["LoadBalancerArn"] for lb in lbs])
    for lb in lbs:
        if owned_by(tags.get(lb["LoadBalancerArn"]), cluster):
            kind = lb.get("Type", "application")
            found.append(AwsResource("load-balancer", lb["LoadBalancerArn"], lb["LoadBalancerName"], pricing.LOAD_BALANCER.get(kind, 0.0225), f"{kind} load balancer", {"api": "elbv2"}))
    elb = c("elb")
    classic = _pages(elb, "describe_load_balancers", "LoadBalancerDescriptions")
    names = [lb["LoadBalancerName"] for lb in classic]
    for start in range(0, len(names), 20):
        for desc in elb.describe_tags(LoadBalancerNames=names[start : start + 20]).get("TagDescriptions", []):
            if owned_by(desc.get("Tags"), cluster):
                name = desc["LoadBalancerName"]
                found.append(AwsResource("load-balancer", name, name, pricing.LOAD_BALANCER["classic"], "classic load balancer", {"api": "elb"}))
    return found


def find_target_groups(c: Clients, cluster: str) -> list[AwsResource]:
    elbv2 = c("elbv2")
    groups = _pages(elbv2, "describe_target_groups", "TargetGroups")
    tags = _elbv2_tags(elbv2, [g["TargetGroupArn"] for g in groups])
    return [
        AwsResource("target-group", g["TargetGroupArn"], g["TargetGroupName"], 0.0, "target group")
        for g in groups
        if owned_by(tags.get(g["TargetGroupArn"]), cluster)
    ]


def find_nat_gateways(c: Clients, cluster: str) -> list[AwsResource]:
    gateways = _pages(c("ec2"), "describe_nat_gateways", "NatGateways", Filters=[{"Name": "state", "Values": ["pending", "available", "failed"]}])
    found = []
    for gw in gateways:
        tags = tag_dict(gw.get("Tags"))
        if owned_by(tags, cluster) and gw.get("State") in ("pending", "available", "failed"):
            found.append(AwsResource("nat-gateway", gw["NatGatewayId"], _name(tags), pricing.NAT_GATEWAY, f"NAT gateway in {gw.get('VpcId', '?')}"))
    return found


def find_addresses(c: Clients, cluster: str) -> list[AwsResource]:
    found = []
    for addr in c("ec2").describe_addresses().get("Addresses", []):
        tags = tag_dict(addr.get("Tags"))
        if owned_by(tags, cluster):
            found.append(
                AwsResource(
                    "elastic-ip",
                    addr["AllocationId"],
                    _name(tags, addr.get("PublicIp", "")),
                    pricing.PUBLIC_IPV4,
                    f"{addr.get('PublicIp', '?')}" + (" (associated)" if addr.get("AssociationId") else ""),
                    {"association": addr.get("AssociationId")},
                )
            )
    return found


def find_network_interfaces(c: Clients, cluster: str) -> list[AwsResource]:
    found = []
    for eni in _pages(c("ec2"), "describe_network_interfaces", "NetworkInterfaces"):
        tags = tag_dict(eni.get("TagSet"))
        if owned_by(tags, cluster):
            attachment = eni.get("Attachment") or {}
            found.append(
                AwsResource(
                    "network-interface",
                    eni["NetworkInterfaceId"],
                    _name(tags),
                    0.0,
                    f"{eni.get('Status', '?')}" + (f", attached to {attachment.get('InstanceId')}" if attachment.get("InstanceId") else ""),
                    {"attachment": attachment.get("AttachmentId"), "status": eni.get("Status")},
                )
            )
    return found


def find_volumes(c: Clients, cluster: str) -> list[AwsResource]:
    found = []
    for vol in _pages(c("ec2"), "describe_volumes", "Volumes"):
        tags = tag_dict(vol.get("Tags"))
        if owned_by(tags, cluster):
            vtype, size = vol.get("VolumeType", "gp3"), int(vol.get("Size", 0))
            pvc = tags.get("kubernetes.io/created-for/pvc/name", "")
            found.append(
                AwsResource(
                    "ebs-volume",
                    vol["VolumeId"],
                    _name(tags, pvc),
                    pricing.ebs_hourly(vtype, size),
                    f"{size} GiB {vtype}, {vol.get('State', '?')}",
                    {"state": vol.get("State"), "attachments": [a.get("InstanceId") for a in vol.get("Attachments", [])]},
                )
            )
    return found


def find_security_groups(c: Clients, cluster: str) -> list[AwsResource]:
    found = []
    for sg in _pages(c("ec2"), "describe_security_groups", "SecurityGroups"):
        if sg.get("GroupName") == "default":
            continue
        tags = tag_dict(sg.get("Tags"))
        if owned_by(tags, cluster):
            found.append(AwsResource("security-group", sg["GroupId"], sg.get("GroupName", ""), 0.0, f"in {sg.get('VpcId', '?')}", {"group": sg}))
    return found


def find_launch_templates(c: Clients, cluster: str) -> list[AwsResource]:
    return [
        AwsResource("launch-template", lt["LaunchTemplateId"], lt.get("LaunchTemplateName", ""), 0.0, "launch template")
        for lt in _pages(c("ec2"), "describe_launch_templates", "LaunchTemplates")
        if owned_by(lt.get("Tags"), cluster)
    ]


def find_log_groups(c: Clients, cluster: str) -> list[AwsResource]:
    logs = c("logs")
    found = []
    for group in _pages(logs, "describe_log_groups", "logGroups"):
        name = group["logGroupName"]
        try:
            tags = logs.list_tags_log_group(logGroupName=name).get("tags", {})
        except logs.exceptions.ResourceNotFoundException:
            continue
        if log_group_owned_by(name, tags, cluster):
            stored = int(group.get("storedBytes", 0))
            found.append(AwsResource("log-group", name, name, 0.0, f"{stored / 1e6:.1f} MB stored"))
    return found


def find_buckets(c: Clients, cluster: str) -> list[AwsResource]:
    s3 = c("s3")
    found = []
    for bucket in s3.list_buckets().get("Buckets", []):
        name = bucket["Name"]
        try:
            tags = s3.get_bucket_tagging(Bucket=name).get("TagSet", [])
        except s3.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchTagSet", "NoSuchBucket", "AccessDenied"):
                continue
            raise
        if owned_by(tags, cluster):
            found.append(AwsResource("s3-bucket", name, name, 0.0, "bucket (emptied, then deleted)"))
    return found


# The order the sweep deletes in: what holds others first.
FINDERS: dict[str, Callable[[Clients, str], list[AwsResource]]] = {
    "eks": find_eks,
    "ec2-instance": find_instances,
    "load-balancer": find_load_balancers,
    "target-group": find_target_groups,
    "nat-gateway": find_nat_gateways,
    "elastic-ip": find_addresses,
    "network-interface": find_network_interfaces,
    "ebs-volume": find_volumes,
    "launch-template": find_launch_templates,
    "security-group": find_security_groups,
    "log-group": find_log_groups,
    "s3-bucket": find_buckets,
}


def find(c: Clients, cluster: str, group: str) -> list[AwsResource]:
    return FINDERS[group](c, cluster)


def discover(c: Clients, cluster: str, groups: tuple[str, ...] | None = None) -> Inventory:
    """Everything of ``groups`` (default: all) that belongs to ``cluster``; errors kept per group."""
    from botocore.exceptions import BotoCoreError, ClientError

    inventory = Inventory()
    for group in groups or tuple(FINDERS):
        try:
            inventory.resources.extend(find(c, cluster, group))
        except (BotoCoreError, ClientError) as exc:
            log.info("could not list %s: %s", group, exc)  # shown by whoever reads Inventory.errors
            inventory.errors[group] = str(exc)
    return inventory
