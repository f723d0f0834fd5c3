"""How the console reaches a cluster: a kubeconfig context, or an EKS cluster by name with boto3 alone.

For EKS the console needs neither the AWS CLI nor a kubeconfig: ``describe_cluster`` gives the
endpoint and CA, and the bearer token is built the way ``aws eks get-token`` builds it (see
:func:`eks_token`). Tokens live 15 minutes; the client's ``refresh_api_key_hook`` renews them
after ``TOKEN_REFRESH_S`` so a console left open keeps working.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from console.core import paths

TOKEN_PREFIX = "k8s-aws-v1."
TOKEN_REFRESH_S = 10 * 60  # tokens are valid 15 min; renew well before


class KubeConnectError(Exception):
    """The cluster cannot be reached or configured; the message says why in operator terms."""


@dataclass(frozen=True)
class Target:
    """Where to connect: an EKS cluster when ``cluster`` is set, else a kubeconfig context."""

    kubeconfig: str = ""
    context: str = ""
    cluster: str = ""
    region: str = ""
    profile: str = ""

    @property
    def is_eks(self) -> bool:
        return bool(self.cluster)

    def label(self) -> str:
        if self.is_eks:
            return f"eks:{self.cluster}@{self.region or 'default-region'}"
        return self.context or "current-context"


@dataclass
class Connection:
    target: Target
    api_client: Any  # kubernetes.client.ApiClient
    label: str  # context name or eks:cluster@region, shown in the app
    server: str  # API endpoint URL
    namespace: str = ""  # the context's default namespace, when it names one

    def close(self) -> None:
        try:
            self.api_client.close()
        except Exception:  # noqa: BLE001 - closing a pool never matters to the operator
            pass


def _tune(configuration: Any) -> None:
    configuration.connection_pool_maxsize = 32  # one long-lived connection per watch, plus actions
    configuration.retries = 1


def connect(target: Target) -> Connection:
    """Build an API client for ``target``; raises :class:`KubeConnectError` with a clear reason."""
    return connect_eks(target) if target.is_eks else connect_kubeconfig(target)


def kubeconfig_contexts(kubeconfig: str = "") -> tuple[list[str], str]:
    """The context names in the kubeconfig and the current one; ([], "") when there is none."""
    from kubernetes import config as kconfig

    try:
        contexts, current = kconfig.list_kube_config_contexts(config_file=kubeconfig or None)
    except (kconfig.ConfigException, OSError, TypeError, ValueError):
        return [], ""
    return [c["name"] for c in contexts], (current or {}).get("name", "")


def connect_kubeconfig(target: Target) -> Connection:
    import kubernetes.client
    from kubernetes import config as kconfig

    configuration = kubernetes.client.Configuration()
    path = target.kubeconfig or os.environ.get("KUBECONFIG", "") or str(Path.home() / ".kube" / "config")
    if not any(Path(p).is_file() for p in path.split(os.pathsep)):
        raise KubeConnectError(f"no kubeconfig at {path}: pass --kubeconfig, or --cluster/--region for EKS")
    try:
        kconfig.load_kube_config(config_file=target.kubeconfig or None, context=target.context or None,
                                 client_configuration=configuration, persist_config=False)
        contexts, current = kconfig.list_kube_config_contexts(config_file=target.kubeconfig or None)
    except kconfig.ConfigException as exc:
        raise KubeConnectError(f"kubeconfig {path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - exec plugins, YAML errors, ...: say which file
        raise KubeConnectError(f"kubeconfig {path}: {type(exc).__name__}: {exc}") from None
    _tune(configuration)
    name = target.context or (current or {}).get("name", "")
    namespace = next((c.get("context", {}).get("namespace", "") for c in contexts if c["name"] == name), "")
    return Connection(target, kubernetes.client.ApiClient(configuration), name or "current-context",
                      configuration.host, namespace)


# ---- EKS -----------------------------------------------------------------------------------


def _session(target: Target) -> Any:
    import boto3

    kwargs = {"region_name": target.region or None}
    if target.profile:
        kwargs["profile_name"] = target.profile
    return boto3.Session(**kwargs)


def eks_token(cluster: str, session: Any, region: str | None = None) -> str:
    """A bearer token for an EKS cluster, as ``aws eks get-token`` makes it.

    A presigned STS ``GetCallerIdentity`` URL with the ``x-k8s-aws-id: <cluster>`` header signed
    in; token = ``k8s-aws-v1.`` + base64url(url) without padding. EKS accepts it for 15 minutes.
    """
    sts = session.client("sts", region_name=region or session.region_name)

    def add_cluster_header(request: Any, **_: Any) -> None:
        request.headers["x-k8s-aws-id"] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", add_cluster_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60, HttpMethod="GET")
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


class EksTokenSource:
    """Hands out an EKS token and makes a fresh one once the current is ``refresh_s`` old."""

    def __init__(self, cluster: str, session: Any, region: str | None = None, refresh_s: float = TOKEN_REFRESH_S,
                 clock: Any = time.monotonic) -> None:
        self.cluster, self.session, self.region = cluster, session, region
        self.refresh_s, self.clock = refresh_s, clock
        self.token = ""
        self.issued = float("-inf")
        self.renewals = 0

    def current(self) -> str:
        if self.clock() - self.issued >= self.refresh_s:
            self.token = eks_token(self.cluster, self.session, self.region)
            self.issued = self.clock()
            self.renewals += 1
        return self.token

    def hook(self, configuration: Any) -> None:
        """``Configuration.refresh_api_key_hook``: runs before every request."""
        configuration.api_key["BearerToken"] = self.current()


def describe_eks(target: Target, session: Any) -> tuple[str, bytes]:
    """Endpoint and CA certificate (PEM bytes) of the EKS cluster."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        cluster = session.client("eks", region_name=target.region or None).describe_cluster(name=target.cluster)["cluster"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "ResourceNotFoundException":
            raise KubeConnectError(f"no EKS cluster named {target.cluster!r} in {session.region_name}") from None
        raise KubeConnectError(f"EKS describe_cluster {target.cluster}: {code or exc}") from None
    except BotoCoreError as exc:
        raise KubeConnectError(f"AWS: {exc}") from None
    endpoint = cluster.get("endpoint") or ""
    if not endpoint:
        raise KubeConnectError(f"EKS cluster {target.cluster} has no endpoint yet (status {cluster.get('status', '?')})")
    ca = base64.b64decode((cluster.get("certificateAuthority") or {}).get("data") or b"")
    return endpoint, ca


def connect_eks(target: Target, token_source: EksTokenSource | None = None) -> Connection:
    import kubernetes.client
    from botocore.exceptions import BotoCoreError, ProfileNotFound

    try:
        session = _session(target)
    except (ProfileNotFound, BotoCoreError) as exc:
        raise KubeConnectError(f"AWS profile: {exc}") from None
    if not session.region_name:
        raise KubeConnectError("no AWS region: pass --region or set AWS_REGION / a profile region")
    endpoint, ca = describe_eks(target, session)
    source = token_source or EksTokenSource(target.cluster, session, session.region_name)
    configuration = kubernetes.client.Configuration()
    configuration.host = endpoint
    if ca:
        ca_file = paths.ensure_dir(paths.cache_dir() / "eks") / f"{hashlib.sha256(ca).hexdigest()[:16]}.crt"
        ca_file.write_bytes(ca)
        configuration.ssl_ca_cert = str(ca_file)
    configuration.api_key_prefix = {"BearerToken": "Bearer"}
    try:
        configuration.api_key = {"BearerToken": source.current()}
    except Exception as exc:  # noqa: BLE001 - no credentials, bad STS endpoint: say so
        raise KubeConnectError(f"cannot sign an EKS token: {type(exc).__name__}: {exc}") from None
    configuration.refresh_api_key_hook = source.hook
    _tune(configuration)
    connection = Connection(target, kubernetes.client.ApiClient(configuration), target.label(), endpoint)
    connection.token_source = source  # type: ignore[attr-defined] - for the status line and tests
    return connection
