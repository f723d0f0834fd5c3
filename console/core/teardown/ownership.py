"""Which AWS resources belong to a cluster: the one rule the plan, the sweep and the burn rate share.

A resource belongs to cluster ``C`` when one of its tags says so:

==========================================  =========================  =================================
tag key                                     value                      who sets it
==========================================  =========================  =================================
``kubernetes.io/cluster/C``                 ``owned``                  EKS, cloud provider, EBS CSI, Karpenter
``eks:cluster-name``                        ``C``                      EKS managed node groups
``aws:eks:cluster-name``                    ``C``                      EKS (aws: reserved prefix)
``eks:eks-cluster-name``                    ``C``                      Karpenter v1 instances
``karpenter.sh/discovery``                  ``C``                      our terraform (node SG, subnets)
``elbv2.k8s.aws/cluster``                   ``C``                      AWS Load Balancer Controller
``cluster.k8s.amazonaws.com/name``          ``C``                      VPC CNI (ENIs)
``KubernetesCluster``                       ``C``                      legacy in-tree cloud provider
``triton-console/cluster``                  ``C``                      our terraform (default_tags)
``Blueprint`` + ``GithubRepo``              ``C`` + ``triton-console`` our terraform's default_tags
==========================================  =========================  =================================

``kubernetes.io/cluster/C = shared`` does NOT count: it marks things (subnets, a VPC) that other
clusters may use too. CloudWatch log groups that EKS creates itself carry no tags, so a log group
also belongs when its name starts with ``/aws/eks/C/`` or ``/aws/containerinsights/C/``.
Nothing else is ever touched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

OUR_TAG = "triton-console/cluster"
OUR_REPO_TAG = "triton-console"  # terraform/main.tf local.tags: GithubRepo
VALUE_TAGS = (
    "eks:cluster-name",
    "aws:eks:cluster-name",
    "eks:eks-cluster-name",
    "karpenter.sh/discovery",
    "elbv2.k8s.aws/cluster",
    "cluster.k8s.amazonaws.com/name",
    "KubernetesCluster",
    OUR_TAG,
)


def tag_dict(tags: Iterable[Mapping[str, str]] | Mapping[str, str] | None) -> dict[str, str]:
    """AWS's ``[{"Key": k, "Value": v}]`` (any capitalisation) or a plain mapping, as a dict."""
    if not tags:
        return {}
    if isinstance(tags, Mapping):
        return {str(k): str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for tag in tags:
        key = tag.get("Key", tag.get("key"))
        if key is not None:
            out[str(key)] = str(tag.get("Value", tag.get("value", "")))
    return out


def owned_by(tags: Iterable[Mapping[str, str]] | Mapping[str, str] | None, cluster: str) -> bool:
    """True when the tags say the resource belongs to ``cluster`` (see the module docstring)."""
    if not cluster:
        return False
    found = tag_dict(tags)
    if found.get(f"kubernetes.io/cluster/{cluster}", "").lower() == "owned":
        return True
    if found.get("Blueprint") == cluster and found.get("GithubRepo") == OUR_REPO_TAG:
        return True
    return any(found.get(key) == cluster for key in VALUE_TAGS)


def log_group_owned_by(name: str, tags: Mapping[str, str] | None, cluster: str) -> bool:
    prefixes = (f"/aws/eks/{cluster}/", f"/aws/containerinsights/{cluster}/")
    return bool(cluster) and (name.startswith(prefixes) or owned_by(tags, cluster))
