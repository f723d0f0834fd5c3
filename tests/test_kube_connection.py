"""Reaching a cluster: kubeconfig contexts, and EKS by name with boto3 alone (moto's EKS and STS)."""

from __future__ import annotations

import base64
import urllib.parse
import urllib.request

import boto3
import pytest

from console.core.kube.connection import (TOKEN_PREFIX, EksTokenSource, KubeConnectError, Target, connect,
                                          kubeconfig_contexts)
from console.core.kube.monitor import ClusterMonitor
from tests.kube_cluster import NAMESPACE, wait_until

CA_PEM = b"-----BEGIN CERTIFICATE-----\nMIIBkTCB+wIJAKHBfpegPjMCMA0GCSqGSIb3DQEBCwUAMBExDzANBgNVBAMMBmt1YmUt\n-----END CERTIFICATE-----\n"


def _create_cluster(name: str = "nvidia-triton-server") -> dict:
    eks = boto3.client("eks", region_name="us-west-2")
    return eks.create_cluster(name=name, roleArn="arn:aws:iam::123456789012:role/eks", version="1.30",
                              resourcesVpcConfig={"subnetIds": ["subnet-1", "subnet-2"]})["cluster"]


def _decode(token: str) -> str:
    assert token.startswith(TOKEN_PREFIX) and "=" not in token
    body = token[len(TOKEN_PREFIX):]
    return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()


def test_eks_token_is_a_presigned_get_caller_identity_that_sts_accepts(aws_server):
    from console.core.kube.connection import eks_token

    token = eks_token("nvidia-triton-server", boto3.Session(region_name="us-west-2"))
    url = _decode(token)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["Action"] == ["GetCallerIdentity"] and query["X-Amz-Expires"] == ["60"]
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0].split(";")
    assert url.startswith(aws_server)  # signed for the STS endpoint boto3 resolves (moto here)
    # What STS checks when EKS hands it the URL: the SigV4 signature over the query *and* the
    # x-k8s-aws-id header. (moto's server routes a presigned GET by its Authorization header, which
    # such a URL lacks, so the check is recomputed here with botocore's own signer.)
    assert _recomputed_signature(url, {"x-k8s-aws-id": "nvidia-triton-server"}) == query["X-Amz-Signature"][0]
    assert _recomputed_signature(url, {"x-k8s-aws-id": "another-cluster"}) != query["X-Amz-Signature"][0]


def _recomputed_signature(url: str, headers: dict) -> str:
    from botocore.auth import SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    parts = urllib.parse.urlsplit(url)
    params = urllib.parse.parse_qsl(parts.query)
    plain = [(k, v) for k, v in params if not k.startswith("X-Amz-")]
    request = AWSRequest("GET", urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(plain))), headers=dict(headers))
    request.context["timestamp"] = dict(params)["X-Amz-Date"]
    auth = SigV4QueryAuth(Credentials("testing", "testing", "testing"), "sts", "us-west-2", expires=60)
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    return auth.signature(auth.string_to_sign(request, canonical), request)


def test_token_source_renews_before_expiry():
    now = [0.0]
    session = boto3.Session(region_name="us-west-2", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
    source = EksTokenSource("c1", session, clock=lambda: now[0])
    first = source.current()
    now[0] = 9 * 60
    assert source.current() == first and source.renewals == 1
    now[0] = 10 * 60 + 1
    source.current()
    assert source.renewals == 2  # renewed at 10 min, well inside the 15 min validity


def test_connect_eks_uses_describe_cluster_and_a_refreshing_token(aws_server, kube_cluster, monkeypatch):
    created = _create_cluster()
    connection = connect(Target(cluster="nvidia-triton-server", region="us-west-2"))
    configuration = connection.api_client.configuration
    assert connection.server == created["endpoint"] and connection.label == "eks:nvidia-triton-server@us-west-2"
    ca = open(configuration.ssl_ca_cert, "rb").read()
    assert ca == base64.b64decode(created["certificateAuthority"]["data"])
    assert configuration.api_key["BearerToken"].startswith(TOKEN_PREFIX)
    # moto's endpoint serves no Kubernetes API: point the same client at the kmock server to prove
    # the token travels on real requests and is renewed by the refresh hook.
    configuration.host = kube_cluster.url
    source = connection.token_source
    mon = ClusterMonitor(connection, NAMESPACE).start()
    try:
        assert mon.wait_synced(30) and len(mon.picture().nodes) == 4
        auth = [r.headers.get("Authorization", "") for r in kube_cluster.emulator._requests]
        assert auth and all(a.startswith("Bearer " + TOKEN_PREFIX) for a in auth)
        renewals = source.renewals
        source.issued -= source.refresh_s  # the token is now due
        kube_cluster.add(("", "v1", "namespaces"), {"metadata": {"name": "other"}})
        kube_cluster.drop_watches()  # reconnecting watches ask for a token again
        wait_until(lambda: source.renewals > renewals, what="token renewal")
    finally:
        mon.stop()


def test_unknown_eks_cluster_is_a_clear_error(aws_server):
    with pytest.raises(KubeConnectError, match="no EKS cluster named 'missing'"):
        connect(Target(cluster="missing", region="us-west-2"))


def test_kubeconfig_contexts_and_errors(kube_cluster, tmp_path):
    path = kube_cluster.kubeconfig(tmp_path / "kubeconfig", context="prod")
    assert kubeconfig_contexts(path) == (["prod"], "prod")
    connection = connect(Target(kubeconfig=path))
    assert (connection.label, connection.server, connection.namespace) == ("prod", kube_cluster.url, NAMESPACE)
    with pytest.raises(KubeConnectError, match="no kubeconfig at"):
        connect(Target(kubeconfig=str(tmp_path / "absent")))
    with pytest.raises(KubeConnectError, match="staging"):
        connect(Target(kubeconfig=path, context="staging"))
    (tmp_path / "broken").write_text("apiVersion: v1\nclusters: [\n")
    with pytest.raises(KubeConnectError, match="broken"):
        connect(Target(kubeconfig=str(tmp_path / "broken")))
