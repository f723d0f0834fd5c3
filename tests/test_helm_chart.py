"""Our Triton chart through the real helm binary (lint, template) and kubernetes-validate."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from tests.helm_tools import REPO, find_helm

CHART = REPO / "helm" / "triton-vllm"
PRODUCTION = CHART / "values-production.yaml"
HELM = find_helm()
pytestmark = pytest.mark.skipif(HELM is None, reason="helm binary not found: run scripts/tools.sh (puts it in .cache/bin)")
K8S_VERSION = "1.33.0"  # validate against the oldest API we may meet (kubectl 1.33 client)
CUSTOM_KINDS = {"ServiceMonitor"}  # CRDs: no schema in kubernetes-validate


def helm(*args: str, chart: Path = CHART) -> subprocess.CompletedProcess:
    return subprocess.run([HELM, *args], capture_output=True, text=True, timeout=120)


def render(*extra: str, chart: Path = CHART) -> list[dict]:
    done = helm("template", "triton-vllm", str(chart), "--namespace", "triton-vllm", *extra)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


@pytest.mark.parametrize("values", [[], ["-f", str(PRODUCTION)]], ids=["default", "production"])
def test_lint_strict(values):
    done = helm("lint", "--strict", str(CHART), *values)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 chart(s) failed" in done.stdout


@pytest.mark.parametrize("values", [[], ["-f", str(PRODUCTION)]], ids=["default", "production"])
def test_rendered_manifests_are_valid_kubernetes(values):
    docs = render(*values)
    kinds = sorted(d["kind"] for d in docs)
    for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor",
                 "PersistentVolumeClaim", "ServiceAccount"):
        assert kind in kinds
    for doc in docs:
        if doc["kind"] in CUSTOM_KINDS:
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_names_labels_and_services_follow_the_contract():
    docs = render()
    for kind in ("Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget"):
        assert by_kind(docs, kind)[0]["metadata"]["name"] == "triton-vllm"
    services = {s["metadata"]["name"]: s for s in by_kind(docs, "Service")}
    assert set(services) == {"triton-vllm", "triton-vllm-metrics"}
    ports = {p["name"]: p["port"] for p in services["triton-vllm"]["spec"]["ports"]}
    assert ports == {"http": 8000, "grpc": 8001, "metrics": 8002}
    assert [p["port"] for p in services["triton-vllm-metrics"]["spec"]["ports"]] == [8002]
    pod_labels = by_kind(docs, "Deployment")[0]["spec"]["template"]["metadata"]["labels"]
    assert pod_labels["app.kubernetes.io/name"] == "triton-vllm"
    assert pod_labels["app.kubernetes.io/instance"] == "triton-vllm"
    monitor = by_kind(docs, "ServiceMonitor")[0]
    metrics_labels = services["triton-vllm-metrics"]["metadata"]["labels"]
    assert all(metrics_labels.get(k) == v for k, v in monitor["spec"]["selector"]["matchLabels"].items())
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"


def test_deployment_probes_shm_cache_gpu_and_token():
    deployment = by_kind(render(), "Deployment")[0]
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert probe in container
    assert container["startupProbe"]["httpGet"]["path"] == "/v2/health/ready"
    assert container["livenessProbe"]["httpGet"]["path"] == "/v2/health/live"
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1200  # weights download + vLLM warm-up
    args = container["args"]
    assert any(a.startswith("--model-repository=s3://") for a in args)
    assert "--load-model=llama2" in args and "--load-model=mistral7b" in args
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "8Gi"}
    assert volumes["weights-cache"]["persistentVolumeClaim"]["claimName"] == "triton-vllm-weights-cache"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["dshm"] == "/dev/shm"
    env = {e["name"]: e for e in container["env"]}
    assert env["HF_HOME"]["value"].startswith(mounts["weights-cache"])
    assert env["HF_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "huggingface-token", "key": "HF_TOKEN"}
    assert not any(e["name"].lower() == "shm-size" for e in container["env"])
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 2
    assert pod["nodeSelector"] == {"karpenter.sh/nodepool": "gpu"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod["tolerations"]
    assert deployment["spec"]["strategy"]["type"] == "Recreate"  # RWO cache
    term = pod["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["topologyKey"] == "kubernetes.io/hostname"  # replicas share the node the RWO volume is on
    assert term["labelSelector"]["matchLabels"]["app.kubernetes.io/name"] == "triton-vllm"


def test_hpa_renders_behavior_and_the_custom_metric():
    hpa = by_kind(render(), "HorizontalPodAutoscaler")[0]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 600
    assert hpa["spec"]["behavior"]["scaleUp"]["policies"]
    metric = hpa["spec"]["metrics"][0]
    assert metric["type"] == "Pods" and metric["pods"]["metric"]["name"] == "triton_queue_compute_ratio"
    adapter = yaml.safe_load((REPO / "helm" / "prometheus-adapter" / "values.yaml").read_text())
    rule = adapter["rules"]["custom"][0]
    assert rule["name"]["as"] == metric["pods"]["metric"]["name"]
    assert "by (pod)" in rule["metricsQuery"] and "vllm:num_requests_waiting" in rule["metricsQuery"]


def test_no_ingress_by_default_and_ingress_needs_a_real_host():
    assert not by_kind(render(), "Ingress")
    done = helm("template", "triton-vllm", str(CHART), "--set", "ingress.enabled=true")
    assert done.returncode != 0 and "ingress.hosts" in done.stderr
    docs = render("--set", "ingress.enabled=true", "--set", "ingress.hosts[0].host=triton.internal",
                  "--set", "ingress.hosts[0].paths[0].path=/")
    ingress = by_kind(docs, "Ingress")[0]
    kubernetes_validate.validate(ingress, K8S_VERSION, strict=True)
    assert ingress["spec"]["rules"][0]["host"] == "triton.internal"
    assert "example.com" not in (CHART / "values.yaml").read_text()


def test_production_values_change_replicas_pdb_and_cache():
    docs = render("-f", str(PRODUCTION))
    assert by_kind(docs, "HorizontalPodAutoscaler")[0]["spec"]["minReplicas"] == 2
    pdb = by_kind(docs, "PodDisruptionBudget")[0]["spec"]
    assert pdb["minAvailable"] == 1 and "maxUnavailable" not in pdb
    assert by_kind(docs, "PersistentVolumeClaim")[0]["spec"]["accessModes"] == ["ReadWriteMany"]
    deployment = by_kind(docs, "Deployment")[0]
    assert "strategy" not in deployment["spec"]  # RWX cache: rolling updates are fine
    affinity = deployment["spec"]["template"]["spec"]["affinity"]
    assert "podAntiAffinity" in affinity and "podAffinity" not in affinity


def test_dashboards_configmap_with_and_without_dashboards(tmp_path):
    chart = tmp_path / "triton-vllm"
    shutil.copytree(CHART, chart, ignore=shutil.ignore_patterns("dashboards"))
    assert not by_kind(render(chart=chart), "ConfigMap")
    (chart / "dashboards").mkdir()
    (chart / "dashboards" / "triton-console.json").write_text('{"title": "Triton console", "panels": []}')
    configmap = by_kind(render(chart=chart), "ConfigMap")[0]
    kubernetes_validate.validate(configmap, K8S_VERSION, strict=True)
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert yaml.safe_load(configmap["data"]["triton-console.json"])["title"] == "Triton console"
    # the real chart: a ConfigMap exactly when the metrics engineer's dashboards are present
    has_dashboards = any((CHART / "dashboards").glob("*.json"))
    assert bool(by_kind(render(), "ConfigMap")) == has_dashboards
