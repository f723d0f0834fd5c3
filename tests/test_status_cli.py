"""`triton-console status` end to end: a real subprocess against the kmock API server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

from tests.kube_cluster import NAMESPACE, PODS, POD_PENDING, wait_until

ROOT = Path(__file__).resolve().parents[1]


def _status(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console", "status", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout)


def test_status_json_gives_the_whole_picture(kube_cluster, tmp_path):
    result = _status("--kubeconfig", kube_cluster.kubeconfig(tmp_path / "kc"), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["context"] == "kmock" and data["namespace"] == NAMESPACE
    assert len(data["nodes"]) == 4 and data["gpus_allocatable"] == 5 and data["gpus_requested"] == 2
    assert data["nodes"][0]["price_per_hour"] == 8.144 and data["hourly_cost_usd"] > 8.144
    assert {p["status"] for p in data["pods"]} == {"Running", "CrashLoopBackOff", "Unschedulable"}
    assert data["hpas"][0]["at_max"] is True and data["hpas"][0]["metrics"][0]["current"] == "182"
    assert data["events"][0]["type"] == "Warning" and data["karpenter"] is True


def test_status_text_and_namespace_flag(kube_cluster, tmp_path):
    path = kube_cluster.kubeconfig(tmp_path / "kc")
    text = _status("--kubeconfig", path)
    assert text.returncode == 0, text.stderr
    assert "AT MAX REPLICAS" in text.stdout and "ScalingLimited=True TooManyReplicas" in text.stdout
    assert "CrashLoopBackOff" in text.stdout and "g5.24xlarge" in text.stdout and "$8.144" in text.stdout
    other = json.loads(_status("--kubeconfig", path, "--json", "--namespace", "other").stdout)
    assert other["pods"] == [] and len(other["nodes"]) == 4


def test_status_without_a_cluster_is_a_clear_error(tmp_path):
    result = _status("--kubeconfig", str(tmp_path / "missing"))
    assert result.returncode == 1 and "no kubeconfig at" in result.stderr and "Traceback" not in result.stderr
    (tmp_path / "dead").write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters: [{name: c, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "users: [{name: c, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: c}}]\n")
    result = _status("--kubeconfig", str(tmp_path / "dead"), "--timeout", "3")
    assert result.returncode == 1 and "cannot list the cluster" in result.stderr and "Traceback" not in result.stderr


def test_status_watch_json_streams_changes(kube_cluster, tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "console", "status", "--kubeconfig", kube_cluster.kubeconfig(tmp_path / "kc"),
                                "--watch", "--json", "--interval", "0.1"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    docs: list[dict] = []
    reader = threading.Thread(target=lambda: [docs.append(json.loads(line)) for line in process.stdout], daemon=True)
    reader.start()
    try:
        wait_until(lambda: docs, timeout=60, what="first picture")
        kube_cluster.delete(PODS, POD_PENDING, NAMESPACE)
        wait_until(lambda: len(docs[-1]["pods"]) == 2, timeout=30, what="a picture without the deleted pod")
    finally:
        process.terminate()
        process.wait(20)


def test_status_cluster_flag_goes_through_eks(aws_server):
    import boto3

    boto3.client("eks", region_name="us-west-2").create_cluster(
        name="demo", roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={"subnetIds": ["subnet-1"]})
    missing = _status("--cluster", "nope", "--region", "us-west-2")
    assert missing.returncode == 1 and "no EKS cluster named 'nope'" in missing.stderr
    # moto's endpoint is not a Kubernetes API: connecting works, listing fails clearly and quickly
    found = _status("--cluster", "demo", "--region", "us-west-2", "--timeout", "3")
    assert found.returncode == 1 and "cannot list the cluster eks:demo@us-west-2" in found.stderr
    assert "Traceback" not in found.stderr
