"""The terraform runner against the stand-in executable (terraform's documented -json stream)."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

import pytest

from console.core import terraform as tf

SCENARIOS = Path(__file__).parent / "standins" / "scenarios"


def test_parse_documented_stream():
    lines = (SCENARIOS / "documented_apply.jsonl").read_text().splitlines()
    events = [tf.parse_line(line) for line in lines]
    assert [type(e).__name__ for e in events] == [
        "VersionInfo", "PlannedChange", "ChangeSummary", "ApplyStart", "ApplyComplete", "ChangeSummary", "Outputs",
    ]
    assert events[0].terraform == "0.15.4"
    assert events[1].addr == "random_pet.animal" and events[1].action == "create"
    assert events[2].add == 1 and events[2].operation == "plan"
    assert events[4].id_value == "smart-lizard" and events[4].elapsed_s == 0
    assert events[6].outputs == {"pets": "smart-lizard"}


def test_parse_diagnostic_non_json_and_sensitive_outputs():
    diag = tf.parse_line(json.dumps({
        "@level": "error", "@message": "Error: boom", "type": "diagnostic",
        "diagnostic": {"severity": "error", "summary": "boom", "detail": "token hf_abcdefghijklmnopqrstuvwxyz1234 leaked",
                       "address": "aws_vpc.x", "range": {"filename": "vpc.tf", "start": {"line": 7}}},
    }))
    assert isinstance(diag, tf.Diagnostic)
    assert diag.filename == "vpc.tf" and diag.line == 7 and diag.address == "aws_vpc.x"
    assert "hf_abcdefghijklmnop" not in diag.detail and "leaked" in diag.detail
    assert "vpc.tf:7" in diag.describe()
    plain = tf.parse_line("Initializing provider plugins...")
    assert isinstance(plain, tf.Log) and plain.message == "Initializing provider plugins..."
    assert tf.parse_line("   ") is None
    outs = tf.parse_line(json.dumps({"type": "outputs", "outputs": {"pw": {"sensitive": True, "value": "s3cret"}}}))
    assert outs.outputs == {"pw": "(sensitive)"}


def test_progress_counts_and_eta():
    now = [100.0]
    p = tf.Progress(clock=lambda: now[0])
    for i in range(4):
        p.update(tf.PlannedChange(type="planned_change", addr=f"r{i}", action="create"))
    assert p.total == 4 and p.eta_s() is None and p.fraction == 0
    p.update(tf.ApplyStart(type="apply_start", addr="r0", action="create"))
    assert [r.addr for r in p.running()] == ["r0"]
    now[0] = 110.0
    p.update(tf.ApplyComplete(type="apply_complete", addr="r0", action="create", elapsed_s=10))
    assert p.done == 1 and p.fraction == 0.25
    assert p.eta_s() == pytest.approx(30.0)
    p.update(tf.ApplyErrored(type="apply_errored", addr="r1", action="create"))
    assert p.count("failed") == 1


def run(coro):
    return asyncio.run(coro)


def test_init_apply_output_against_standin(tmp_path, terraform_standin):
    log = terraform_standin("provision_ok")
    runner = tf.Terraform(tmp_path, env={"TF_VAR_huggingface_token": "hf_notarealtokenbutlongenough123"})
    assert runner.version() == "1.9.8"
    init = run(tf.collect(runner, runner.init_args()))
    assert init.returncode == 0
    seen: list[tf.Event] = []
    progress = run(tf.collect(runner, tf.Terraform.apply_args(targets=["module.vpc"]), seen.append))
    assert progress.returncode == 0
    assert progress.done == 10 and progress.total == 10 and progress.fraction == 1.0
    assert all(r.addr.startswith("module.vpc.") for r in progress.resources.values())
    assert any(isinstance(e, tf.Diagnostic) and e.severity == "warning" for e in seen)  # targeting warning
    full = run(tf.collect(runner, tf.Terraform.apply_args()))
    assert full.returncode == 0 and full.done == 18  # only what the targeted run did not create
    assert full.outputs["grafana_secret_name"] == "nvidia-triton-server-grafana-20261124"
    assert runner.output()["configure_kubectl"].startswith("aws eks --region us-west-2")
    calls = [json.loads(l) for l in log.read_text().splitlines()]
    assert ["apply", "-json", "-input=false", "-auto-approve", "-target=module.vpc"] in [c["argv"] for c in calls]
    assert all("hf_notarealtoken" not in json.dumps(c) for c in calls)
    assert "TF_VAR_huggingface_token" in calls[-1]["tf_vars"]


def test_failure_reports_diagnostic_and_keeps_partial_state(tmp_path, terraform_standin):
    terraform_standin("provision_fail_eks_once")
    runner = tf.Terraform(tmp_path)
    run(tf.collect(runner, runner.init_args()))
    failed = run(tf.collect(runner, tf.Terraform.apply_args()))
    assert failed.returncode == 1
    assert [r.addr for r in failed.resources.values() if r.status == "failed"] == ["module.eks.aws_eks_cluster.this[0]"]
    assert failed.errors and "UnsupportedAvailabilityZoneException" in failed.errors[0].summary
    assert failed.errors[0].address == "module.eks.aws_eks_cluster.this[0]"
    again = run(tf.collect(runner, tf.Terraform.apply_args()))
    assert again.returncode == 0
    assert "module.vpc.aws_vpc.this[0]" not in again.resources  # created by the failed run, kept in state


def test_plan_to_file_then_apply_it(tmp_path, terraform_standin):
    terraform_standin("provision_ok")
    runner = tf.Terraform(tmp_path)
    run(tf.collect(runner, runner.init_args()))
    plan = run(tf.collect(runner, tf.Terraform.plan_args(out="tfplan", targets=["module.eks"])))
    assert plan.returncode == 0 and plan.total == 5 and plan.done == 0
    assert plan.summary.add == 5
    applied = run(tf.collect(runner, tf.Terraform.apply_args(plan_file="tfplan")))
    assert applied.returncode == 0 and applied.done == 5


def test_destroy_failure_then_success(tmp_path, terraform_standin):
    terraform_standin("provision_ok")
    runner = tf.Terraform(tmp_path)
    run(tf.collect(runner, runner.init_args()))
    assert run(tf.collect(runner, tf.Terraform.apply_args())).returncode == 0
    terraform_standin("destroy_fail_vpc_once")
    failed = run(tf.collect(runner, tf.Terraform.destroy_args()))
    assert failed.returncode == 1 and "DependencyViolation" in failed.errors[0].summary
    done = run(tf.collect(runner, tf.Terraform.destroy_args()))
    assert done.returncode == 0 and done.summary.operation == "destroy" and done.summary.remove == 1


def test_cancel_sends_one_sigint_and_state_stays_whole(tmp_path, terraform_standin):
    terraform_standin("provision_slow")
    runner = tf.Terraform(tmp_path)

    async def go():
        await tf.collect(runner, runner.init_args())
        events = []
        async for event in runner.stream(tf.Terraform.apply_args()):
            events.append(event)
            if isinstance(event, tf.ApplyComplete) and not runner._cancelled:
                assert runner.cancel() is True
                assert runner.cancel() is False  # never a second interrupt
        return events

    events = run(go())
    exited = events[-1]
    assert isinstance(exited, tf.Exited) and exited.cancelled and exited.returncode == 1
    assert any(isinstance(e, tf.Log) and "Interrupt received" in e.message for e in events)
    assert not (tmp_path / ".standin-double-interrupt").exists()
    state = json.loads((tmp_path / "terraform.tfstate").read_text())
    completed = [e.addr for e in events if isinstance(e, tf.ApplyComplete)]
    assert [r["addr"] for r in state["resources"]] == completed


def test_leaving_the_stream_early_interrupts_gracefully(tmp_path, terraform_standin):
    terraform_standin("provision_slow")
    runner = tf.Terraform(tmp_path)

    async def go():
        await tf.collect(runner, runner.init_args())
        stream = runner.stream(tf.Terraform.apply_args())
        async for event in stream:
            if isinstance(event, tf.ApplyStart):
                break
        await stream.aclose()
        return runner.running

    assert run(go()) is False
    assert not (tmp_path / ".standin-double-interrupt").exists()
    assert json.loads((tmp_path / "terraform.tfstate").read_text())["resources"]


def test_missing_binary_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TERRAFORM_BIN", str(tmp_path / "nope"))
    runner = tf.Terraform(tmp_path)
    with pytest.raises(tf.TerraformNotFound, match="TERRAFORM_BIN"):
        runner.version()


def test_uninitialised_dir_gives_terraforms_error(tmp_path, terraform_standin):
    terraform_standin("provision_ok")
    runner = tf.Terraform(tmp_path)
    result = run(tf.collect(runner, tf.Terraform.apply_args()))
    assert result.returncode == 1 and "terraform init" in result.errors[0].detail


def test_eta_uses_typical_durations_before_the_pace_is_known():
    now = [0.0]
    typical = {"aws_eks_cluster": 600.0}
    p = tf.Progress(clock=lambda: now[0], typical_s=lambda r: typical.get(r.resource_type, 10.0))
    p.update(tf.PlannedChange(type="planned_change", addr="c", action="create", resource_type="aws_eks_cluster"))
    p.update(tf.PlannedChange(type="planned_change", addr="r", action="create", resource_type="aws_iam_role"))
    assert p.eta_s() == 600.0
    p.update(tf.ApplyStart(type="apply_start", addr="c", action="create", resource_type="aws_eks_cluster"))
    now[0] = 200.0
    p.update(tf.ApplyProgress(type="apply_progress", addr="c", action="create", elapsed_s=200))
    assert p.eta_s() == 400.0
    p.update(tf.ApplyComplete(type="apply_complete", addr="r", action="create", elapsed_s=1))
    assert p.eta_s() == 400.0  # pace (200 s per resource, one left) is shorter than the cluster's typical rest


def test_destroy_plan_file_and_state_list(tmp_path, terraform_standin):
    terraform_standin("provision_ok")
    runner = tf.Terraform(tmp_path)
    run(tf.collect(runner, runner.init_args()))
    run(tf.collect(runner, tf.Terraform.apply_args(targets=["module.vpc"])))
    plan = run(tf.collect(runner, tf.Terraform.plan_args(out="destroy.tfplan", destroy=True)))
    assert plan.summary.remove == 10 and plan.summary.operation == "destroy"
    assert {r.action for r in plan.resources.values()} == {"delete"}
    done = run(tf.collect(runner, tf.Terraform.apply_args(plan_file="destroy.tfplan")))
    assert done.returncode == 0 and done.done == 10
    stale = run(tf.collect(runner, tf.Terraform.apply_args(plan_file="destroy.tfplan")))
    assert stale.returncode == 1 and "stale" in stale.errors[0].summary
    listed = subprocess.run([runner.binary, "state", "list"], cwd=tmp_path, capture_output=True, text=True)
    assert listed.returncode == 0 and listed.stdout == ""


CONSOLE_THAT_DIES = """
import asyncio, os, sys
sys.path.insert(0, {repo!r})
from console.core import terraform as tf

async def main():
    runner = tf.Terraform({workdir!r})
    async for event in runner.stream(tf.Terraform.apply_args(targets=["module.vpc"])):
        if isinstance(event, tf.ApplyComplete):
            print("first resource done", flush=True)
            os._exit(9)  # the console crashes / its terminal goes away mid-apply

asyncio.run(main())
"""


def test_terraform_finishes_and_saves_state_when_the_console_dies(tmp_path, terraform_standin):
    import sys
    import time

    terraform_standin("provision_slow")
    runner = tf.Terraform(tmp_path)
    run(tf.collect(runner, runner.init_args()))
    script = CONSOLE_THAT_DIES.format(repo=str(Path(__file__).resolve().parents[1]), workdir=str(tmp_path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 9 and "first resource done" in done.stdout
    state_file = tmp_path / "terraform.tfstate"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # terraform carries on without the console
        if len(json.loads(state_file.read_text())["resources"]) == 10:
            break
        time.sleep(0.2)
    assert len(json.loads(state_file.read_text())["resources"]) == 10
    assert not (tmp_path / ".standin-double-interrupt").exists()


def test_cancelled_task_interrupts_without_waiting_and_terraform_still_saves(tmp_path, terraform_standin):
    import time

    terraform_standin("provision_slow")
    runner = tf.Terraform(tmp_path)

    async def go():
        await tf.collect(runner, runner.init_args())

        async def consume():
            async for event in runner.stream(tf.Terraform.apply_args(targets=["module.vpc"])):
                pass

        task = asyncio.create_task(consume())
        while not (tmp_path / "terraform.tfstate").exists():
            await asyncio.sleep(0.05)
        task.cancel()  # what an app shutting down does to its workers
        with pytest.raises(asyncio.CancelledError):
            await task

    run(go())
    state = tmp_path / "terraform.tfstate"
    previous = None
    for _ in range(30):  # wait until the state stops growing: terraform has stopped on its own
        current = json.loads(state.read_text())["resources"]
        if current == previous:
            break
        previous = current
        time.sleep(1.0)
    final = json.loads(state.read_text())["resources"]
    assert 0 < len(final) < 10  # interrupted gracefully, not run to the end, state intact JSON
    assert not (tmp_path / ".standin-double-interrupt").exists()


def test_standin_replays_the_documented_stream_through_the_runner(tmp_path, terraform_standin):
    terraform_standin("documented")
    result = run(tf.collect(tf.Terraform(tmp_path), tf.Terraform.apply_args()))
    assert result.returncode == 0 and result.done == 1
    assert result.resources["random_pet.animal"].status == "done"
    assert result.outputs == {"pets": "smart-lizard"} and result.summary.operation == "apply"
