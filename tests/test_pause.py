"""Pause and resume against the shared kmock cluster, with Karpenter's node removal played over HTTP."""

from __future__ import annotations

import pytest

from console import cli
from console.core import pricing
from console.core.pause import ANNOTATION, PauseError, pause, pause_state, resume, watch_gpu_nodes
from tests.karpenter_standin import KarpenterStandIn
from tests.kube_cluster import DEPLOYMENTS, GPU_NODE, GPU_NODE_SPOT, HPAS, NAMESPACE, NODES, RELEASE, CORE_NODES

REGION = "us-west-2"


def test_pause_state_prices_the_gpu_nodes(kube_cluster):
    state = pause_state(kube_cluster.api_client(), NAMESPACE, RELEASE, REGION)
    assert state.replicas == 3 and not state.paused
    assert {n.name for n in state.gpu_nodes} == {GPU_NODE, GPU_NODE_SPOT}
    # No AWS account here: the static table prices both (spot falls back to on-demand, an upper bound).
    by_name = {n.name: n for n in state.gpu_nodes}
    assert by_name[GPU_NODE].hourly == pricing.STATIC_INSTANCE_PRICES["g5.24xlarge"]
    assert by_name[GPU_NODE_SPOT].capacity_type == "spot"
    assert by_name[GPU_NODE_SPOT].price_source == "on-demand-upper-bound"
    assert state.gpu_hourly == pytest.approx(8.144 + 1.212)
    text = state.describe_pause()
    assert "from 3 to 0" in text and "$9.356/h" in text and "$224.54/day" in text


def test_pause_then_nodes_go_then_resume_brings_one_back(kube_cluster):
    api = kube_cluster.api_client()
    with KarpenterStandIn(api) as karpenter:
        assert pause(api, NAMESPACE, RELEASE) == 3
        deployment = kube_cluster.get(DEPLOYMENTS, RELEASE, NAMESPACE)
        assert deployment["spec"]["replicas"] == 0
        assert deployment["metadata"]["annotations"][ANNOTATION] == "3"
        seen = [sorted(n.name for n in nodes) for nodes in watch_gpu_nodes(api, REGION, want_gone=True, timeout_s=60, interval_s=0.2)]
        assert seen[0] == sorted([GPU_NODE, GPU_NODE_SPOT]) and seen[-1] == []
        assert sorted(kube_cluster.names(NODES)) == sorted(CORE_NODES)
        assert pause(api, NAMESPACE, RELEASE) == 3  # pausing again changes nothing
        assert pause_state(api, NAMESPACE, RELEASE, REGION).recorded == 3

        assert resume(api, NAMESPACE, RELEASE) == 3
        assert kube_cluster.get(DEPLOYMENTS, RELEASE, NAMESPACE)["spec"]["replicas"] == 3
        final = list(watch_gpu_nodes(api, REGION, want_gone=False, timeout_s=60, interval_s=0.2))[-1]
        assert [n.name for n in final] == karpenter.launched


def test_resume_without_a_recorded_count_uses_the_hpa_minimum(kube_cluster):
    api = kube_cluster.api_client()
    kube_cluster.patch(DEPLOYMENTS, RELEASE, {"spec": {"replicas": 0}}, NAMESPACE)
    kube_cluster.patch(HPAS, RELEASE, {"spec": {"minReplicas": 2}}, NAMESPACE)
    assert resume(api, NAMESPACE, RELEASE) == 2


def test_missing_deployment_is_a_clear_error(empty_kube_cluster):
    with pytest.raises(PauseError, match="no deployment triton-vllm/triton-vllm"):
        pause(empty_kube_cluster.api_client(), NAMESPACE, RELEASE)


def test_cli_pause_and_resume(kube_cluster, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRITON_CONSOLE_KUBE_KUBECONFIG", kube_cluster.kubeconfig(tmp_path / "kubeconfig"))
    with KarpenterStandIn(kube_cluster.api_client()):
        assert cli.main(["pause", "--yes", "--timeout", "60"]) == 0
        out = capsys.readouterr().out
        assert "Saving: $9.356/h" in out and "GPU nodes: none" in out and "Paused. Saving $9.356/h." in out
        assert cli.main(["pause", "--yes"]) == 0
        assert "Already paused" in capsys.readouterr().out
        assert cli.main(["resume", "--yes", "--timeout", "60"]) == 0
        assert "Scaled to 3." in capsys.readouterr().out


def test_cli_pause_refuses_without_terminal_or_yes(kube_cluster, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRITON_CONSOLE_KUBE_KUBECONFIG", kube_cluster.kubeconfig(tmp_path / "kubeconfig"))
    monkeypatch.setattr("sys.stdin", open("/dev/null"))
    assert cli.main(["pause"]) == 1
    assert "pass --yes" in capsys.readouterr().err
    assert kube_cluster.get(DEPLOYMENTS, RELEASE, NAMESPACE)["spec"]["replicas"] == 3
