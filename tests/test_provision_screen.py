"""The Provision place in a running app: real preflight (moto, local tools), the staged apply
against the stand-in terraform, failure and retry from the failed stage; plus a snapshot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from textual.app import App
from textual.widgets import RichLog, Static

from console.core.config import Config
from console.core.provision import apply
from console.core.provision.preflight import GPU_QUOTA_CODE, Check, Preflight
from console.tui.app import TritonConsoleApp
from console.tui.screens.provision import ProvisionScreen
from console.tui.screens.provision_widgets import PreflightTable, StageTable
from console.tui.widgets.confirm import ConfirmScreen
from tests.helm_tools import find_helm
from tests.test_app_shell import wait_for as shell_wait_for

REPO = Path(__file__).resolve().parents[1]
TOKEN = "hf_ScreenTestTokenNotReal123456789"


async def wait_for(pilot, predicate, timeout=60.0):
    """The app shell's helper with a longer default: terraform stages take a while on 2 cores."""
    return await shell_wait_for(pilot, predicate, timeout=timeout)


def config(tmp_path: Path) -> Config:
    tf_dir = tmp_path / "terraform"
    shutil.copytree(REPO / "terraform", tf_dir, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
    cfg = Config()
    cfg.provision.terraform_dir = str(tf_dir)
    cfg.kube.kubeconfig = str(tmp_path / "kubeconfig")
    return cfg


class PreflightOfThisMachine(Preflight):
    """The real checks, minus those for tools this machine lacks (CI may have no AWS CLI):
    the apply flow is under test here; the tool checks are tested in test_provision_preflight."""

    def checks(self):
        tool_of = {"kubectl": "kubectl", "helm": "helm", "aws-cli": "aws"}
        return [c for c in super().checks() if c[0] not in tool_of or shutil.which(tool_of[c[0]])]


def quota_preflight(value: float, cls=Preflight):
    """Preflight with real moto clients, Service Quotas answered by a Stubber."""

    def make(settings):
        sq = boto3.client("service-quotas", region_name="us-west-2")
        stub = Stubber(sq)
        stub.add_response("get_service_quota", {"Quota": {"Value": value, "QuotaCode": GPU_QUOTA_CODE}},
                          {"ServiceCode": "ec2", "QuotaCode": GPU_QUOTA_CODE})
        stub.activate()
        return cls(settings, client_factory=lambda s: sq if s == "service-quotas" else boto3.client(s, region_name="us-west-2"))

    return make


def cell(table, row, col) -> str:
    return str(table.get_cell(row, col))


@pytest.fixture
def helm_on_path(monkeypatch):
    helm = find_helm()
    if helm:
        monkeypatch.setenv("PATH", f"{Path(helm).parent}{os.pathsep}{os.environ['PATH']}")


async def test_preflight_rows_turn_red_and_green_and_block_apply(tmp_path, aws_server, terraform_standin, monkeypatch):
    terraform_standin("provision_ok")
    monkeypatch.setenv("HF_TOKEN", "hf_xxx")
    monkeypatch.setattr(ProvisionScreen, "preflight_factory", staticmethod(quota_preflight(8)))
    app = TritonConsoleApp(config(tmp_path), start_place="provision")
    async with app.run_test(size=(150, 45)) as pilot:
        screen = app.screen
        assert isinstance(screen, ProvisionScreen)
        assert await wait_for(pilot, lambda: screen.preflight_done)
        table = screen.query_one(PreflightTable)
        assert "account 123456789012" in cell(table, "aws-identity", "result")
        assert "✔" in cell(table, "aws-identity", "mark")
        assert "✘" in cell(table, "hf-token", "mark") and "placeholder" in cell(table, "hf-token", "result")
        assert "✘" in cell(table, "gpu-quota", "mark") and "quota is 8 vCPUs" in cell(table, "gpu-quota", "result")
        fixes = str(screen.query_one("#preflight-fixes", Static).render())
        assert "export HF_TOKEN" in fixes and "request-service-quota-increase" in fixes
        assert "Preflight failed" in str(screen.query_one("#provision-hint", Static).render())
        await pilot.press("a")
        await pilot.pause(0.2)
        assert not isinstance(app.screen, ConfirmScreen)  # refused: nothing to confirm
        assert screen.provisioner is None


async def test_apply_fails_shows_error_then_retry_from_failed_stage(tmp_path, aws_server, terraform_standin,
                                                                     monkeypatch, helm_on_path):
    terraform_standin("provision_fail_eks_once")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setattr(ProvisionScreen, "preflight_factory", staticmethod(quota_preflight(192, PreflightOfThisMachine)))
    iam = boto3.client("iam", region_name="us-west-2")
    role = iam.create_role(RoleName="eks", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    boto3.client("eks", region_name="us-west-2").create_cluster(
        name="nvidia-triton-server", roleArn=role, resourcesVpcConfig={"subnetIds": []})
    cfg = config(tmp_path)
    app = TritonConsoleApp(cfg, start_place="provision")
    async with app.run_test(size=(150, 45)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.preflight_done)
        assert not [c for c in screen.checks.values() if c.failed], screen.checks
        await pilot.press("a")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        body = str(app.screen.query_one(".dialog-body", Static).render())
        assert "GPU node g5.12xlarge" in body and "Billing starts" in body
        await pilot.press("y")
        assert await wait_for(pilot, lambda: screen.last is not None)
        stages = screen.query_one(StageTable)
        assert "done" in cell(stages, "vpc", "status") and cell(stages, "vpc", "resources") == "10/10"
        assert "failed" in cell(stages, "eks", "status") and "waiting" in cell(stages, "rest", "status")
        hint = str(screen.query_one("#provision-hint", Static).render())
        assert "UnsupportedAvailabilityZoneException" in hint and "r retries from stage eks" in hint
        log_text = "\n".join(str(line.text) for line in screen.query_one(RichLog).lines)
        assert "Creation errored" in log_text and TOKEN not in log_text

        await pilot.press("r")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "(from stage eks)" in str(app.screen.query_one(".dialog-title", Static).render())
        await pilot.press("y")
        assert await wait_for(pilot, lambda: screen.last is not None and screen.last.ok, timeout=90)
        assert "skipped" in cell(stages, "vpc", "status")
        assert "done" in cell(stages, "rest", "status") and cell(stages, "rest", "resources") == "13/13"
        assert apply.resume_stage(screen.settings) is None
        assert (tmp_path / "kubeconfig").is_file()
        assert await wait_for(pilot, lambda: app.current_mode == "cluster", timeout=10)  # the Cluster view follows


async def test_dry_run_needs_no_confirmation(tmp_path, aws_server, terraform_standin, monkeypatch):
    log = terraform_standin("provision_ok")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    monkeypatch.setattr(ProvisionScreen, "preflight_factory", staticmethod(quota_preflight(192)))
    app = TritonConsoleApp(config(tmp_path), start_place="provision")
    async with app.run_test(size=(150, 45)) as pilot:
        screen = app.screen
        await pilot.press("d")
        assert await wait_for(pilot, lambda: screen.last is not None)
        assert screen.last.ok and screen.last.dry_run
        assert "28/28" not in cell(screen.query_one(StageTable), "plan", "resources")
        assert "nothing was changed" in str(screen.query_one("#provision-hint", Static).render())
    assert "apply" not in log.read_text()


CANNED = [
    Check("aws-identity", "AWS identity", "pass", "account 123456789012 as arn:aws:iam::123456789012:user/ops"),
    Check("region", "Region", "pass", "us-west-2 (zones us-west-2a, us-west-2b)"),
    Check("terraform", "terraform", "pass", "1.9.8 (/usr/local/bin/terraform)"),
    Check("kubectl", "kubectl", "pass", "1.33.1 (/usr/local/bin/kubectl)"),
    Check("helm", "helm", "pass", "4.1.4 (/usr/local/bin/helm)"),
    Check("aws-cli", "aws CLI (EKS tokens)", "pass", "2.22.0 (/usr/local/bin/aws)"),
    Check("hf-token", "Hugging Face token", "fail", "not set", "export HF_TOKEN=hf_..."),
    Check("gpu-quota", "GPU vCPU quota", "warn", "64 vCPUs: enough for one g5.12xlarge (48), not for the pool limit of 96",
          "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-DB2E81BA --desired-value 96"),
    Check("cost", "Estimated cost", "info", "$6.23/h (~$150/day): GPU node g5.12xlarge, core node m5.xlarge ×2"),
]


class ProvisionHost(App):
    def __init__(self) -> None:
        super().__init__()
        self.config = Config()

    def on_mount(self) -> None:
        self.push_screen(ProvisionScreen(auto_preflight=False))
        self.set_timer(0.05, self.fill)

    def fill(self) -> None:
        for check in CANNED:
            self.screen.show_check(check)
        self.screen.preflight_finished()


def test_provision_screen_snapshot(snap_compare):
    async def settle(pilot):
        await pilot.pause(0.3)

    assert snap_compare(ProvisionHost(), terminal_size=(140, 40), run_before=settle)
