"""Preflight against moto (identity, region, instance types), real local binaries, and a
botocore Stubber for Service Quotas (moto only implements the VPC quotas)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from console.core.provision.preflight import GPU_QUOTA_CODE, Preflight, all_passed
from console.core.provision.settings import ProvisionSettings
from tests.helm_tools import find_helm

REPO = Path(__file__).resolve().parents[1]
_HELM = find_helm()
HELM_DIR = Path(_HELM).parent if _HELM else REPO / ".cache" / "bin"


def settings(**kw) -> ProvisionSettings:
    base = dict(name="nvidia-triton-server", region="us-west-2", cluster_version="1.35",
                gpu_instance_types=("g5.12xlarge", "g5.24xlarge"), gpu_pool_vcpu_limit=96,
                models=("llama2", "mistral7b"), terraform_dir=REPO / "terraform")
    base.update(kw)
    return ProvisionSettings(**base)


def quota_factory(responses):
    """Real moto clients, except Service Quotas: a stubbed client answering ``responses``."""
    sq = boto3.client("service-quotas", region_name="us-west-2")
    stub = Stubber(sq)
    for method, reply, params in responses:
        if isinstance(reply, str):
            stub.add_client_error(method, service_error_code=reply, http_status_code=400, expected_params=params)
        else:
            stub.add_response(method, reply, params)
    stub.activate()

    def factory(service):
        return sq if service == "service-quotas" else boto3.client(service, region_name="us-west-2")

    return factory, stub


def quota(value):
    return {"Quota": {"ServiceCode": "ec2", "QuotaCode": GPU_QUOTA_CODE, "Value": float(value),
                      "QuotaName": "Running On-Demand G and VT instances"}}


PARAMS = {"ServiceCode": "ec2", "QuotaCode": GPU_QUOTA_CODE}


def test_identity_and_region_against_moto(aws_server):
    pre = Preflight(settings())
    ident = pre.check_identity()
    assert ident.status == "pass" and "account 123456789012" in ident.detail
    region = pre.check_region()
    assert region.status == "pass" and "us-west-2a" in region.detail


def test_bad_region_and_missing_credentials_fail_with_fixes(aws_server, monkeypatch):
    bad = Preflight(settings(region="mars-north-1")).check_region()
    assert bad.status == "fail" and "TRITON_CONSOLE_AWS_REGION" in bad.fix
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # nothing listens there
    ident = Preflight(settings()).check_identity()
    assert ident.status == "fail" and "aws configure" in ident.fix


@pytest.mark.parametrize(
    ("value", "status", "text"),
    [(0, "fail", "one g5.24xlarge needs 96"), (64, "fail", "needs 96"), (96, "pass", "96 vCPUs"), (384, "pass", "384 vCPUs")],
)
def test_gpu_quota_against_the_largest_instance(aws_server, value, status, text):
    factory, stub = quota_factory([("get_service_quota", quota(value), PARAMS)])
    check = Preflight(settings(), client_factory=factory).check_gpu_quota()
    assert (check.status, text in check.detail) == (status, True), check
    if status == "fail":
        assert f"--quota-code {GPU_QUOTA_CODE} --desired-value 96 --region us-west-2" in check.fix
    stub.assert_no_pending_responses()


def test_gpu_quota_warns_below_pool_limit_and_falls_back_to_default(aws_server):
    factory, stub = quota_factory([
        ("get_service_quota", "NoSuchResourceException", PARAMS),
        ("get_aws_default_service_quota", quota(64), PARAMS),
    ])
    check = Preflight(settings(gpu_instance_types=("g5.12xlarge",), gpu_pool_vcpu_limit=192),
                      client_factory=factory).check_gpu_quota()
    assert check.status == "warn" and "enough for one g5.12xlarge (48)" in check.detail
    assert "--desired-value 192" in check.fix
    stub.assert_no_pending_responses()


def test_gpu_quota_access_denied_is_a_failure_not_a_crash(aws_server):
    factory, _ = quota_factory([("get_service_quota", "AccessDeniedException", PARAMS)])
    check = Preflight(settings(), client_factory=factory).check_gpu_quota()
    assert check.status == "fail" and "servicequotas:GetServiceQuota" in check.fix


def test_hf_token_states():
    assert Preflight(settings(), environ={}).check_hf_token().detail == "not set"
    placeholder = Preflight(settings(), environ={"HF_TOKEN": "hf_xxx"}).check_hf_token()
    assert placeholder.status == "fail" and "placeholder" in placeholder.detail
    real = Preflight(settings(), environ={"TF_VAR_huggingface_token": "hf_" + "a" * 30}).check_hf_token()
    assert real.status == "pass" and "aaaa" not in real.detail and "TF_VAR_huggingface_token" in real.detail


def test_tools_found_with_versions(terraform_standin):
    terraform_standin("provision_ok")
    if not (HELM_DIR / "helm").exists():
        pytest.skip("helm binary absent: run scripts/tools.sh")
    env = {**os.environ, "PATH": f"{HELM_DIR}{os.pathsep}{os.environ['PATH']}"}
    pre = Preflight(settings(), environ=env)
    assert pre.check_terraform().status == "pass" and "1.9.8" in pre.check_terraform().detail
    helm = pre.check_tool("helm", ["version", "--short"], (3, 8))
    assert helm.status == "pass" and helm.detail.startswith("4.")
    if shutil.which("kubectl", path=env["PATH"]):
        assert pre.check_tool("kubectl", ["version", "--client", "-o", "json"], (1, 28)).status == "pass"


def test_missing_tools_fail_with_install_hints(tmp_path, monkeypatch):
    monkeypatch.setenv("TERRAFORM_BIN", str(tmp_path / "none"))
    pre = Preflight(settings(), environ={"PATH": str(tmp_path), "TERRAFORM_BIN": str(tmp_path / "none")})
    assert pre.check_terraform().status == "fail" and "TERRAFORM_BIN" in pre.check_terraform().fix
    for name in ("helm", "kubectl", "aws"):
        check = pre.check_tool(name, ["--version"], (1, 0))
        assert check.status == "fail" and "install" in check.fix


def test_full_run_reports_every_check_and_cost(aws_server, terraform_standin):
    terraform_standin("provision_ok")
    factory, _ = quota_factory([("get_service_quota", quota(192), PARAMS)])
    env = {**os.environ, "PATH": f"{HELM_DIR}{os.pathsep}{os.environ['PATH']}", "HF_TOKEN": "hf_" + "b" * 30}
    checks = Preflight(settings(), environ=env, client_factory=factory).run()
    assert [c.key for c in checks] == ["aws-identity", "region", "terraform", "kubectl", "helm", "aws-cli",
                                       "hf-token", "gpu-quota", "cost"]
    cost = checks[-1]
    assert cost.status == "info" and cost.detail.startswith("$") and "g5.12xlarge" in cost.detail
    by_key = {c.key: c for c in checks}
    assert by_key["aws-identity"].status == "pass" and by_key["gpu-quota"].status == "pass"
    assert all_passed([c for c in checks if c.key not in ("kubectl", "helm", "aws-cli")])


def test_cost_estimate_uses_pricing():
    from console.core.provision.cost import estimate

    est = estimate(settings())
    # g5.12xlarge 5.672 + 2 x m5.xlarge 0.192 + control plane 0.10 + NAT 0.045 + IPv4 0.005 + EBS
    assert est.total == pytest.approx(5.672 + 0.384 + 0.10 + 0.045 + 0.005 + 390 * 0.08 / 730)
    assert est.lines[0].item == "GPU node g5.12xlarge" and not est.unknown
