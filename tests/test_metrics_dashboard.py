"""The Grafana dashboard: valid JSON, current with the console's panels, only exported metrics."""

from __future__ import annotations

import json
import re
from pathlib import Path

from console.core.metrics import names
from console.core.metrics.dashboard import DASHBOARD_PATH, render
from console.core.metrics.panels import PANELS

from tests.helm_tools import find_helm

ROOT = Path(__file__).resolve().parents[1]
DASHBOARD = ROOT / DASHBOARD_PATH
METRIC = re.compile(r"\b(?:nv_[a-z_]+|vllm:[a-z_]+)")


def load() -> dict:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def test_dashboard_is_valid_grafana_json_with_unique_ids():
    board = load()
    assert board["uid"] == "triton-console" and board["schemaVersion"] >= 36
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for p in board["panels"]:
        assert p["type"] == "timeseries" and p["targets"]
        assert p["datasource"]["uid"] == "${datasource}"
        assert {"h", "w", "x", "y"} <= p["gridPos"].keys()
    assert [v["name"] for v in board["templating"]["list"]] == ["datasource"]


def test_committed_dashboard_is_generated_from_the_console_panels():
    # regenerate with: python -m console.core.metrics.dashboard
    assert DASHBOARD.read_text(encoding="utf-8") == render()
    assert [p["title"] for p in load()["panels"]] == [spec.title for spec in PANELS]


def test_every_queried_metric_is_one_we_export():
    exported = names.exported()
    used = set()
    for p in load()["panels"]:
        for target in p["targets"]:
            found = set(METRIC.findall(target["expr"]))
            assert found, target["expr"]
            used |= found
    assert used <= exported, used - exported
    # the panels: GPU power/utilization/memory, requests, queue/compute, TTFT, TPOT, tokens/s
    for name in ("nv_gpu_power_usage", "nv_gpu_utilization", "nv_gpu_memory_used_bytes", "nv_gpu_memory_total_bytes",
                 "nv_inference_request_success", "nv_inference_request_failure", "nv_inference_queue_duration_us",
                 "nv_inference_compute_infer_duration_us", "vllm:time_to_first_token_seconds_bucket",
                 "vllm:time_per_output_token_seconds_sum", "vllm:generation_tokens_total"):
        assert name in used, name


def test_per_model_and_per_pod_aggregation():
    for p in load()["panels"]:
        for target in p["targets"]:
            expr = target["expr"]
            if "{{model}}" in target["legendFormat"]:
                assert "by (model" in expr, expr
            if "{{pod}}" in target["legendFormat"]:
                assert "by (pod" in expr, expr


def test_chart_ships_the_dashboard_in_a_grafana_configmap():
    import subprocess

    import pytest
    import yaml

    chart = ROOT / "helm" / "triton-vllm"
    if not (chart / "Chart.yaml").is_file():
        pytest.skip("the chart (helm/triton-vllm/Chart.yaml) is not in this checkout yet")
    helm = find_helm()
    if helm is None:
        pytest.skip("helm is not installed (scripts/tools.sh fetches it into .cache/bin)")
    result = subprocess.run([helm, "template", "t", str(chart)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    maps = [d for d in yaml.safe_load_all(result.stdout) if d and d.get("kind") == "ConfigMap"
            and d["metadata"].get("labels", {}).get("grafana_dashboard") == "1"]
    assert maps, "no ConfigMap labelled grafana_dashboard=1"
    shipped = {key: value for m in maps for key, value in (m.get("data") or {}).items()}
    assert json.loads(shipped["triton-console.json"]) == load()
