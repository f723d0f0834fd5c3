"""The Teardown place: the plan with $/h, a typed-name confirmation, live stages, the report.

Also pause/resume: scale Triton to zero (the GPU node goes, watched live) and back.
All work runs in thread workers that call the headless core and hand results back with
``call_from_thread``; the screen only renders.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, RichLog, Static

from console.core.teardown.plan import STAGES, TeardownPlan
from console.tui.widgets.confirm import TypedConfirmScreen, YesNoScreen

STATUS_MARKS = {"waiting": "·", "started": "▶ running", "done": "✓ done", "skipped": "– skipped", "failed": "✗ failed", "not-run": "· not run"}


class TeardownScreen(Screen):
    CSS_PATH = "teardown.tcss"
    BINDINGS = [
        Binding("r", "plan", "Re-plan"),
        Binding("ctrl+d", "teardown", "Tear down"),
        Binding("p", "pause", "Pause GPU"),
        Binding("u", "resume", "Resume"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.plan: TeardownPlan | None = None
        self.target: Any = None
        self.busy = ""  # what is running now ("plan", "teardown", "pause", ...), "" when idle
        self.report: Any = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="td-target")
        with Horizontal(id="td-body"):
            yield DataTable(id="td-plan", cursor_type="row", zebra_stripes=True)
            with Vertical(id="td-side"):
                yield Static("burn rate: waiting for the first measurement", id="td-burn")
                yield DataTable(id="td-stages", cursor_type="none", show_cursor=False)
                yield RichLog(id="td-log", wrap=True, markup=False, max_lines=2000)
        yield Static("", id="td-summary")
        yield Footer()

    def on_mount(self) -> None:
        plan_table = self.query_one("#td-plan", DataTable)
        for label, key in (("step", "step"), ("what", "what"), ("$/h", "hourly"), ("detail", "detail")):
            plan_table.add_column(label, key=key)
        stages = self.query_one("#td-stages", DataTable)
        stages.add_column("stage", key="stage")
        stages.add_column("status", key="status")
        for stage in STAGES:
            stages.add_row(stage, STATUS_MARKS["waiting"], key=stage)
        cfg = self.app.config
        self.query_one("#td-target", Static).update(f"Cluster [b]{cfg.aws.cluster}[/b] in {cfg.aws.region} · planning (read only)…")
        self.action_plan()
        self.watch(self.app, "sub_title", self.show_burn_rate, init=True)  # the ticker updates the sub-title

    def show_burn_rate(self, _sub_title: str = "") -> None:
        """The header's burn rate, broken down: nodes by type and capacity, control plane, NAT, LBs."""
        ticker = getattr(self.app, "burn_rate", None)
        rate = ticker.last if ticker is not None else None
        if rate is None:
            text = ticker.headline if ticker is not None and ticker.headline else "burn rate: not measured"
        else:
            lines = [f"[b]{rate.headline()}[/b]"]
            lines += [f"{line.count:>2} × {line.what} {line.detail}".ljust(44) + f"${line.hourly:8.3f}/h" for line in rate.lines]
            lines += [f"[dim]{note}[/dim]" for note in rate.notes[:2]]
            text = "\n".join(lines)
        self.query_one("#td-burn", Static).update(text)

    # ---- helpers -----------------------------------------------------------------------------

    def _log(self, text: str) -> None:
        self.query_one("#td-log", RichLog).write(text)

    def _summary(self, text: str) -> None:
        self.query_one("#td-summary", Static).update(text)

    def _make_target(self) -> Any:
        from console.core.cluster_access import api_client_for_cluster
        from console.core.teardown.plan import Target

        cfg = self.app.config
        api, why = api_client_for_cluster(cfg, cfg.aws.cluster, cfg.aws.region)
        return Target(cfg.aws.cluster, cfg.aws.region, profile=cfg.aws.profile, api_client=api, kube_note=why)

    # ---- plan ----------------------------------------------------------------------------------

    def action_plan(self) -> None:
        if self.busy:
            self.notify(f"{self.busy} is running", severity="warning")
            return
        self.busy = "planning"
        self.make_plan()

    @work(thread=True, exclusive=True, group="teardown", exit_on_error=False)
    def make_plan(self) -> None:
        from console.core.teardown.plan import make_plan

        try:
            target = self._make_target()
            plan = make_plan(target)
        except Exception as exc:  # noqa: BLE001 - shown, never fatal
            self.app.call_from_thread(self._plan_failed, f"{type(exc).__name__}: {exc}")
            return
        self.app.call_from_thread(self._show_plan, plan, target)

    def _plan_failed(self, why: str) -> None:
        self.busy = ""
        self.query_one("#td-target", Static).update(f"Cannot make a plan: {why}")

    def _show_plan(self, plan: TeardownPlan, target: Any) -> None:
        self.busy = ""
        self.plan, self.target = plan, target
        table = self.query_one("#td-plan", DataTable)
        table.clear()
        for number, step in enumerate(plan.steps, 1):
            if step.skip:
                table.add_row(f"{number} {step.id}", "skipped", "", step.skip[:90])
            elif not step.items:
                table.add_row(f"{number} {step.id}", "could not look" if step.id == "sweep" and plan.inventory.errors else "nothing found", "", "")
            for item in step.items:
                cost = Text(f"{item.hourly:.3f}" if item.hourly else "", justify="right")
                table.add_row(f"{number} {step.id}", item.what[:48], cost, item.detail[:60])
        for kind, why in plan.inventory.errors.items():
            table.add_row("!", f"could not list {kind}", "", why[:90])
        self.query_one("#td-target", Static).update(
            f"Cluster [b]{plan.cluster}[/b] in {plan.region} · billing now [b]{plan.billing_text()}[/b] · "
            "ctrl+d tears down, p pauses the GPU"
        )

    # ---- teardown ------------------------------------------------------------------------------

    def action_teardown(self) -> None:
        if self.busy or self.plan is None:
            self.notify("wait for the plan" if not self.busy else f"{self.busy} is running", severity="warning")
            return
        plan = self.plan
        if plan.aws_unreadable:
            self.notify("AWS cannot be read (credentials?): nothing could be swept or verified", severity="error")
            return
        warning = (
            f"[b]Tear down {plan.cluster}[/b] in {plan.region}: {sum(len(s.items) for s in plan.steps if not s.skip)} items in "
            f"{sum(1 for s in plan.steps if not s.skip)} stages. Billing now ${plan.hourly:.2f}/h. This cannot be undone."
        )

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.busy = "teardown"
                self.run_teardown()
            else:
                self._log("Teardown not confirmed; nothing was changed.")

        self.app.push_screen(TypedConfirmScreen(plan.cluster, warning), confirmed)

    @work(thread=True, exclusive=True, group="teardown", exit_on_error=False)
    def run_teardown(self) -> None:
        from console.core.teardown.run import run_teardown

        assert self.plan is not None
        try:
            report = run_teardown(self.plan, self.target, lambda event: self.app.call_from_thread(self._stage_event, event))
        except Exception as exc:  # noqa: BLE001 - the core reports stage failures itself; this is the unexpected
            self.app.call_from_thread(self._finished, None, f"{type(exc).__name__}: {exc}")
            return
        self.app.call_from_thread(self._finished, report, "")

    def _stage_event(self, event: Any) -> None:
        stages = self.query_one("#td-stages", DataTable)
        if event.stage in STAGES and event.status != "note":
            stages.update_cell(event.stage, "status", STATUS_MARKS.get(event.status, event.status))
        self._log(f"[{event.stage}] {event.text}" if event.status == "note" else f"[{event.stage}] {event.status} {event.text}".rstrip())

    def _finished(self, report: Any, error: str) -> None:
        self.busy = ""
        self.report = report
        if report is None:
            self._summary(f"Teardown stopped unexpectedly: {error}")
            return
        stages = self.query_one("#td-stages", DataTable)
        for outcome in report.stages:
            stages.update_cell(outcome.stage, "status", STATUS_MARKS.get(outcome.status, outcome.status))
        for resource in report.remaining:
            self._log(f"still there: {resource.label} {resource.detail} ${resource.hourly:.3f}/h")
        self._summary(f"{report.headline()}\nReport: {report.path}")

    # ---- pause / resume ------------------------------------------------------------------------

    def action_pause(self) -> None:
        self._pause_or_resume("pause")

    def action_resume(self) -> None:
        self._pause_or_resume("resume")

    def _pause_or_resume(self, what: str) -> None:
        if self.busy:
            self.notify(f"{self.busy} is running", severity="warning")
            return
        self.busy = what
        self.load_pause_state(what)

    @work(thread=True, exclusive=True, group="teardown", exit_on_error=False)
    def load_pause_state(self, what: str) -> None:
        from console.core.pause import pause_state

        cfg = self.app.config
        target = self._make_target()
        if target.api_client is None:
            self.app.call_from_thread(self._pause_done, f"Cannot reach the cluster: {target.kube_note}")
            return
        try:
            state = pause_state(target.api_client, cfg.kube.namespace, cfg.kube.release, cfg.aws.region)
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._pause_done, f"{type(exc).__name__}: {exc}")
            return
        self.app.call_from_thread(self._ask_pause, what, state, target.api_client)

    def _ask_pause(self, what: str, state: Any, api: Any) -> None:
        if what == "pause" and state.paused:
            return self._pause_done(f"Already paused; GPU nodes now: {len(state.gpu_nodes)}.")
        if what == "resume" and not state.paused:
            return self._pause_done(f"Not paused: {state.replicas} replica(s) running.")
        text = state.describe_pause() if what == "pause" else (
            f"Scale {state.namespace}/{state.release} from 0 to {state.recorded or 'the HPA minimum'}.\n"
            "Karpenter launches a GPU node; billing for it starts again."
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self.pause_or_resume(what, api, state.gpu_hourly)
            else:
                self._pause_done(f"{what.capitalize()} not confirmed; nothing was changed.")

        self.app.push_screen(YesNoScreen(text), answered)

    @work(thread=True, exclusive=True, group="teardown", exit_on_error=False)
    def pause_or_resume(self, what: str, api: Any, saving: float) -> None:
        from console.core.pause import pause, resume, watch_gpu_nodes

        cfg = self.app.config
        say = lambda text: self.app.call_from_thread(self._log, text)  # noqa: E731
        try:
            if what == "pause":
                previous = pause(api, cfg.kube.namespace, cfg.kube.release)
                say(f"scaled {cfg.kube.namespace}/{cfg.kube.release} from {previous} to 0; waiting for the GPU node(s) to go")
            else:
                replicas = resume(api, cfg.kube.namespace, cfg.kube.release)
                say(f"scaled {cfg.kube.namespace}/{cfg.kube.release} to {replicas}; waiting for a GPU node")
            started, last = time.monotonic(), None
            for nodes in watch_gpu_nodes(api, cfg.aws.region, want_gone=what == "pause"):
                names = ", ".join(n.name for n in nodes) or "none"
                if names != last:
                    say(f"{time.monotonic() - started:5.0f}s  GPU nodes: {names}")
                    last = names
        except Exception as exc:  # noqa: BLE001
            self.app.call_from_thread(self._pause_done, f"{what} failed: {type(exc).__name__}: {exc}")
            return
        done = f"Paused: saving ${saving:.3f}/h (${saving * 24:.2f}/day)." if what == "pause" else "Resumed: a GPU node is up."
        self.app.call_from_thread(self._pause_done, done)

    def _pause_done(self, text: str) -> None:
        self.busy = ""
        self._log(text)
        self._summary(text)
        burn = getattr(self.app, "burn_rate", None)
        if burn is not None and burn.last is not None:
            burn.refresh()


SCREEN = TeardownScreen
