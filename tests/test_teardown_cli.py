"""`triton-console teardown` end to end: moto account, kmock cluster via a kubeconfig."""

from __future__ import annotations

import io
import json

import pytest

from console import cli
from tests.aws_leftovers import REGION, existing, plant

CLUSTER = "triton-a"
EKS_CONTEXT = f"arn:aws:eks:{REGION}:123456789012:cluster/{CLUSTER}"  # as `aws eks update-kubeconfig` names it


@pytest.fixture
def args(tmp_path, kube_cluster, monkeypatch):
    monkeypatch.setenv("TRITON_CONSOLE_KUBE_KUBECONFIG", kube_cluster.kubeconfig(tmp_path / "kubeconfig", context=EKS_CONTEXT))
    return ["teardown", "--cluster", CLUSTER, "--region", REGION, "--terraform-dir", str(tmp_path / "none")]


def _json_out(text: str) -> dict:
    """stdout's JSON document (the in-process moto server prints a line when asked for the Pricing API)."""
    lines = text.splitlines()
    return json.loads("\n".join(lines[lines.index("{"):]))


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_dry_run_json_shows_the_plan_and_changes_nothing(aws_server, args, capsys):
    planted = plant(CLUSTER)
    assert cli.main([*args, "--dry-run", "--json"]) == 0
    plan = _json_out(capsys.readouterr().out)
    assert plan["cluster"] == CLUSTER and plan["hourly"] == pytest.approx(8.5517, abs=1e-3)
    assert [s["id"] for s in plan["steps"]] == ["load-balancers", "volumes", "nodepools", "terraform", "sweep"]
    assert {r["id"] for r in plan["aws"]} >= set(planted.ours["ec2-instance"])
    for kind, ids in planted.ours.items():
        assert set(ids) <= existing(kind)


def test_wrong_name_changes_nothing(aws_server, args, capsys, monkeypatch):
    planted = plant(CLUSTER)
    monkeypatch.setattr("sys.stdin", _Terminal("triton\n"))
    assert cli.main(args) == 1
    assert "Not confirmed. Nothing was changed." in capsys.readouterr().err
    for kind, ids in planted.ours.items():
        assert set(ids) <= existing(kind)


def test_no_terminal_and_no_yes_refuses(aws_server, args, capsys, monkeypatch):
    plant(CLUSTER)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{CLUSTER}\n"))
    assert cli.main(args) == 2
    assert "Pass --yes" in capsys.readouterr().err


def test_typed_name_tears_down_and_saves_the_report(aws_server, args, capsys, monkeypatch, kube_cluster):
    planted = plant(CLUSTER)
    monkeypatch.setattr("sys.stdin", _Terminal(f"{CLUSTER}\n"))
    from tests.karpenter_standin import KarpenterStandIn

    with KarpenterStandIn(kube_cluster.api_client()):
        code = cli.main(args)
    captured = capsys.readouterr()
    assert code == 0, captured.out + captured.err
    assert "Nothing left" in captured.out and "Report saved to" in captured.out
    assert "[sweep] done" in captured.err and "[terraform] skipped" in captured.err
    assert "[nodepools] done" in captured.err and "deleting NodePool gpu" in captured.err
    for kind, ids in planted.ours.items():
        assert not set(ids) & existing(kind)
    for kind, ids in planted.theirs.items():
        assert set(ids) <= existing(kind)


def test_yes_and_json_on_a_clean_aws_account(aws_server, args, capsys, kube_cluster):
    from tests.karpenter_standin import KarpenterStandIn

    with KarpenterStandIn(kube_cluster.api_client()):
        assert cli.main([*args, "--yes", "--json"]) == 0
    report = _json_out(capsys.readouterr().out)
    assert report["nothing_left"] is True
    assert report["deleted"] == ["NodePool gpu", "NodePool cpu"]  # the AWS side had nothing
    assert report["file"].endswith(".txt")


def test_a_kubeconfig_context_of_another_cluster_is_never_torn_down(aws_server, kube_cluster, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRITON_CONSOLE_KUBE_KUBECONFIG", kube_cluster.kubeconfig(tmp_path / "kc", context="staging"))
    plant(CLUSTER)
    assert cli.main(["teardown", "--cluster", CLUSTER, "--region", REGION, "--terraform-dir", str(tmp_path / "none"), "--yes"]) == 0
    err = capsys.readouterr().err
    assert "[nodepools] skipped kubeconfig context 'staging' is not cluster 'triton-a'" in err
    assert sorted(kube_cluster.names(("karpenter.sh", "v1", "nodepools"))) == ["cpu", "gpu"]  # untouched


def test_without_aws_access_nothing_runs_and_the_plan_says_it_could_not_look(tmp_path, monkeypatch, capsys):
    for var in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    args = ["teardown", "--cluster", CLUSTER, "--region", REGION, "--terraform-dir", str(tmp_path / "none"), "--kubeconfig", str(tmp_path / "none")]
    assert cli.main([*args, "--yes"]) == 2
    captured = capsys.readouterr()
    assert "Billing now: unknown (AWS could not be read for 12 kind(s))" in captured.out
    assert "(could not look: see below)" in captured.out and "(nothing found)" not in captured.out.split("5. Sweep")[1]
    assert "Cannot read AWS" in captured.err and "Nothing was changed." in captured.err
    assert not list((tmp_path / "xdg_data_home").rglob("*.json"))  # no report claims anything
