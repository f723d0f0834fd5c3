"""Describe, logs (tail and follow), delete pod, scale deployment: real HTTP against kmock."""

from __future__ import annotations

import threading

import pytest
import yaml

from console.core.kube import actions
from tests.kube_cluster import DEPLOYMENTS, NAMESPACE, PODS, POD_PENDING, POD_READY, wait_until


def test_describe_is_yaml_of_the_live_object(kube_cluster):
    text = actions.describe(kube_cluster.api_client(), "hpas", "triton-vllm", NAMESPACE)
    doc = yaml.safe_load(text)
    assert doc["kind"] == "HorizontalPodAutoscaler" and doc["spec"]["maxReplicas"] == 4
    node = yaml.safe_load(actions.describe(kube_cluster.api_client(), "nodes", kube_cluster.names(("", "v1", "nodes"))[0]))
    assert node["metadata"]["labels"]["node.kubernetes.io/instance-type"]


def test_errors_are_actions_errors_with_the_servers_message(kube_cluster):
    with pytest.raises(actions.ActionError, match="404"):
        actions.describe(kube_cluster.api_client(), "pods", "no-such-pod", NAMESPACE)
    with pytest.raises(actions.ActionError, match="404"):
        actions.delete_pod(kube_cluster.api_client(), "no-such-pod", NAMESPACE)
    with pytest.raises(actions.ActionError, match="negative"):
        actions.scale_deployment(kube_cluster.api_client(), "triton-vllm", NAMESPACE, -1)


def test_delete_pod_and_scale_change_the_cluster(kube_cluster):
    client = kube_cluster.api_client()
    actions.delete_pod(client, POD_PENDING, NAMESPACE)
    assert POD_PENDING not in kube_cluster.names(PODS, NAMESPACE)
    assert actions.scale_deployment(client, "triton-vllm", NAMESPACE, 2) == 2
    assert kube_cluster.get(DEPLOYMENTS, "triton-vllm", NAMESPACE)["spec"]["replicas"] == 2
    plan = actions.plan_scale("triton-vllm", NAMESPACE, 2, 6, hpa_min=1, hpa_max=4)
    assert "from 2 to 6" in plan and "GPU node" in plan and "1..4" in plan
    assert "replacement" in actions.plan_delete_pod(POD_READY, NAMESPACE)


def test_log_tail_and_follow(kube_cluster):
    client = kube_cluster.api_client()
    tail = actions.LogTail(client, POD_READY, NAMESPACE, tail_lines=2)
    assert [line.split("] ", 1)[1] for line in tail.lines()] == [
        "Started HTTPService at 0.0.0.0:8000", "Started Metrics Service at 0.0.0.0:8002"]
    follow = actions.LogTail(client, POD_READY, NAMESPACE, tail_lines=1, follow=True)
    seen: list[str] = []
    reader = threading.Thread(target=lambda: seen.extend(follow.lines()), daemon=True)
    reader.start()
    wait_until(lambda: len(seen) == 1, what="tail line")
    kube_cluster.append_log(NAMESPACE, POD_READY, ["I1124 model llama2 request 1", "I1124 model llama2 request 2"])
    wait_until(lambda: len(seen) == 3, what="followed lines")
    assert seen[1:] == ["I1124 model llama2 request 1", "I1124 model llama2 request 2"]
    kube_cluster.delete(PODS, POD_READY, NAMESPACE)  # the pod going away ends the follow
    reader.join(20)
    assert not reader.is_alive()
    follow.close()
