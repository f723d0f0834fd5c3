"""The staged provisioning run end to end against the stand-in terraform (and moto for EKS)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import boto3
import pytest
import yaml

from console.core import paths
from console.core import terraform as tf
from console.core.provision import apply
from console.core.provision.settings import ProvisionSettings

REPO = Path(__file__).resolve().parents[1]
TOKEN = "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42"


def make_settings(tmp_path: Path) -> ProvisionSettings:
    tf_dir = tmp_path / "terraform"
    shutil.copytree(REPO / "terraform", tf_dir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    return ProvisionSettings(name="nvidia-triton-server", region="us-west-2", cluster_version="1.35",
                             gpu_instance_types=("g5.12xlarge",), gpu_pool_vcpu_limit=96,
                             models=("llama2", "mistral7b"), terraform_dir=tf_dir)


def drive(provisioner: apply.Provisioner, **kw) -> list:
    async def go():
        return [item async for item in provisioner.run(**kw)]

    return asyncio.run(go())


def create_moto_cluster():
    iam = boto3.client("iam", region_name="us-west-2")
    role = iam.create_role(RoleName="eks", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("eks", region_name="us-west-2").create_cluster(
        name="nvidia-triton-server", roleArn=role, resourcesVpcConfig={"subnetIds": []})


def test_staged_apply_succeeds_and_sets_up_kubeconfig(tmp_path, terraform_standin, aws_server):
    log = terraform_standin("provision_ok")
    create_moto_cluster()  # what the eks stage creates, for the kubeconfig step
    settings = make_settings(tmp_path)
    kubeconfig = tmp_path / "kubeconfig"
    items = drive(apply.Provisioner(settings, TOKEN), kubeconfig_path=kubeconfig)

    started = [i.stage.key for i in items if isinstance(i, apply.StageStarted)]
    assert started == ["init", "vpc", "eks", "rest"]
    finished = {i.stage.key: i for i in items if isinstance(i, apply.StageFinished)}
    assert all(f.ok for f in finished.values())
    assert finished["vpc"].progress.done == 10 and finished["eks"].progress.done == 5
    assert finished["rest"].progress.done == 13
    end = items[-1]
    assert isinstance(end, apply.RunFinished) and end.ok and end.failed_stage is None
    assert end.outputs["grafana_secret_name"].startswith("nvidia-triton-server-grafana")
    assert "context arn:aws:eks:us-west-2:" in end.kubeconfig
    cfg = yaml.safe_load(kubeconfig.read_text())
    user = cfg["users"][0]["user"]["exec"]
    assert user["command"] == "aws" and "get-token" in user["args"] and "us-west-2" in user["args"]
    assert cfg["current-context"] == cfg["contexts"][0]["name"]

    argv = [json.loads(line)["argv"] for line in log.read_text().splitlines()]
    applies = [a for a in argv if a[0] == "apply"]
    assert [a[-1] for a in applies[:2]] == ["-target=module.vpc", "-target=module.eks"]
    assert not any(a.startswith("-target") for a in applies[2])
    assert all(TOKEN not in " ".join(a) for a in argv)  # the token travels as TF_VAR_, never argv
    text = end.log_path.read_text()
    assert end.log_path.parent == paths.data_dir() / "logs"
    assert "module.eks.aws_eks_cluster.this[0]: Creation complete" in text and TOKEN not in text
    assert apply.resume_stage(settings) is None


def test_failure_mid_apply_then_retry_from_failed_stage(tmp_path, terraform_standin):
    log = terraform_standin("provision_fail_eks_once")
    settings = make_settings(tmp_path)
    items = drive(apply.Provisioner(settings, TOKEN), setup_kubeconfig=False)
    end = items[-1]
    assert not end.ok and end.failed_stage == "eks"
    failed = [i for i in items if isinstance(i, apply.StageFinished) and not i.ok][0]
    assert "UnsupportedAvailabilityZoneException" in failed.errors[0].summary
    assert "sufficient capacity" in failed.errors[0].detail
    assert not any(isinstance(i, apply.StageStarted) and i.stage.key == "rest" for i in items)
    assert apply.resume_stage(settings) == "eks"
    assert "UnsupportedAvailabilityZoneException" in end.log_path.read_text()

    before = len(log.read_text().splitlines())
    retry = drive(apply.Provisioner(settings, TOKEN), start=apply.resume_stage(settings), setup_kubeconfig=False)
    assert retry[-1].ok
    assert [i.stage.key for i in retry if isinstance(i, apply.StageStarted)] == ["init", "eks", "rest"]
    eks = [i for i in retry if isinstance(i, apply.StageFinished) and i.stage.key == "eks"][0]
    # the IAM role was created before the failure and stays in state: the retry does the rest only
    assert "module.eks.aws_iam_role.this[0]" not in eks.progress.resources
    assert eks.progress.done == 4
    new_calls = [json.loads(l)["argv"] for l in log.read_text().splitlines()[before:]]
    assert not any("-target=module.vpc" in a for a in new_calls)
    assert apply.resume_stage(settings) is None


def test_dry_run_plans_only(tmp_path, terraform_standin):
    log = terraform_standin("provision_ok")
    settings = make_settings(tmp_path)
    items = drive(apply.Provisioner(settings, TOKEN), dry_run=True)
    assert items[-1].ok and items[-1].dry_run
    plan = [i for i in items if isinstance(i, apply.StageFinished) and i.stage.key == "plan"][0]
    assert plan.progress.summary.add == 28 and plan.progress.done == 0
    commands = [json.loads(l)["argv"][0] for l in log.read_text().splitlines()]
    assert "apply" not in commands and "plan" in commands
    assert not json.loads((settings.terraform_dir / "terraform.tfstate").read_text())["resources"] \
        if (settings.terraform_dir / "terraform.tfstate").exists() else True


def test_cancel_stops_gracefully_and_is_resumable(tmp_path, terraform_standin):
    terraform_standin("provision_slow")
    settings = make_settings(tmp_path)
    provisioner = apply.Provisioner(settings, TOKEN)

    async def go():
        items = []
        async for item in provisioner.run(setup_kubeconfig=False):
            items.append(item)
            if isinstance(item, apply.StageEvent) and isinstance(item.event, tf.ApplyComplete) and item.stage.key == "vpc":
                provisioner.cancel()
        return items

    items = asyncio.run(go())
    assert not items[-1].ok and items[-1].failed_stage == "vpc" and "stopped" in items[-1].message
    assert apply.resume_stage(settings) == "vpc"
    assert not (settings.terraform_dir / ".standin-double-interrupt").exists()


def test_unknown_stage_is_rejected(tmp_path, terraform_standin):
    terraform_standin("provision_ok")
    with pytest.raises(ValueError, match="unknown stage"):
        drive(apply.Provisioner(make_settings(tmp_path), TOKEN), start="nope")


def test_missing_terraform_is_a_failed_init(tmp_path, monkeypatch):
    monkeypatch.setenv("TERRAFORM_BIN", str(tmp_path / "missing"))
    items = drive(apply.Provisioner(make_settings(tmp_path), TOKEN))
    assert not items[-1].ok and items[-1].failed_stage == "init"
    assert "terraform not found" in items[-1].log_path.read_text()
