"""Plant what a half-deleted cluster leaves behind in the moto server, tagged and untagged.

``plant(cluster)`` creates one resource of every kind the sweep knows, tagged to ``cluster`` by
the different rules a real cluster uses, plus an untagged (or other-cluster) twin of each kind
that must survive every teardown. Returns the ids of both sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import boto3

REGION = "us-west-2"


@dataclass
class Planted:
    ours: dict[str, list[str]] = field(default_factory=dict)  # kind -> ids
    theirs: dict[str, list[str]] = field(default_factory=dict)


def _tags(pairs: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in pairs.items()]


def plant(cluster: str, other: str = "someone-else", with_eks: bool = True) -> Planted:
    ec2 = boto3.client("ec2", region_name=REGION)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    elb = boto3.client("elb", region_name=REGION)
    logs = boto3.client("logs", region_name=REGION)
    s3 = boto3.client("s3", region_name=REGION)
    eks = boto3.client("eks", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    p = Planted()
    owned = {f"kubernetes.io/cluster/{cluster}": "owned"}
    foreign = {f"kubernetes.io/cluster/{other}": "owned", "team": "data"}

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"]
        for i, az in enumerate("ab")
    ]
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]

    if with_eks:
        role = iam.create_role(RoleName=f"{cluster}-eks", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        eks.create_cluster(name=cluster, version="1.30", roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
        eks.create_nodegroup(clusterName=cluster, nodegroupName="core", nodeRole=role, subnets=subnets, instanceTypes=["m5.xlarge"])
        eks.create_cluster(name=other, version="1.30", roleArn=role, resourcesVpcConfig={"subnetIds": subnets})
        p.ours["eks-cluster"] = [cluster]
        p.theirs["eks-cluster"] = [other]

    def instance(itype: str, tags: dict[str, str], spot: bool = False) -> str:
        kwargs = {"InstanceMarketOptions": {"MarketType": "spot"}} if spot else {}
        return ec2.run_instances(
            ImageId=ami, InstanceType=itype, MinCount=1, MaxCount=1, SubnetId=subnets[0],
            TagSpecifications=[{"ResourceType": "instance", "Tags": _tags(tags)}] if tags else [], **kwargs,
        )["Instances"][0]["InstanceId"]

    p.ours["ec2-instance"] = [
        instance("g5.24xlarge", {**owned, "karpenter.sh/nodepool": "gpu", "eks:eks-cluster-name": cluster}),
        instance("m5.xlarge", {"eks:cluster-name": cluster, "Name": "core-1"}),
    ]
    p.theirs["ec2-instance"] = [instance("m5.xlarge", foreign), instance("t3.medium", {})]

    def sg(name: str, tags: dict[str, str]) -> str:
        return ec2.create_security_group(
            GroupName=name, Description=name, VpcId=vpc, TagSpecifications=[{"ResourceType": "security-group", "Tags": _tags(tags)}] if tags else []
        )["GroupId"]

    node_sg = sg(f"{cluster}-node", {"karpenter.sh/discovery": cluster})
    lb_sg = sg(f"k8s-{cluster}-lb", {"elbv2.k8s.aws/cluster": cluster})
    ec2.authorize_security_group_ingress(GroupId=node_sg, IpPermissions=[{"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8002, "UserIdGroupPairs": [{"GroupId": lb_sg}]}])
    p.ours["security-group"] = [node_sg, lb_sg]
    p.theirs["security-group"] = [sg("bastion", {}), sg("other-node", {"karpenter.sh/discovery": other})]

    def alb(name: str, tags: dict[str, str]) -> str:
        return elbv2.create_load_balancer(Name=name, Subnets=subnets, Type="network", **({"Tags": _tags(tags)} if tags else {}))["LoadBalancers"][0]["LoadBalancerArn"]

    p.ours["load-balancer"] = [alb("k8s-tritonvl-tritonvl", {**owned, "kubernetes.io/service-name": "triton-vllm/triton-vllm"})]
    p.theirs["load-balancer"] = [alb("web", {})]
    elb.create_load_balancer(LoadBalancerName="a1b2c3", Listeners=[{"Protocol": "tcp", "LoadBalancerPort": 80, "InstancePort": 8000}], AvailabilityZones=[f"{REGION}a"], Tags=_tags(owned))
    elb.create_load_balancer(LoadBalancerName="legacy", Listeners=[{"Protocol": "tcp", "LoadBalancerPort": 80, "InstancePort": 80}], AvailabilityZones=[f"{REGION}a"], Tags=_tags(foreign))
    p.ours["load-balancer"].append("a1b2c3")
    p.theirs["load-balancer"].append("legacy")

    def tg(name: str, tags: dict[str, str]) -> str:
        return elbv2.create_target_group(Name=name, Protocol="TCP", Port=8000, VpcId=vpc, **({"Tags": _tags(tags)} if tags else {}))["TargetGroups"][0]["TargetGroupArn"]

    p.ours["target-group"] = [tg("k8s-triton-tg", {"elbv2.k8s.aws/cluster": cluster})]
    p.theirs["target-group"] = [tg("web-tg", {})]

    def eip(tags: dict[str, str]) -> str:
        spec = [{"ResourceType": "elastic-ip", "Tags": _tags(tags)}] if tags else []
        return ec2.allocate_address(Domain="vpc", TagSpecifications=spec)["AllocationId"]

    nat_eip = eip({**owned, "Name": f"{cluster}-nat"})
    p.ours["elastic-ip"] = [nat_eip, eip({"triton-console/cluster": cluster})]
    p.theirs["elastic-ip"] = [eip({}), eip(foreign)]

    def nat(eip_id: str, tags: dict[str, str]) -> str:
        return ec2.create_nat_gateway(
            SubnetId=subnets[1], AllocationId=eip_id, TagSpecifications=[{"ResourceType": "natgateway", "Tags": _tags(tags)}] if tags else []
        )["NatGateway"]["NatGatewayId"]

    p.ours["nat-gateway"] = [nat(nat_eip, {**owned, "Name": f"{cluster}-nat"})]
    p.theirs["nat-gateway"] = [nat(p.theirs["elastic-ip"][0], {})]

    def eni(tags: dict[str, str]) -> str:
        spec = [{"ResourceType": "network-interface", "Tags": _tags(tags)}] if tags else []
        return ec2.create_network_interface(SubnetId=subnets[0], TagSpecifications=spec)["NetworkInterface"]["NetworkInterfaceId"]

    p.ours["network-interface"] = [eni({"cluster.k8s.amazonaws.com/name": cluster}), eni(owned)]
    p.theirs["network-interface"] = [eni({}), eni({"cluster.k8s.amazonaws.com/name": other})]

    def volume(tags: dict[str, str], size: int = 100) -> str:
        spec = [{"ResourceType": "volume", "Tags": _tags(tags)}] if tags else []
        return ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=size, VolumeType="gp3", TagSpecifications=spec)["VolumeId"]

    p.ours["ebs-volume"] = [volume({**owned, "kubernetes.io/created-for/pvc/name": "model-cache", "ebs.csi.aws.com/cluster": "true"}), volume({"KubernetesCluster": cluster}, 20)]
    p.theirs["ebs-volume"] = [volume({}), volume({f"kubernetes.io/cluster/{cluster}": "shared"})]

    def template(name: str, tags: dict[str, str]) -> str:
        spec = [{"ResourceType": "launch-template", "Tags": _tags(tags)}] if tags else []
        return ec2.create_launch_template(LaunchTemplateName=name, LaunchTemplateData={"ImageId": ami}, TagSpecifications=spec)["LaunchTemplate"]["LaunchTemplateId"]

    p.ours["launch-template"] = [template(f"karpenter-{cluster}-gpu", {"karpenter.sh/discovery": cluster, **owned})]
    p.theirs["launch-template"] = [template("golden", {})]

    logs.create_log_group(logGroupName=f"/aws/eks/{cluster}/cluster")
    logs.create_log_group(logGroupName="/triton/app", tags={"triton-console/cluster": cluster})
    logs.create_log_group(logGroupName=f"/aws/eks/{other}/cluster")
    logs.create_log_group(logGroupName="/audit", tags={"team": "sec"})
    p.ours["log-group"] = [f"/aws/eks/{cluster}/cluster", "/triton/app"]
    p.theirs["log-group"] = [f"/aws/eks/{other}/cluster", "/audit"]

    def bucket(name: str, tags: dict[str, str]) -> str:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        if tags:
            s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tags(tags)})
        s3.put_object(Bucket=name, Key="model_repository/llama2/config.pbtxt", Body=b"name: 'llama2'")
        return name

    models = bucket(f"{cluster}-models-1234", {"triton-console/cluster": cluster})
    s3.put_bucket_versioning(Bucket=models, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=models, Key="model_repository/llama2/config.pbtxt", Body=b"v2")
    p.ours["s3-bucket"] = [models]
    p.theirs["s3-bucket"] = [bucket("company-data", {}), bucket(f"{other}-models", {"triton-console/cluster": other})]
    return p


def existing(kind: str) -> set[str]:
    """Ids of what exists now, by the same ids :func:`plant` returns (regardless of tags)."""
    ec2 = boto3.client("ec2", region_name=REGION)
    if kind == "eks-cluster":
        return set(boto3.client("eks", region_name=REGION).list_clusters()["clusters"])
    if kind == "ec2-instance":
        return {i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"] if i["State"]["Name"] != "terminated"}
    if kind == "security-group":
        return {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
    if kind == "load-balancer":
        v2 = {lb["LoadBalancerArn"] for lb in boto3.client("elbv2", region_name=REGION).describe_load_balancers()["LoadBalancers"]}
        v1 = {lb["LoadBalancerName"] for lb in boto3.client("elb", region_name=REGION).describe_load_balancers()["LoadBalancerDescriptions"]}
        return v2 | v1
    if kind == "target-group":
        return {t["TargetGroupArn"] for t in boto3.client("elbv2", region_name=REGION).describe_target_groups()["TargetGroups"]}
    if kind == "elastic-ip":
        return {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]}
    if kind == "nat-gateway":
        return {n["NatGatewayId"] for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] not in ("deleted", "deleting")}
    if kind == "network-interface":
        return {n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces()["NetworkInterfaces"]}
    if kind == "ebs-volume":
        return {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    if kind == "launch-template":
        return {t["LaunchTemplateId"] for t in ec2.describe_launch_templates()["LaunchTemplates"]}
    if kind == "log-group":
        return {g["logGroupName"] for g in boto3.client("logs", region_name=REGION).describe_log_groups()["logGroups"]}
    if kind == "s3-bucket":
        return {b["Name"] for b in boto3.client("s3", region_name=REGION).list_buckets()["Buckets"]}
    raise ValueError(kind)
