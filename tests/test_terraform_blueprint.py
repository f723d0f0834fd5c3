"""The terraform blueprint, parsed with python-hcl2 (terraform itself is not obtainable here),
and install.sh / cleanup.sh run for real against the stand-in terraform, the AWS CLI and moto."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import boto3
import hcl2
import pytest

from console.core.config import Config
from console.core.provision.settings import ProvisionSettings

REPO = Path(__file__).resolve().parents[1]
TF = REPO / "terraform"
STANDIN = REPO / "tests" / "standins" / "terraform"


def unq(value):
    return value.strip('"') if isinstance(value, str) else value


def parsed() -> dict[str, dict]:
    return {p.name: hcl2.load(p.open()) for p in sorted(TF.glob("*.tf"))}


def blocks(kind: str) -> dict[str, dict]:
    """name -> body for top-level blocks of one kind (variable, output, module...)."""
    found = {}
    for doc in parsed().values():
        for item in doc.get(kind, []):
            for name, body in item.items():
                found[unq(name)] = body
    return found


def resources(kind: str = "resource") -> dict[tuple[str, str], dict]:
    found = {}
    for doc in parsed().values():
        for item in doc.get(kind, []):
            for rtype, named in item.items():
                for name, body in named.items():
                    found[(unq(rtype), unq(name))] = body
    return found


def test_every_variable_is_declared_and_used():
    declared = set(blocks("variable"))
    code = "\n".join(p.read_text() for p in TF.glob("*.tf") if p.name != "variables.tf")
    used = set(re.findall(r"\bvar\.([a-z_][a-z0-9_]*)", code))
    assert declared - used == set(), "declared but never used"
    assert used - declared == set(), "used but not declared"
    for required in ("region", "name", "cluster_version", "huggingface_token", "gpu_instance_types", "models"):
        assert required in declared


def test_the_console_only_sets_declared_variables():
    names = {k.removeprefix("TF_VAR_") for k in ProvisionSettings.from_config(Config()).tf_vars()}
    assert names <= set(blocks("variable"))


def test_token_is_sensitive_and_never_output():
    token = blocks("variable")["huggingface_token"]
    assert token["sensitive"] is True and "default" not in token
    outputs = json.dumps(blocks("output"))
    assert "huggingface_token" not in outputs and "random_password" not in outputs


def test_outputs_present():
    outputs = blocks("output")
    for name in ("configure_kubectl", "model_repository_bucket", "grafana_secret_name", "cluster_name", "region"):
        assert name in outputs
    assert "var.region" in outputs["configure_kubectl"]["value"]
    assert "aws_secretsmanager_secret.grafana.name" in outputs["grafana_secret_name"]["value"]


def test_providers_and_modules_pinned():
    terraform = parsed()["versions.tf"]["terraform"][0]
    assert unq(terraform["required_version"]).startswith(">=")
    providers = terraform["required_providers"][0]
    providers = {k: v for k, v in providers.items() if k != "__is_block__"}
    for name, spec in providers.items():
        assert re.match(r"^(~> |= )?\d+\.\d+", unq(spec["version"])), f"{name} not pinned: {spec}"
    used_prefixes = {rtype.split("_")[0] for rtype, _ in resources()} | {rtype.split("_")[0] for rtype, _ in resources("data")}
    assert used_prefixes <= set(providers), "a provider is used without a pin"
    for name, body in blocks("module").items():
        assert unq(body.get("version", "")).startswith("~>"), f"module {name} not pinned"
    for (rtype, name), body in resources().items():
        if rtype == "helm_release" and not unq(body["chart"]).startswith("${path.module}"):
            assert unq(body.get("version", "")), f"helm_release.{name} not pinned"


def test_irsa_policy_reads_only_the_model_bucket():
    doc = resources("data")[("aws_iam_policy_document", "triton_s3")]
    statements = doc["statement"]
    actions = {unq(a) for s in statements for a in s["actions"]}
    assert actions <= {"s3:ListBucket", "s3:GetBucketLocation", "s3:GetObject"}
    for statement in statements:
        for resource in statement["resources"]:
            text = unq(resource)
            assert text in ("${aws_s3_bucket.model_repository.arn}", "${aws_s3_bucket.model_repository.arn}/*"), text
    assume = resources("data")[("aws_iam_policy_document", "triton_assume")]
    conditions = {unq(c["variable"]): [unq(v) for v in c["values"]] for c in assume["statement"][0]["condition"]}
    assert conditions["${module.eks.oidc_provider}:sub"] == ["system:serviceaccount:${local.namespace}:triton-vllm"]


def test_cluster_vpc_and_node_pools():
    eks = blocks("module")["eks"]
    assert unq(eks["upgrade_policy"]["support_type"]) == "STANDARD"
    core = eks["eks_managed_node_groups"]["core"]
    assert core["instance_types"] == ["${var.core_instance_type}"]
    variables = blocks("variable")
    assert unq(variables["core_instance_type"]["default"]) == "m5.xlarge" and variables["core_node_count"]["default"] == 2
    assert re.fullmatch(r"1\.\d+", unq(variables["cluster_version"]["default"]))
    vpc = blocks("module")["vpc"]
    assert vpc["secondary_cidr_blocks"] == ["${var.secondary_cidr}"]
    assert "slice(data.aws_availability_zones.available.names, 0, 2)" in (TF / "main.tf").read_text()
    karpenter = (TF / "karpenter.tf").read_text()
    assert 'values = ["g5"]' in karpenter and 'key = "nvidia.com/gpu"' in karpenter and 'effect = "NoSchedule"' in karpenter
    assert re.search(r"^\s+gpu = \{", karpenter, re.M) and re.search(r"^\s+cpu = \{", karpenter, re.M)


def test_addons_and_triton_release_wiring():
    res = resources()
    for key in [("helm_release", n) for n in ("karpenter", "nvidia_device_plugin", "kube_prometheus_stack",
                                              "prometheus_adapter", "triton")] + [
        ("kubernetes_storage_class_v1", "gp3"), ("aws_secretsmanager_secret", "grafana"),
        ("kubernetes_secret_v1", "huggingface_token"), ("aws_s3_object", "model_repository"),
    ]:
        assert key in res, key
    gp3 = res[("kubernetes_storage_class_v1", "gp3")]
    annotations = {unq(k): unq(v) for k, v in gp3["metadata"][0]["annotations"].items()}
    assert annotations["storageclass.kubernetes.io/is-default-class"] == "true"
    assert unq(gp3["parameters"]["type"]) == "gp3" and unq(gp3["reclaim_policy"]) == "Delete"
    assert unq(res[("helm_release", "triton")]["chart"]) == "${path.module}/../helm/triton-vllm"
    assert (REPO / "helm" / "triton-vllm" / "Chart.yaml").is_file()
    assert (REPO / "helm" / "prometheus-adapter" / "values.yaml").is_file()
    text = (TF / "addons.tf").read_text()
    assert 'name  = "grafana.adminPassword"' in text and "set_sensitive" in text


# ---------------------------------------------------------------- install.sh / cleanup.sh

@pytest.fixture
def script_env(tmp_path, aws_server, terraform_standin):
    if not shutil.which("aws"):
        pytest.skip("aws CLI not installed")
    terraform_standin("provision_ok")
    workdir = tmp_path / "blueprint" / "terraform"
    shutil.copytree(TF, workdir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "terraform").symlink_to(STANDIN)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "KUBECONFIG": str(tmp_path / "kubeconfig")}
    env.pop("AWS_DEFAULT_REGION", None)
    env.pop("AWS_REGION", None)
    return workdir, env


def run_script(workdir: Path, name: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(workdir / name)], env=env, capture_output=True, text=True, timeout=240)


def invocations(env) -> list[list[str]]:
    return [json.loads(l)["argv"] for l in Path(env["TERRAFORM_STANDIN_LOG"]).read_text().splitlines()]


pytestmark_scripts = pytest.mark.slow


@pytestmark_scripts
def test_install_refuses_missing_region_and_placeholder_token(script_env):
    workdir, env = script_env
    done = run_script(workdir, "install.sh", {**env, "TF_VAR_huggingface_token": "hf_" + "c" * 30})
    assert done.returncode == 1 and "set AWS_REGION" in done.stderr
    done = run_script(workdir, "install.sh", {**env, "AWS_REGION": "us-west-2", "TF_VAR_huggingface_token": "hf_xxx"})
    assert done.returncode == 1 and "placeholder" in done.stderr
    assert not Path(env["TERRAFORM_STANDIN_LOG"]).exists()  # nothing ran


@pytestmark_scripts
def test_install_then_cleanup_round_trip(script_env):
    workdir, env = script_env
    token = "hf_" + "d" * 30
    done = run_script(workdir, "install.sh", {**env, "AWS_DEFAULT_REGION": "eu-west-1", "TF_VAR_huggingface_token": token})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Deploying to region eu-west-1" in done.stdout
    applies = [a for a in invocations(env) if a[0] == "apply"]
    assert [a[1:] for a in applies] == [["-target=module.vpc", "-auto-approve", "-input=false"],
                                        ["-target=module.eks", "-auto-approve", "-input=false"],
                                        ["-auto-approve", "-input=false"]]
    assert "update-kubeconfig --name nvidia-triton-server" in done.stdout
    assert token not in done.stdout + done.stderr

    done = run_script(workdir, "cleanup.sh", {**env, "AWS_REGION": "us-west-2"})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Tearing down cluster nvidia-triton-server in us-west-2" in done.stdout
    assert "Cleanup complete" in done.stdout
    destroys = [a for a in invocations(env) if a[0] == "destroy"]
    assert [d[1] for d in destroys[:3]] == ["-target=helm_release.triton", "-target=module.eks", "-target=module.vpc"]
    assert json.loads((workdir / "terraform.tfstate").read_text())["resources"] == []


@pytestmark_scripts
def test_cleanup_with_nothing_deployed_says_so(script_env):
    workdir, env = script_env
    done = run_script(workdir, "cleanup.sh", {**env, "AWS_REGION": "us-west-2"})
    assert done.returncode == 0 and "No outputs found" in done.stdout
    assert not [a for a in invocations(env) if a[0] == "destroy"]


@pytestmark_scripts
def test_cleanup_reports_leftover_pvc_volume(script_env):
    workdir, env = script_env
    assert run_script(workdir, "install.sh", {**env, "AWS_REGION": "us-west-2",
                                              "TF_VAR_huggingface_token": "hf_" + "e" * 30}).returncode == 0
    ec2 = boto3.client("ec2", region_name="us-west-2")
    vol = ec2.create_volume(AvailabilityZone="us-west-2a", Size=100, VolumeType="gp3", TagSpecifications=[
        {"ResourceType": "volume", "Tags": [{"Key": "kubernetes.io/cluster/nvidia-triton-server", "Value": "owned"}]}])
    done = run_script(workdir, "cleanup.sh", {**env, "AWS_REGION": "us-west-2"})
    assert done.returncode == 1
    assert vol["VolumeId"] in done.stdout and "still bill" in done.stdout


@pytestmark_scripts
def test_cleanup_deletes_detached_cni_interfaces_and_reports_others(script_env, tmp_path, terraform_standin):
    workdir, env = script_env
    ec2 = boto3.client("ec2", region_name="us-west-2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/21")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.0.0/24")["Subnet"]["SubnetId"]
    cni = ec2.create_network_interface(SubnetId=subnet, Description="aws-K8S-i-0123456789abcdef0")["NetworkInterface"]
    manual = ec2.create_network_interface(SubnetId=subnet, Description="someone's test box")["NetworkInterface"]
    scenario = json.loads((STANDIN.parent / "scenarios" / "provision_ok.json").read_text())
    for resource in scenario["resources"]:
        if resource["addr"] == "module.vpc.aws_vpc.this[0]":
            resource["id"] = vpc
    path = tmp_path / "with-moto-vpc.json"
    path.write_text(json.dumps(scenario))
    terraform_standin(path)
    assert run_script(workdir, "install.sh", {**env, "AWS_REGION": "us-west-2", "TF_VAR_huggingface_token": "hf_" + "f" * 30,
                                              "TERRAFORM_STANDIN_SCENARIO": str(path)}).returncode == 0
    done = run_script(workdir, "cleanup.sh", {**env, "AWS_REGION": "us-west-2", "TERRAFORM_STANDIN_SCENARIO": str(path)})
    assert f"deleting detached CNI network interface {cni['NetworkInterfaceId']}" in done.stdout
    left = [n["NetworkInterfaceId"] for n in ec2.describe_network_interfaces(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkInterfaces"]]
    assert left == [manual["NetworkInterfaceId"]]
    assert done.returncode == 1 and manual["NetworkInterfaceId"] in done.stdout and "still bill" in done.stdout
