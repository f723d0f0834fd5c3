"""A kubeconfig entry for the new cluster, authenticating with ``aws eks get-token``.

Written the way ``aws eks update-kubeconfig`` writes it (context named after the cluster
ARN, made current), so kubectl, helm and the console all reach the cluster with short-lived
tokens and no stored credential. The console's cluster connection code reads this entry.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class KubeconfigEntry:
    path: Path
    context: str
    endpoint: str


def default_path(configured: str = "") -> Path:
    if configured:
        return Path(configured).expanduser()
    env = os.environ.get("KUBECONFIG", "")
    if env:
        return Path(env.split(os.pathsep)[0]).expanduser()
    return Path.home() / ".kube" / "config"


def _upsert(items: list[dict[str, Any]], name: str, key: str, value: dict[str, Any]) -> None:
    for item in items:
        if item.get("name") == name:
            item[key] = value
            return
    items.append({"name": name, key: value})


def update_kubeconfig(cluster: str, region: str, profile: str = "", path: Path | None = None, eks_client=None) -> KubeconfigEntry:
    """Add or refresh the cluster's entry (EKS DescribeCluster for endpoint and CA)."""
    if eks_client is None:
        import boto3

        eks_client = boto3.Session(profile_name=profile or None, region_name=region).client("eks", region_name=region)
    info = eks_client.describe_cluster(name=cluster)["cluster"]
    arn, endpoint = info["arn"], info["endpoint"]
    ca = info.get("certificateAuthority", {}).get("data", "")
    path = path or default_path()
    data: dict[str, Any] = {}
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    data.setdefault("apiVersion", "v1")
    data.setdefault("kind", "Config")
    for key in ("clusters", "users", "contexts"):
        data[key] = data.get(key) or []
    _upsert(data["clusters"], arn, "cluster", {"server": endpoint, "certificate-authority-data": ca})
    args = ["--region", region, "eks", "get-token", "--cluster-name", cluster, "--output", "json"]
    exec_cfg: dict[str, Any] = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aws", "args": args}
    if profile:
        exec_cfg["env"] = [{"name": "AWS_PROFILE", "value": profile}]
    _upsert(data["users"], arn, "user", {"exec": exec_cfg})
    _upsert(data["contexts"], arn, "context", {"cluster": arn, "user": arn})
    data["current-context"] = arn
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return KubeconfigEntry(path, arn, endpoint)
