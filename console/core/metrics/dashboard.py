"""The Grafana dashboard, generated from the same panel list the Metrics place plots.

``python -m console.core.metrics.dashboard`` writes
``helm/triton-vllm/dashboards/triton-console.json``; a test checks the committed file is current.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from console.core.metrics.panels import PANELS, Panel

UID = "triton-console"
DASHBOARD_PATH = Path("helm") / "triton-vllm" / "dashboards" / "triton-console.json"


def _timeseries(spec: Panel, index: int) -> dict:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": spec.title,
        "description": f"Same panel as the console's Metrics place ({spec.id}). Shows no data when absent: {spec.absent}.",
        "datasource": {"type": "prometheus", "uid": "${datasource}"},
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": spec.grafana_unit, "custom": {"spanNulls": False}}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}, "tooltip": {"mode": "multi"}},
        "targets": [
            {"refId": chr(ord("A") + i), "expr": q.expr, "legendFormat": q.legend, "datasource": {"type": "prometheus", "uid": "${datasource}"}}
            for i, q in enumerate(spec.queries)
        ],
    }


def build_dashboard() -> dict:
    return {
        "uid": UID,
        "title": "Triton + vLLM serving (triton-console)",
        "tags": ["triton", "vllm", "triton-console"],
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "refresh": "10s",
        "time": {"from": "now-30m", "to": "now"},
        "templating": {
            "list": [
                {"name": "datasource", "label": "Prometheus", "type": "datasource", "query": "prometheus", "current": {}, "hide": 0}
            ]
        },
        "annotations": {"list": []},
        "panels": [_timeseries(spec, i) for i, spec in enumerate(PANELS)],
    }


def render() -> str:
    return json.dumps(build_dashboard(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    from console.core.paths import repo_root

    target = repo_root() / DASHBOARD_PATH
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
