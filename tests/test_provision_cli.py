"""`triton-console provision` as a subprocess: stand-in terraform, moto AWS, real local tools."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import yaml

REPO = Path(__file__).resolve().parents[1]
TOKEN = "hf_CliTestTokenThatIsNotReal1234567"


def cli_env(tmp_path: Path, **extra) -> dict:
    tf_dir = tmp_path / "terraform"
    if not tf_dir.exists():
        shutil.copytree(REPO / "terraform", tf_dir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    env = {**os.environ, "TRITON_CONSOLE_PROVISION_TERRAFORM_DIR": str(tf_dir),
           "TRITON_CONSOLE_KUBE_KUBECONFIG": str(tmp_path / "kubeconfig"), "HF_TOKEN": TOKEN}
    env.update(extra)
    return env


def provision(env: dict, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console", "provision", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=240, input=stdin)


def test_refuses_without_yes_when_not_interactive(tmp_path, aws_server, terraform_standin):
    log = terraform_standin("provision_ok")
    done = provision(cli_env(tmp_path), "--skip-preflight", stdin="")
    assert done.returncode == 2 and "--yes" in done.stderr
    assert "GPU node g5.12xlarge" in done.stdout and "total" in done.stdout  # it showed what it would create
    assert not log.exists() or not any(json.loads(l)["argv"][0] == "apply" for l in log.read_text().splitlines())


def test_preflight_failure_stops_before_terraform(tmp_path, aws_server, terraform_standin):
    log = terraform_standin("provision_ok")
    done = provision(cli_env(tmp_path, HF_TOKEN="hf_xxx"), "--yes")
    assert done.returncode == 1
    assert "✘ Hugging Face token" in done.stdout and "placeholder" in done.stdout and "fix: export HF_TOKEN" in done.stdout
    assert "✔ AWS identity" in done.stdout and "123456789012" in done.stdout
    assert not log.exists() or not any(json.loads(l)["argv"][0] in ("apply", "init") for l in log.read_text().splitlines())


def test_apply_fails_then_resumes_and_finishes(tmp_path, aws_server, terraform_standin):
    iam = boto3.client("iam", region_name="us-west-2")
    role = iam.create_role(RoleName="eks", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("eks", region_name="us-west-2").create_cluster(
        name="nvidia-triton-server", roleArn=role, resourcesVpcConfig={"subnetIds": []})
    terraform_standin("provision_fail_eks_once")
    env = cli_env(tmp_path)
    first = provision(env, "--yes", "--skip-preflight")
    assert first.returncode == 1
    assert "UnsupportedAvailabilityZoneException" in first.stderr
    assert "resumes from stage 'eks'" in first.stderr
    assert "== vpc done (vpc 10/10 (100%)" in first.stdout
    second = provision(env, "--yes", "--skip-preflight")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "Resuming from stage 'eks'" in second.stdout
    assert "== Network" not in second.stdout
    assert "grafana_secret_name = nvidia-triton-server-grafana" in second.stdout
    assert "context arn:aws:eks:us-west-2" in second.stdout
    assert yaml.safe_load((tmp_path / "kubeconfig").read_text())["current-context"].endswith("cluster/nvidia-triton-server")
    for out in (first, second):
        assert TOKEN not in out.stdout + out.stderr
    log_file = Path(second.stdout.split("Log: ")[1].splitlines()[0])
    assert log_file.is_file() and TOKEN not in log_file.read_text()


def test_dry_run_plans_without_confirmation(tmp_path, aws_server, terraform_standin):
    log = terraform_standin("provision_ok")
    done = provision(cli_env(tmp_path), "--dry-run", "--skip-preflight")
    assert done.returncode == 0, done.stderr
    assert "Plan: 28 to add, 0 to change, 0 to destroy." in done.stdout and "nothing was changed" in done.stdout
    assert "apply" not in [json.loads(l)["argv"][0] for l in log.read_text().splitlines()]
