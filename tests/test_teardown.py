"""Guided teardown against a real moto server, a kmock API server and (when present) the stand-in terraform."""

from __future__ import annotations

import json

import pytest

from console.core import pricing
from console.core.teardown.inventory import Clients, discover
from console.core.teardown.plan import Target, make_plan
from console.core.teardown.run import Timeouts, confirmation_matches, run_teardown
from tests.aws_leftovers import REGION, existing, plant
from tests.karpenter_standin import KarpenterStandIn
from tests.kube_cluster import CORE_NODES, GPU_NODE, GPU_NODE_SPOT, NAMESPACE, RELEASE, SERVICES

CLUSTER = "triton-a"
FAST = Timeouts(load_balancers_s=20, volumes_s=20, nodes_s=20, aws_wait_s=20, poll_s=0.3)


PVCS = ("", "v1", "persistentvolumeclaims")
INGRESSES = ("networking.k8s.io", "v1", "ingresses")
NODEPOOLS = ("karpenter.sh", "v1", "nodepools")
NODES = ("", "v1", "nodes")


@pytest.fixture
def cluster(kube_cluster):
    """The shared realistic cluster plus what a teardown must delete first: an NLB Service, an
    Ingress and the model-cache PVC."""
    kube_cluster.declare(PVCS, "PersistentVolumeClaim", True)
    kube_cluster.declare(INGRESSES, "Ingress", True)
    kube_cluster.add(SERVICES, {
        "metadata": {"name": f"{RELEASE}-public", "namespace": NAMESPACE},
        "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 8000}]},
        "status": {"loadBalancer": {"ingress": [{"hostname": "k8s-tritonvl-abc.elb.us-west-2.amazonaws.com"}]}},
    })
    kube_cluster.add(INGRESSES, {"metadata": {"name": "grafana", "namespace": "monitoring"}, "spec": {}})
    kube_cluster.add(PVCS, {
        "metadata": {"name": "model-cache", "namespace": NAMESPACE},
        "spec": {"resources": {"requests": {"storage": "100Gi"}}, "storageClassName": "gp3"},
    })
    kube_cluster.api = kube_cluster.api_client()
    return kube_cluster


def _target(tmp_path, api=None, **kw) -> Target:
    return Target(CLUSTER, REGION, terraform_dir=tmp_path / "no-terraform-here", api_client=api, **kw)


def _assert_theirs_untouched(planted) -> None:
    for kind, ids in planted.theirs.items():
        assert set(ids) <= existing(kind), f"{kind} not ours but deleted: {set(ids) - existing(kind)}"


def test_plan_lists_every_resource_with_its_hourly_cost(aws_server, tmp_path, cluster):
    planted = plant(CLUSTER)
    plan = make_plan(_target(tmp_path, cluster.api))
    kinds = {r.kind for r in plan.inventory.resources}
    assert kinds == {"eks-cluster", "eks-nodegroup", *planted.ours} - {"eks-cluster"} | {"eks-cluster"}
    ids = {r.id for r in plan.inventory.resources}
    for kind, mine in planted.ours.items():
        assert set(mine) <= ids, kind
    for kind, theirs in planted.theirs.items():
        assert not set(theirs) & ids, f"plan would touch {kind} of someone else"
    # $/h: moto has no Pricing API, so instance prices come from the static table.
    expected = (
        pricing.STATIC_INSTANCE_PRICES["g5.24xlarge"] + pricing.STATIC_INSTANCE_PRICES["m5.xlarge"]
        + pricing.EKS_CONTROL_PLANE + pricing.NAT_GATEWAY + 2 * pricing.PUBLIC_IPV4
        + pricing.LOAD_BALANCER["network"] + pricing.LOAD_BALANCER["classic"]
        + (100 + 20) * pricing.EBS_GB_MONTH["gp3"] / pricing.HOURS_PER_MONTH
    )
    assert plan.hourly == pytest.approx(expected, rel=1e-6)
    assert plan.hourly == pytest.approx(8.5517, abs=1e-3)
    steps = {s.id: s for s in plan.steps}
    assert [i.what for i in steps["load-balancers"].items] == ["Service triton-vllm/triton-vllm-public", "Ingress monitoring/grafana"]
    assert [i.what for i in steps["volumes"].items] == ["PVC triton-vllm/model-cache"]
    assert steps["volumes"].items[0].hourly == pytest.approx(100 * 0.08 / 730)
    pools = {i.what: i.hourly for i in steps["nodepools"].items}
    spot = pricing.price_quote("g5.2xlarge", REGION, "spot")
    assert spot.source in ("spot-history", "cache") and spot.price is not None  # moto serves a spot history
    assert pools == {"NodePool gpu": pytest.approx(8.144 + spot.price), "NodePool cpu": 0.0}
    assert GPU_NODE in steps["nodepools"].items[0].detail or GPU_NODE in steps["nodepools"].items[1].detail
    assert "no terraform" in steps["terraform"].skip
    text = plan.render_text()
    assert "$8.55/h" in text and "g5.24xlarge" in text
    json.dumps(plan.as_dict())
    # A plan changes nothing.
    for kind, mine in planted.ours.items():
        assert set(mine) <= existing(kind)


def test_full_teardown_leaves_nothing_of_ours_and_everything_else(aws_server, tmp_path, cluster):
    planted = plant(CLUSTER)
    target = _target(tmp_path, cluster.api)
    plan = make_plan(target)
    events = []
    with KarpenterStandIn(cluster.api) as karpenter:
        report = run_teardown(plan, target, events.append, FAST)
    assert report.nothing_left, report.render_text()
    assert [s.status for s in report.stages] == ["done", "done", "done", "skipped", "done"]
    for kind, mine in planted.ours.items():
        assert not set(mine) & existing(kind), f"{kind} left behind"
    _assert_theirs_untouched(planted)
    # Kubernetes: LB service, ingress, PVC and NodePools went, the GPU node with them; the rest stays.
    assert cluster.names(SERVICES) == [RELEASE]  # the ClusterIP Service stays (it goes with the cluster)
    assert cluster.names(INGRESSES) == []
    assert cluster.names(PVCS) == []
    assert cluster.names(NODEPOOLS) == []
    assert sorted(karpenter.removed) == sorted([GPU_NODE, GPU_NODE_SPOT])
    assert cluster.names(NODES) == sorted(CORE_NODES)
    # The report is saved and says what went.
    assert report.path is not None and report.path.is_file()
    saved = json.loads(report.path.with_suffix(".json").read_text())
    assert saved["nothing_left"] is True and saved["remaining"] == []
    assert "Service triton-vllm/triton-vllm-public" in report.deleted
    assert any(d.startswith("nat-gateway") for d in report.deleted)
    assert ("terraform", "skipped") in {(e.stage, e.status) for e in events}


def test_failure_part_way_then_rerun_resumes(aws_server, tmp_path, cluster):
    planted = plant(CLUSTER)
    target = _target(tmp_path, cluster.api)
    # No Karpenter: the GPU node never goes, so the NodePool stage times out and the run stops.
    report = run_teardown(make_plan(target), target, None, Timeouts(nodes_s=1.5, poll_s=0.3, aws_wait_s=20))
    assert not report.nothing_left
    assert [s.status for s in report.stages] == ["done", "done", "failed", "not-run", "not-run"]
    assert GPU_NODE in report.stages[2].note
    assert report.remaining_hourly == pytest.approx(8.5517, abs=1e-3)  # nothing of AWS was swept yet
    assert "Stopped at nodepools" in report.headline() and "$8.552/h" in report.headline()
    assert GPU_NODE in cluster.names(NODES)

    events = []
    with KarpenterStandIn(cluster.api):
        second = run_teardown(make_plan(target), target, events.append, FAST)
    assert events[0].text == "resuming: the last run stopped at nodepools"
    assert second.nothing_left, second.render_text()
    for kind, mine in planted.ours.items():
        assert not set(mine) & existing(kind)
    _assert_theirs_untouched(planted)


def test_unreachable_cluster_skips_kube_stages_and_still_sweeps(aws_server, tmp_path):
    planted = plant(CLUSTER)
    import kubernetes

    config = kubernetes.client.Configuration()
    config.host = "http://127.0.0.1:9"  # discard port: nothing listens
    target = _target(tmp_path, kubernetes.client.ApiClient(config))
    plan = make_plan(target)
    assert all("unreachable" in plan.step(s).skip for s in ("load-balancers", "volumes", "nodepools"))
    report = run_teardown(plan, target, None, FAST)
    assert [s.status for s in report.stages] == ["skipped", "skipped", "skipped", "skipped", "done"]
    assert report.nothing_left
    _assert_theirs_untouched(planted)


def test_clean_account_finds_nothing(aws_server, tmp_path):
    target = _target(tmp_path)
    plan = make_plan(target)
    assert plan.nothing_to_do and plan.hourly == 0
    report = run_teardown(plan, target, None, FAST)
    assert report.nothing_left and report.deleted == []
    assert "Nothing left" in report.headline()


def test_sweep_never_touches_other_clusters_even_with_similar_tags(aws_server, tmp_path):
    planted = plant("triton")  # a cluster whose name is a prefix of ours
    report = run_teardown(make_plan(_target(tmp_path)), _target(tmp_path), None, FAST)
    assert report.deleted == [] and report.nothing_left
    for kind, ids in planted.ours.items():
        assert set(ids) <= existing(kind)


def test_confirmation_needs_the_exact_name():
    assert confirmation_matches(" triton-a ", "triton-a")
    assert not confirmation_matches("triton", "triton-a")
    assert not confirmation_matches("TRITON-A", "triton-a")
    assert not confirmation_matches("", "")


def _terraform_dir(tmp_path, terraform_standin):
    """A copy of terraform/ whose stand-in state holds the blueprint's resources (applied first)."""
    import shutil
    import subprocess
    import os

    from console.core.paths import repo_root

    workdir = tmp_path / "terraform"
    shutil.copytree(repo_root() / "terraform", workdir)
    log = terraform_standin("provision_ok")
    for args in (["init"], ["apply", "-json", "-auto-approve"]):
        done = subprocess.run([os.environ["TERRAFORM_BIN"], *args], cwd=workdir, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stdout[-2000:]
    return workdir, log


def _destroys(log) -> list[list[str]]:
    calls = [json.loads(line)["argv"] for line in log.read_text().splitlines()]
    return [[a for a in argv if a.startswith("-target=")] or ["(all)"] for argv in calls if argv and argv[0] == "destroy"]


def test_terraform_destroys_in_order_and_resumes_after_a_failure(aws_server, tmp_path, cluster, terraform_standin):
    planted = plant(CLUSTER)
    workdir, log = _terraform_dir(tmp_path, terraform_standin)
    terraform_standin("destroy_fail_vpc_once")
    target = Target(CLUSTER, REGION, terraform_dir=workdir, api_client=cluster.api)
    plan = make_plan(target)
    groups = [g for g, _ in plan.terraform_groups]
    assert groups == ["add-ons", "eks", "vpc"]
    assert "helm_release.triton" in dict(plan.terraform_groups)["add-ons"]
    with KarpenterStandIn(cluster.api):
        first = run_teardown(plan, target, None, FAST)
    assert [s.status for s in first.stages] == ["done", "done", "done", "failed", "not-run"]
    assert "DependencyViolation" in first.stages[3].note or "vpc" in first.stages[3].note
    assert not first.nothing_left and first.remaining  # the sweep never ran: AWS leftovers still listed
    order = _destroys(log)
    assert order[0] == [f"-target={t}" for t in dict(plan.terraform_groups)["add-ons"]]
    assert order[1:] == [["-target=module.eks"], ["-target=module.vpc"]]

    events = []
    second = run_teardown(make_plan(target), target, events.append, FAST)
    assert second.nothing_left, second.render_text()
    notes = [e.text for e in events if e.stage == "terraform"]
    assert "destroy add-ons: already done in an earlier run" in notes
    assert "destroy eks: already done in an earlier run" in notes
    assert _destroys(log)[len(order):] == [["-target=module.vpc"], ["(all)"]]
    state = json.loads((workdir / "terraform.tfstate").read_text())
    assert state["resources"] == []
    _assert_theirs_untouched(planted)
    # A third run finds no state left: terraform is skipped with a note, the sweep finds nothing.
    third_plan = make_plan(target)
    assert "no terraform state" in third_plan.step("terraform").skip
    assert run_teardown(third_plan, target, None, FAST).nothing_left


def test_sweep_failure_is_reported_with_its_cost_and_a_rerun_finishes(aws_server, tmp_path):
    import boto3

    planted = plant(CLUSTER)
    ec2 = boto3.client("ec2", region_name=REGION)
    # A volume of ours attached to an instance that is not ours: the sweep must not force it off.
    foreign_instance = planted.theirs["ec2-instance"][0]
    stuck = ec2.create_volume(AvailabilityZone=f"{REGION}a", Size=500, VolumeType="gp3",
                              TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": f"kubernetes.io/cluster/{CLUSTER}", "Value": "owned"}]}])["VolumeId"]
    ec2.attach_volume(VolumeId=stuck, InstanceId=foreign_instance, Device="/dev/sdf")
    target = _target(tmp_path)
    report = run_teardown(make_plan(target), target, None, FAST)
    assert [s.status for s in report.stages][-1] == "failed"
    assert "still attached to " + foreign_instance in report.stages[-1].note
    assert [r.id for r in report.remaining] == [stuck]
    assert report.remaining_hourly == pytest.approx(500 * 0.08 / 730)
    assert "Stopped at sweep" in report.headline() and not report.nothing_left
    assert f"ebs-volume {stuck}" in report.render_text()
    _assert_theirs_untouched(planted)

    ec2.detach_volume(VolumeId=stuck, InstanceId=foreign_instance, Device="/dev/sdf")  # the operator deals with it, then runs the teardown again
    again = run_teardown(make_plan(target), target, None, FAST)
    assert again.nothing_left and again.deleted == [f"ebs-volume {stuck}"]
    _assert_theirs_untouched(planted)
