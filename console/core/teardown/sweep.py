"""Delete what :mod:`.inventory` found, kind by kind, until nothing of the cluster's is left.

Deleting one kind often frees another (terminated instances release volumes and ENIs, deleted
load balancers release security groups), so the sweep makes passes over all kinds until a pass
deletes nothing more. A failure on one resource is recorded and the sweep goes on; the final
:func:`discover` decides what is still there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from console.core.teardown.inventory import FINDERS, AwsResource, Clients, Inventory, discover, find

log = logging.getLogger(__name__)

MAX_PASSES = 4


@dataclass
class SweepResult:
    deleted: list[AwsResource] = field(default_factory=list)
    failed: list[tuple[AwsResource, str]] = field(default_factory=list)
    remaining: Inventory = field(default_factory=Inventory)


def _wait(check: Callable[[], bool], timeout_s: float, interval_s: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def _delete_eks(c: Clients, r: AwsResource, wait_s: float) -> None:
    eks = c("eks")
    if r.kind == "eks-nodegroup":
        eks.delete_nodegroup(clusterName=r.extra["cluster"], nodegroupName=r.name)
        return
    for group in eks.list_nodegroups(clusterName=r.id).get("nodegroups", []):
        try:
            eks.delete_nodegroup(clusterName=r.id, nodegroupName=group)
        except eks.exceptions.ResourceNotFoundException:
            pass

    def groups_gone() -> bool:
        return not eks.list_nodegroups(clusterName=r.id).get("nodegroups")

    if not _wait(groups_gone, wait_s):
        raise TimeoutError(f"node groups of {r.id} still deleting after {wait_s:.0f} s")
    eks.delete_cluster(name=r.id)


def _delete_instance(c: Clients, r: AwsResource, wait_s: float) -> None:
    ec2 = c("ec2")
    ec2.terminate_instances(InstanceIds=[r.id])

    def gone() -> bool:
        found = ec2.describe_instances(InstanceIds=[r.id])["Reservations"]
        return all(i["State"]["Name"] == "terminated" for res in found for i in res["Instances"])

    if not _wait(gone, wait_s):
        raise TimeoutError(f"{r.id} still terminating after {wait_s:.0f} s")


def _delete_load_balancer(c: Clients, r: AwsResource, wait_s: float) -> None:
    if r.extra.get("api") == "elb":
        c("elb").delete_load_balancer(LoadBalancerName=r.id)
    else:
        c("elbv2").delete_load_balancer(LoadBalancerArn=r.id)


def _delete_target_group(c: Clients, r: AwsResource, wait_s: float) -> None:
    c("elbv2").delete_target_group(TargetGroupArn=r.id)


def _delete_nat_gateway(c: Clients, r: AwsResource, wait_s: float) -> None:
    ec2 = c("ec2")
    ec2.delete_nat_gateway(NatGatewayId=r.id)

    def gone() -> bool:
        found = ec2.describe_nat_gateways(NatGatewayIds=[r.id]).get("NatGateways", [])
        return all(gw.get("State") == "deleted" for gw in found)

    if not _wait(gone, wait_s):  # its EIP stays associated until it is fully deleted
        raise TimeoutError(f"{r.id} still deleting after {wait_s:.0f} s")


def _delete_address(c: Clients, r: AwsResource, wait_s: float) -> None:
    ec2 = c("ec2")
    if r.extra.get("association"):
        ec2.disassociate_address(AssociationId=r.extra["association"])
    ec2.release_address(AllocationId=r.id)


def _delete_network_interface(c: Clients, r: AwsResource, wait_s: float) -> None:
    ec2 = c("ec2")
    if r.extra.get("attachment"):
        ec2.detach_network_interface(AttachmentId=r.extra["attachment"], Force=True)
    ec2.delete_network_interface(NetworkInterfaceId=r.id)


def _delete_volume(c: Clients, r: AwsResource, wait_s: float) -> None:
    if r.extra.get("state") == "in-use":
        holders = ", ".join(i for i in r.extra.get("attachments", []) if i)
        raise RuntimeError(f"still attached to {holders or 'an instance'}; not detached by force")
    c("ec2").delete_volume(VolumeId=r.id)


def _delete_launch_template(c: Clients, r: AwsResource, wait_s: float) -> None:
    c("ec2").delete_launch_template(LaunchTemplateId=r.id)


def _delete_security_group(c: Clients, r: AwsResource, wait_s: float) -> None:
    ec2 = c("ec2")
    group = r.extra.get("group", {})
    # Rules that reference other groups block their deletion: drop them first.
    if group.get("IpPermissions"):
        ec2.revoke_security_group_ingress(GroupId=r.id, IpPermissions=group["IpPermissions"])
    ec2.delete_security_group(GroupId=r.id)


def _delete_log_group(c: Clients, r: AwsResource, wait_s: float) -> None:
    c("logs").delete_log_group(logGroupName=r.id)


def _delete_bucket(c: Clients, r: AwsResource, wait_s: float) -> None:
    s3 = c("s3")
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=r.id):
        doomed = [{"Key": v["Key"], "VersionId": v["VersionId"]} for v in page.get("Versions", []) + page.get("DeleteMarkers", [])]
        for start in range(0, len(doomed), 1000):
            s3.delete_objects(Bucket=r.id, Delete={"Objects": doomed[start : start + 1000], "Quiet": True})
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=r.id):
        doomed = [{"Key": o["Key"]} for o in page.get("Contents", [])]
        if doomed:
            s3.delete_objects(Bucket=r.id, Delete={"Objects": doomed, "Quiet": True})
    s3.delete_bucket(Bucket=r.id)


DELETERS: dict[str, Callable[[Clients, AwsResource, float], None]] = {
    "eks-cluster": _delete_eks,
    "eks-nodegroup": _delete_eks,
    "ec2-instance": _delete_instance,
    "load-balancer": _delete_load_balancer,
    "target-group": _delete_target_group,
    "nat-gateway": _delete_nat_gateway,
    "elastic-ip": _delete_address,
    "network-interface": _delete_network_interface,
    "ebs-volume": _delete_volume,
    "launch-template": _delete_launch_template,
    "security-group": _delete_security_group,
    "log-group": _delete_log_group,
    "s3-bucket": _delete_bucket,
}


def sweep(
    c: Clients,
    cluster: str,
    on_event: Callable[[str, AwsResource, str], None] | None = None,
    wait_s: float = 900.0,
) -> SweepResult:
    """Delete everything that belongs to ``cluster``; ``on_event(action, resource, note)`` reports
    each ``"deleting"``, ``"deleted"`` and ``"failed"``."""
    from botocore.exceptions import BotoCoreError, ClientError

    result = SweepResult()
    notify = on_event or (lambda *_: None)
    for _pass in range(MAX_PASSES):
        progress = False
        for group in FINDERS:
            try:
                found = find(c, cluster, group)
            except (BotoCoreError, ClientError):
                continue  # the final discover() reports the kind as unverified
            if group == "eks":  # node groups go with their cluster
                found = [r for r in found if r.kind == "eks-cluster"] or found
            for resource in found:
                notify("deleting", resource, "")
                try:
                    DELETERS[resource.kind](c, resource, wait_s)
                except (BotoCoreError, ClientError, TimeoutError, RuntimeError) as exc:
                    notify("failed", resource, str(exc))
                    result.failed.append((resource, str(exc)))
                    continue
                result.deleted.append(resource)
                notify("deleted", resource, "")
                progress = True
        if not progress:
            break
    result.remaining = discover(c, cluster)
    # Only failures of things that are still there matter in the end.
    still = {r.id for r in result.remaining.resources}
    last_failure = {r.id: (r, why) for r, why in result.failed}  # one line per resource, its latest reason
    result.failed = [entry for rid, entry in last_failure.items() if rid in still]
    return result
