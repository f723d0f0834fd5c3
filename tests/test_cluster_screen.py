"""The Cluster place against the kmock API server: live tables, filter, actions with confirmation."""

from __future__ import annotations

import datetime as dt
from contextlib import asynccontextmanager

from textual.widgets import DataTable, Static

from console.core.config import Config
from console.tui.app import TritonConsoleApp
from console.tui.screens.cluster_dialogs import AskScreen, TextScreen
from console.tui.widgets.confirm import ConfirmScreen
from tests.test_app_shell import wait_for
from tests.kube_cluster import (DEPLOYMENTS, NAMESPACE, PODS, POD_PENDING, POD_READY, POD_SPOT, KubeCluster, triton_pod,
                                GPU_NODE)


@asynccontextmanager
async def running(kube_cluster, tmp_path, forward: bool = False):
    """The app on the Cluster place against ``kube_cluster``, once its tables are filled."""
    app = _app(kube_cluster.kubeconfig(tmp_path / "kc"), forward=forward)
    async with app.run_test(size=(180, 50)) as pilot:
        await _loaded(pilot, app)
        yield pilot, app


def _app(kubeconfig: str, forward: bool = False) -> TritonConsoleApp:
    cfg = Config()
    cfg.kube.kubeconfig = kubeconfig
    cfg.kube.port_forward = forward
    return TritonConsoleApp(cfg, start_place="cluster")


def _table(app, name: str) -> DataTable:
    return app.screen.query_one(f"#{name}-table", DataTable)


def _line(app) -> str:
    return str(app.screen.query_one("#cluster-line", Static).render())


async def _loaded(pilot, app) -> None:
    assert await wait_for(pilot, lambda: _table(app, "pods").row_count == 3 and _table(app, "nodes").row_count == 4)


async def test_tables_fill_and_follow_the_cluster(kube_cluster, echo_server, tmp_path):
    kube_cluster.forward_target(NAMESPACE, POD_READY, 8001, "127.0.0.1", echo_server.ports.grpc)
    async with running(kube_cluster, tmp_path, forward=True) as (pilot, app):
        assert await wait_for(pilot, lambda: "node cost $9.740/h" in _line(app))  # prices arrive off-thread (spot at the on-demand upper bound, no AWS here)
        assert "GPUs 2/5" in _line(app)
        nodes = _table(app, "nodes")
        assert {nodes.get_row_at(0)[2], nodes.get_row_at(1)[2]} == {"g5.24xlarge", "g5.2xlarge"}  # GPU nodes first
        panel = app.screen.query_one("#hpa-panel", Static)
        assert await wait_for(pilot, lambda: "AT MAX" in str(panel.render()))
        hpa = str(panel.render())
        assert "AT MAX" in hpa and "pods/avg_time_queue_ms: 182 / 50" in hpa and "TooManyReplicas" in hpa
        assert await wait_for(pilot, lambda: _table(app, "events").row_count > 0)  # events come on their own watch
        assert "Warning" in str(_table(app, "events").get_row_at(0)[0])
        # the forward is up and the app's Triton URLs point at it
        assert await wait_for(pilot, lambda: app.config.triton.url.startswith("127.0.0.1:"))
        assert app.config.triton.metrics_url.startswith("http://127.0.0.1:")
        # which models the ready pod serves, asked through a forward to that pod (a real tritonserver)
        assert await wait_for(pilot, lambda: _table(app, "pods").get_cell(POD_READY, "models") == "echo")
        # live updates: a pod changes, one goes, one comes
        kube_cluster.patch(PODS, POD_PENDING, {"status": {"phase": "Failed", "reason": "Evicted"}}, NAMESPACE)
        assert await wait_for(pilot, lambda: "Evicted" in str(_table(app, "pods").get_cell(POD_PENDING, "status")))
        kube_cluster.delete(PODS, POD_SPOT, NAMESPACE)
        kube_cluster.add(PODS, triton_pod("triton-vllm-5d9c7b8f6d-fresh", GPU_NODE))
        assert await wait_for(pilot, lambda: set(k.value for k in _table(app, "pods").rows)
                              == {POD_READY, POD_PENDING, "triton-vllm-5d9c7b8f6d-fresh"})


async def test_filter_narrows_rows_and_escape_clears(kube_cluster, tmp_path):
    async with running(kube_cluster, tmp_path) as (pilot, app):
        await pilot.press("slash", *"crash")
        assert await wait_for(pilot, lambda: _table(app, "pods").row_count == 1)
        assert _table(app, "nodes").row_count == 0
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: _table(app, "pods").row_count == 3)


async def _select_pod(pilot, app, name: str) -> None:
    table = _table(app, "pods")
    table.focus()
    await pilot.pause()
    table.move_cursor(row=table.get_row_index(name))
    await pilot.pause()


async def test_delete_pod_needs_confirmation(kube_cluster, tmp_path):
    async with running(kube_cluster, tmp_path) as (pilot, app):
        await _select_pod(pilot, app, POD_SPOT)
        await pilot.press("ctrl+d")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert POD_SPOT in str(app.screen.plan) and "replacement" in app.screen.plan
        await pilot.press("n")
        await pilot.pause(0.3)
        assert POD_SPOT in kube_cluster.names(PODS, NAMESPACE)
        await pilot.press("ctrl+d")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        assert await wait_for(pilot, lambda: POD_SPOT not in kube_cluster.names(PODS, NAMESPACE))
        assert await wait_for(pilot, lambda: POD_SPOT not in {k.value for k in _table(app, "pods").rows})


async def test_scale_asks_shows_the_plan_and_scales(kube_cluster, tmp_path):
    async with running(kube_cluster, tmp_path) as (pilot, app):
        # the HPA comes on a watch of its own: the operator sees it in its panel before scaling
        assert await wait_for(pilot, lambda: "AT MAX" in str(app.screen.query_one("#hpa-panel", Static).render()))
        await pilot.press("ctrl+s")
        assert await wait_for(pilot, lambda: isinstance(app.screen, AskScreen))
        app.screen.query_one("#ask-input").value = "5"
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "from 3 to 5" in app.screen.plan and "1..4" in app.screen.plan  # the HPA's range is named
        await pilot.press("y")
        assert await wait_for(pilot, lambda: kube_cluster.get(DEPLOYMENTS, "triton-vllm", NAMESPACE)["spec"]["replicas"] == 5)


async def test_describe_and_follow_logs(kube_cluster, tmp_path):
    async with running(kube_cluster, tmp_path) as (pilot, app):
        await _select_pod(pilot, app, POD_READY)
        await pilot.press("d")
        assert await wait_for(pilot, lambda: isinstance(app.screen, TextScreen))
        text = "\n".join(str(line.text) for line in app.screen.query_one("#text-log").lines)
        assert f"name: {POD_READY}" in text and "nvidia.com/gpu" in text
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("l")
        assert await wait_for(pilot, lambda: isinstance(app.screen, TextScreen))
        log = app.screen.query_one("#text-log")
        assert await wait_for(pilot, lambda: any("Started GRPCInferenceService" in str(l.text) for l in log.lines))
        kube_cluster.append_log(NAMESPACE, POD_READY, ["I1124 a brand new line"])
        assert await wait_for(pilot, lambda: any("a brand new line" in str(l.text) for l in log.lines))
        await pilot.press("escape")


async def test_no_cluster_is_said_plainly(tmp_path):
    app = _app(str(tmp_path / "no-such-kubeconfig"))
    async with app.run_test(size=(140, 40)) as pilot:
        assert await wait_for(pilot, lambda: "no kubeconfig at" in _line(app))
        await pilot.press("ctrl+d")  # nothing selected, nothing connected: a hint, no crash
        await pilot.pause(0.2)
        assert app.screen.__class__.__name__ == "ClusterScreen"


def test_cluster_screen_snapshot(snap_compare, tmp_path, monkeypatch):
    from console.core.kube import model

    base = dt.datetime(2026, 11, 24, 22, 0, 0, tzinfo=dt.timezone.utc)
    monkeypatch.setattr(model, "clock", lambda: base)
    cluster = KubeCluster().start()
    cluster.load_realistic(now=base)
    app = _app(cluster.kubeconfig(tmp_path / "kc"))

    async def loaded(pilot) -> None:
        await _loaded(pilot, app)
        assert await wait_for(pilot, lambda: "pool gpu" in str(app.screen.query_one("#hpa-panel", Static).render()))
        assert await wait_for(pilot, lambda: "node cost $9.740/h" in _line(app))  # prices arrive off-thread (spot at the on-demand upper bound, no AWS here)
        assert await wait_for(pilot, lambda: _table(app, "events").row_count == 4)
        await pilot.pause(0.2)

    try:
        assert snap_compare(app, terminal_size=(180, 48), run_before=loaded)
    finally:
        cluster.stop()


async def test_switch_context_inside_the_app(kube_cluster, empty_kube_cluster, tmp_path):
    import yaml

    from console.tui.screens.cluster_dialogs import PickScreen

    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "prod",
           "clusters": [{"name": "prod", "cluster": {"server": kube_cluster.url}},
                        {"name": "lab", "cluster": {"server": empty_kube_cluster.url}}],
           "users": [{"name": "u", "user": {"token": "t"}}],
           "contexts": [{"name": "prod", "context": {"cluster": "prod", "user": "u"}},
                        {"name": "lab", "context": {"cluster": "lab", "user": "u"}}]}
    (tmp_path / "two").write_text(yaml.safe_dump(doc))
    app = _app(str(tmp_path / "two"))
    async with app.run_test(size=(180, 50)) as pilot:
        await _loaded(pilot, app)
        assert "prod" in _line(app)
        await pilot.press("c")
        assert await wait_for(pilot, lambda: isinstance(app.screen, PickScreen))
        assert app.screen.options[:2] == ["context:prod  (current)", "context:lab"]
        app.screen.dismiss("context:lab")
        assert await wait_for(pilot, lambda: "lab" in _line(app) and _table(app, "nodes").row_count == 0)
        assert _table(app, "pods").row_count == 0 and app.config.kube.context == "lab"
