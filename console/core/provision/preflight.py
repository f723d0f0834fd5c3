"""Preflight: everything provisioning needs, checked before anything is created.

Each check returns a :class:`Check` (pass / warn / fail / info) with the fix an operator can
act on. Checks never raise: an exception becomes a failed check that says what went wrong.
AWS calls go through ``client_factory(service)`` so tests can use moto, and a botocore
Stubber where moto lacks the API (Service Quotas for EC2).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from console.core import secrets
from console.core import terraform as tf
from console.core.provision.cost import estimate
from console.core.provision.settings import ProvisionSettings

GPU_QUOTA_CODE = "L-DB2E81BA"  # EC2: Running On-Demand G and VT instances (vCPUs)
MIN_TERRAFORM = (1, 5)
MIN_KUBECTL = (1, 28)
MIN_HELM = (3, 8)
MIN_AWS_CLI = (1, 16)  # `aws eks get-token` exists from 1.16.266 (v1) and in every v2
# vCPUs per g5 size, when EC2 DescribeInstanceTypes cannot answer.
G5_VCPUS = {"g5.xlarge": 4, "g5.2xlarge": 8, "g5.4xlarge": 16, "g5.8xlarge": 32, "g5.12xlarge": 48,
            "g5.16xlarge": 64, "g5.24xlarge": 96, "g5.48xlarge": 192}


@dataclass(frozen=True)
class Check:
    key: str
    title: str
    status: str  # "pass" | "warn" | "fail" | "info"
    detail: str
    fix: str = ""

    @property
    def failed(self) -> bool:
        return self.status == "fail"


def all_passed(checks: list[Check]) -> bool:
    return not any(c.failed for c in checks)


def parse_version(text: str) -> tuple[int, ...] | None:
    match = re.search(r"v?(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(g) for g in match.groups() if g is not None) if match else None


class Preflight:
    def __init__(
        self,
        settings: ProvisionSettings,
        environ: Mapping[str, str] | None = None,
        client_factory: Callable[[str], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.environ = dict(os.environ if environ is None else environ)
        self._client_factory = client_factory
        self._session = None

    # -- the list the UI walks through, one row per check ----------------------------------

    def checks(self) -> list[tuple[str, str, Callable[[], Check]]]:
        return [
            ("aws-identity", "AWS identity", self.check_identity),
            ("region", "Region", self.check_region),
            ("terraform", "terraform", self.check_terraform),
            ("kubectl", "kubectl", lambda: self.check_tool("kubectl", ["version", "--client", "-o", "json"], MIN_KUBECTL)),
            ("helm", "helm", lambda: self.check_tool("helm", ["version", "--short"], MIN_HELM)),
            ("aws-cli", "aws CLI (EKS tokens)", lambda: self.check_tool("aws", ["--version"], MIN_AWS_CLI)),
            ("hf-token", "Hugging Face token", self.check_hf_token),
            ("gpu-quota", "GPU vCPU quota", self.check_gpu_quota),
            ("cost", "Estimated cost", self.check_cost),
        ]

    def run(self) -> list[Check]:
        return [self.run_one(key, title, fn) for key, title, fn in self.checks()]

    @staticmethod
    def run_one(key: str, title: str, fn: Callable[[], Check]) -> Check:
        try:
            return fn()
        except Exception as exc:  # a check reports, never crashes the run
            return Check(key, title, "fail", secrets.redact(f"{type(exc).__name__}: {exc}"), "see the error above")

    # -- AWS ---------------------------------------------------------------------------------

    def client(self, service: str):
        if self._client_factory is not None:
            return self._client_factory(service)
        import boto3
        from botocore.config import Config as BotoConfig

        if self._session is None:
            self._session = boto3.Session(profile_name=self.settings.profile or None, region_name=self.settings.region)
        cfg = BotoConfig(connect_timeout=5, read_timeout=15, retries={"max_attempts": 2})
        return self._session.client(service, region_name=self.settings.region, config=cfg)

    def check_identity(self) -> Check:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            ident = self.client("sts").get_caller_identity()
        except (BotoCoreError, ClientError) as exc:
            return Check("aws-identity", "AWS identity", "fail", secrets.redact(str(exc)),
                         "configure credentials: `aws configure`, `aws sso login`, or set AWS_PROFILE / aws.profile")
        return Check("aws-identity", "AWS identity", "pass", f"account {ident['Account']} as {ident['Arn']}")

    def check_region(self) -> Check:
        import boto3

        region = self.settings.region
        known = boto3.Session().get_available_regions("eks")
        if region not in known:
            return Check("region", "Region", "fail", f"{region!r} is not an EKS region",
                         "set aws.region in config.toml or TRITON_CONSOLE_AWS_REGION (e.g. us-west-2)")
        zones = self.client("ec2").describe_availability_zones(
            Filters=[{"Name": "state", "Values": ["available"]}])["AvailabilityZones"]
        names = [z["ZoneName"] for z in zones if z.get("OptInStatus", "opt-in-not-required") == "opt-in-not-required"]
        if len(names) < 2:
            return Check("region", "Region", "fail", f"{region}: {len(names)} usable availability zone(s), 2 needed",
                         "pick a region with at least two availability zones")
        return Check("region", "Region", "pass", f"{region} (zones {', '.join(sorted(names)[:2])})")

    def instance_vcpus(self, types: tuple[str, ...]) -> dict[str, int]:
        found: dict[str, int] = {}
        try:
            resp = self.client("ec2").describe_instance_types(InstanceTypes=list(types))
            found = {t["InstanceType"]: int(t["VCpuInfo"]["DefaultVCpus"]) for t in resp["InstanceTypes"]}
        except Exception:
            pass
        return {t: found.get(t) or G5_VCPUS.get(t, 0) for t in types}

    def check_gpu_quota(self) -> Check:
        from botocore.exceptions import ClientError

        title = "GPU vCPU quota"
        sq = self.client("service-quotas")
        try:
            quota = sq.get_service_quota(ServiceCode="ec2", QuotaCode=GPU_QUOTA_CODE)["Quota"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchResourceException":
                return Check("gpu-quota", title, "fail", f"cannot read quota {GPU_QUOTA_CODE}: {exc}",
                             "allow servicequotas:GetServiceQuota, or check the quota in the Service Quotas console")
            quota = sq.get_aws_default_service_quota(ServiceCode="ec2", QuotaCode=GPU_QUOTA_CODE)["Quota"]
        value = int(float(quota["Value"]))
        vcpus = self.instance_vcpus(self.settings.gpu_instance_types)
        need = max(vcpus.values())
        biggest = max(vcpus, key=vcpus.get)
        limit = self.settings.gpu_pool_vcpu_limit
        request = (f"aws service-quotas request-service-quota-increase --service-code ec2 --quota-code {GPU_QUOTA_CODE} "
                   f"--desired-value {max(need, limit)} --region {self.settings.region}")
        if value < need:
            return Check("gpu-quota", title, "fail",
                         f"on-demand G/VT quota is {value} vCPUs; one {biggest} needs {need}", request)
        if value < limit:
            return Check("gpu-quota", title, "warn",
                         f"{value} vCPUs: enough for one {biggest} ({need}), not for the pool limit of {limit}", request)
        return Check("gpu-quota", title, "pass", f"{value} vCPUs (pool needs {need}, may grow to {limit})")

    # -- local tools --------------------------------------------------------------------------

    def check_terraform(self) -> Check:
        runner = tf.Terraform(self.settings.terraform_dir, binary=tf.find_binary(self.environ))
        try:
            version = runner.version()
        except tf.TerraformNotFound:
            return Check("terraform", "terraform", "fail", "not found",
                         "install terraform >= 1.5 (https://developer.hashicorp.com/terraform/install) or set TERRAFORM_BIN")
        parsed = parse_version(version) or (0,)
        if parsed < MIN_TERRAFORM:
            return Check("terraform", "terraform", "fail", f"{version} is too old", "install terraform >= 1.5")
        if not (self.settings.terraform_dir / "versions.tf").is_file():
            return Check("terraform", "terraform", "fail", f"{version}, but no blueprint in {self.settings.terraform_dir}",
                         "set provision.terraform_dir to this repository's terraform/ directory")
        return Check("terraform", "terraform", "pass", f"{version} ({runner.binary})")

    def check_tool(self, name: str, args: list[str], minimum: tuple[int, int]) -> Check:
        title = "aws CLI (EKS tokens)" if name == "aws" else name
        binary = shutil.which(name, path=self.environ.get("PATH"))
        if not binary:
            return Check(name if name != "aws" else "aws-cli", title, "fail", "not found on PATH", INSTALL_HINTS[name])
        try:
            done = subprocess.run([binary, *args], capture_output=True, text=True, timeout=30, env=self.environ)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Check(name if name != "aws" else "aws-cli", title, "fail", f"{binary} did not run: {exc}", INSTALL_HINTS[name])
        text = (done.stdout or done.stderr).strip()
        if name == "kubectl":
            try:
                text = json.loads(done.stdout)["clientVersion"]["gitVersion"]
            except (ValueError, KeyError):
                pass
        version = parse_version(text)
        key = name if name != "aws" else "aws-cli"
        if done.returncode != 0 or version is None:
            return Check(key, title, "fail", f"{binary} failed: {text[:200]}", INSTALL_HINTS[name])
        shown = ".".join(map(str, version))
        if version[:2] < minimum:
            return Check(key, title, "fail", f"{shown} is older than {'.'.join(map(str, minimum))}", INSTALL_HINTS[name])
        return Check(key, title, "pass", f"{shown} ({binary})")

    # -- secrets and money ------------------------------------------------------------------

    def check_hf_token(self) -> Check:
        title = "Hugging Face token"
        if secrets.hf_token(self.environ):
            var = next(v for v in secrets.HF_TOKEN_VARS if self.environ.get(v, "").strip())
            return Check("hf-token", title, "pass", f"set in ${var}")
        fix = "export HF_TOKEN=hf_... (a token with access to Llama-2-7b-chat-hf and Mistral-7B-Instruct-v0.2)"
        present = [v for v in secrets.HF_TOKEN_VARS if self.environ.get(v, "").strip()]
        if present:
            return Check("hf-token", title, "fail", f"${present[0]} is a placeholder, not a token", fix)
        return Check("hf-token", title, "fail", "not set", fix)

    def check_cost(self) -> Check:
        est = estimate(self.settings)
        parts = ", ".join(f"{line.item} ×{line.count}" if line.count > 1 else line.item for line in est.lines[:2])
        return Check("cost", "Estimated cost", "info", f"{est.describe()}: {parts}, control plane, NAT, EBS", est.note)


INSTALL_HINTS = {
    "kubectl": "install kubectl >= 1.28 (https://kubernetes.io/docs/tasks/tools/)",
    "helm": "install helm >= 3.8 (https://helm.sh/docs/intro/install/)",
    "aws": "install the AWS CLI (v2: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html); "
    "terraform and kubectl use `aws eks get-token`",
}
