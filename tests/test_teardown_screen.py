"""The Teardown place in a real app: plan with $/h, typed confirmation, live stages, report;
pause with the GPU node going away live. Moto for AWS, the shared kmock cluster for Kubernetes."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable, Input, RichLog, Static

from console.core import config as config_mod
from console.tui.app import TritonConsoleApp
from console.tui.widgets.confirm import TypedConfirmScreen, YesNoScreen
from tests.aws_leftovers import REGION, existing, plant
from tests.karpenter_standin import KarpenterStandIn
from tests.test_app_shell import wait_for as app_shell_wait_for

CLUSTER = "triton-a"
EKS_CONTEXT = f"arn:aws:eks:{REGION}:123456789012:cluster/{CLUSTER}"  # as `aws eks update-kubeconfig` names it


async def wait_for(pilot, predicate, timeout=60.0):
    return await app_shell_wait_for(pilot, predicate, timeout)


@pytest.fixture
def app_config(aws_server, kube_cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("TRITON_CONSOLE_KUBE_KUBECONFIG", kube_cluster.kubeconfig(tmp_path / "kubeconfig", context=EKS_CONTEXT))
    monkeypatch.setenv("TRITON_CONSOLE_AWS_CLUSTER", CLUSTER)
    monkeypatch.setenv("TRITON_CONSOLE_AWS_REGION", REGION)
    return config_mod.load()


def _text(screen, selector) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_plan_then_typed_confirmation_then_report(app_config, kube_cluster):
    planted = plant(CLUSTER)
    app = TritonConsoleApp(app_config, start_place="teardown")
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.screen
        plan_table = screen.query_one("#td-plan", DataTable)
        assert await wait_for(pilot, lambda: screen.plan is not None), _text(screen, "#td-target")
        assert "billing now $8.55/h" in _text(screen, "#td-target")
        rows = [plan_table.get_row_at(i) for i in range(plan_table.row_count)]
        assert any(r[1].startswith("NodePool gpu") and str(r[2]) == "8.144" for r in rows)
        assert any(r[1].startswith("ec2-instance") and str(r[2]) == "8.144" for r in rows)

        await pilot.press("ctrl+d")
        assert await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirmScreen))
        await pilot.press(*"triton", "enter")  # not the name
        assert "is not" in _text(app.screen, "#confirm-error")
        assert isinstance(app.screen, TypedConfirmScreen)
        for kind, ids in planted.ours.items():
            assert set(ids) <= existing(kind)
        app.screen.query_one("#confirm-name", Input).value = ""
        with KarpenterStandIn(kube_cluster.api_client()):
            await pilot.press(*CLUSTER, "enter")
            assert await wait_for(pilot, lambda: screen.report is not None, timeout=180)
        summary = _text(screen, "#td-summary")
        assert "Nothing left" in summary and "Report:" in summary
        stages = screen.query_one("#td-stages", DataTable)
        assert [stages.get_row_at(i)[1] for i in range(stages.row_count)] == ["✓ done", "✓ done", "✓ done", "– skipped", "✓ done"]
        log_text = "\n".join(str(line.text) for line in screen.query_one("#td-log", RichLog).lines)
        assert "deleted nat-gateway" in log_text
    for kind, ids in planted.ours.items():
        assert not set(ids) & existing(kind)
    for kind, ids in planted.theirs.items():
        assert set(ids) <= existing(kind)


async def test_escape_cancels_and_changes_nothing(app_config):
    planted = plant(CLUSTER)
    app = TritonConsoleApp(app_config, start_place="teardown")
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.plan is not None)
        await pilot.press("ctrl+d")
        assert await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirmScreen))
        await pilot.press("escape")
        assert await wait_for(pilot, lambda: app.screen is screen)
    for kind, ids in planted.ours.items():
        assert set(ids) <= existing(kind)


async def test_pause_shows_saving_and_the_node_going(app_config, kube_cluster):
    app = TritonConsoleApp(app_config, start_place="teardown")
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.screen
        assert await wait_for(pilot, lambda: screen.plan is not None)
        await pilot.press("p")
        assert await wait_for(pilot, lambda: isinstance(app.screen, YesNoScreen))
        assert "Saving: $" in _text(app.screen, "#confirm-warning")
        with KarpenterStandIn(kube_cluster.api_client()):
            await pilot.press("y")
            assert await wait_for(pilot, lambda: "Paused: saving" in _text(screen, "#td-summary"), timeout=120)
        log_text = "\n".join(str(line.text) for line in screen.query_one("#td-log", RichLog).lines)
        assert "GPU nodes: ip-10-0-12-201" in log_text and "GPU nodes: none" in log_text


async def test_burn_rate_is_in_the_header_of_every_place(app_config):
    plant(CLUSTER)
    app = TritonConsoleApp(app_config)
    async with app.run_test(size=(160, 45)) as pilot:
        assert await wait_for(pilot, lambda: "burn $" in app.sub_title)
        assert "/h" in app.sub_title and "GPU node" in app.sub_title
        await pilot.press("6")
        assert await wait_for(pilot, lambda: "g5.24xlarge on-demand" in _text(app.screen, "#td-burn"))
        burn = _text(app.screen, "#td-burn")
        assert "2 × node m5.xlarge on-demand" in burn and "1 × control plane" in burn and "1 × NAT gateway" in burn


def test_teardown_screen_snapshot_with_typed_confirmation(app_config, snap_compare):
    """The plan of a clean AWS account over the realistic cluster, and the confirmation half typed."""
    app = TritonConsoleApp(app_config, start_place="teardown")

    async def ready_and_typing(pilot):
        assert await wait_for(pilot, lambda: getattr(app.screen, "plan", None) is not None)
        assert await wait_for(pilot, lambda: "no cluster" in app.sub_title)
        await pilot.press("ctrl+d")
        assert await wait_for(pilot, lambda: isinstance(app.screen, TypedConfirmScreen))
        await pilot.press(*"triton", "enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(150, 36), run_before=ready_and_typing)
