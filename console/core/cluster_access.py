"""A Kubernetes API client from the configured kubeconfig/context, or the reason there is none.

Teardown and pause only need a plain ``kubernetes.client.ApiClient``; an unreachable or absent
cluster is a normal situation for them (already deleted), so this never raises.
"""

from __future__ import annotations

from typing import Any

from console.core.config import Config


def api_client_or_reason(cfg: Config) -> tuple[Any, str]:
    try:
        from kubernetes import config as kube_config
        from kubernetes.config.config_exception import ConfigException
    except ImportError:  # pragma: no cover - kubernetes is a dependency
        return None, "the kubernetes client is not installed"
    try:
        client = kube_config.new_client_from_config(config_file=cfg.kube.kubeconfig or None, context=cfg.kube.context or None)
    except (ConfigException, OSError, TypeError, ValueError) as exc:
        return None, f"no usable kubeconfig ({str(exc)[:120]})"
    return client, ""
