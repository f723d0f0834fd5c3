"""The Kubernetes API client that teardown and pause use, or the reason there is none.

Connections come from :mod:`console.core.kube.connection` (``[kube] source``: a kubeconfig
context, or EKS by name). Teardown adds one check before it deletes anything: a kubeconfig
context must be *this* cluster — its name names the cluster (``aws eks update-kubeconfig``
names it ``arn:aws:eks:<region>:<account>:cluster/<name>``) or its server is the cluster's
endpoint — so a stale current-context never gets another cluster's Services deleted.
An unreachable or absent cluster is a normal situation here (already deleted): never raises.
"""

from __future__ import annotations

from typing import Any

from console.core.config import Config


def _target(cfg: Config, cluster: str = "", region: str = "") -> Any:
    from console.core.kube.connection import Target

    if cfg.kube.source == "eks":
        return Target(cluster=cluster or cfg.aws.cluster, region=region or cfg.aws.region, profile=cfg.aws.profile)
    return Target(kubeconfig=cfg.kube.kubeconfig, context=cfg.kube.context)


def api_client_or_reason(cfg: Config) -> tuple[Any, str]:
    """The configured cluster's client (as the Cluster place connects), or (None, why)."""
    from console.core.kube.connection import KubeConnectError, connect

    try:
        return connect(_target(cfg)).api_client, ""
    except KubeConnectError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - e.g. no AWS credentials for an EKS connection
        return None, f"{type(exc).__name__}: {exc}"


def _eks_endpoint(cluster: str, region: str, profile: str) -> str:
    try:
        import boto3

        session = boto3.Session(profile_name=profile or None, region_name=region)
        return session.client("eks", region_name=region).describe_cluster(name=cluster)["cluster"].get("endpoint", "")
    except Exception:  # noqa: BLE001 - no endpoint to compare with
        return ""


def api_client_for_cluster(cfg: Config, cluster: str, region: str) -> tuple[Any, str]:
    """A client for exactly ``cluster``, or (None, why): refuses a kubeconfig context that is another cluster."""
    from console.core.kube.connection import KubeConnectError, connect

    try:
        connection = connect(_target(cfg, cluster, region))
    except KubeConnectError as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001
        return None, f"{type(exc).__name__}: {exc}"
    if cfg.kube.source == "eks":
        return connection.api_client, ""
    names_it = connection.label == cluster or connection.label.endswith(f":cluster/{cluster}") or connection.label.endswith(f"/{cluster}")
    endpoint = "" if names_it else _eks_endpoint(cluster, region, cfg.aws.profile)
    if names_it or (endpoint and endpoint.rstrip("/") == connection.server.rstrip("/")):
        return connection.api_client, ""
    connection.close()
    return None, (
        f"kubeconfig context {connection.label!r} is not cluster {cluster!r}; "
        "pick its context ([kube] context) or set [kube] source = \"eks\""
    )
