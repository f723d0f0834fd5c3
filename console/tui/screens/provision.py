"""The Provision place: preflight checklist, then the staged terraform apply, watched live.

The screen renders core objects only: :class:`Preflight` checks (run in a thread worker, one
row at a time) and the :class:`Provisioner`'s events (an async worker; terraform runs as an
asyncio subprocess). Keys: p preflight, d dry run (plan), a apply (asks first), r retry from
the failed stage (asks first), s stop gracefully.
"""

from __future__ import annotations

from pathlib import Path

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, RichLog, Static

from console.core import secrets
from console.core import terraform as tf
from console.core.provision import apply
from console.core.provision.cost import estimate
from console.core.provision.format import cost_lines, progress_line
from console.core.provision.preflight import Check, Preflight, all_passed
from console.core.provision.settings import ProvisionSettings
from console.tui.screens.provision_widgets import PreflightTable, StageTable, styled
from console.tui.widgets.confirm import ConfirmScreen


class ProvisionScreen(Screen):
    CSS_PATH = "provision.tcss"
    BINDINGS = [
        Binding("p", "preflight", "Preflight"),
        Binding("d", "plan", "Dry run"),
        Binding("a", "apply", "Apply…"),
        Binding("r", "retry", "Retry stage…"),
        Binding("s", "stop", "Stop"),
    ]

    # What runs the checks; tests give it a Service Quotas client (moto lacks EC2 quotas).
    preflight_factory = Preflight

    def __init__(self, auto_preflight: bool = True) -> None:
        super().__init__()
        self.auto_preflight = auto_preflight
        self.checks: dict[str, Check] = {}
        self.preflight_done = False
        self.provisioner: apply.Provisioner | None = None
        self.current: tuple[str, tf.Progress] | None = None
        self.last: apply.RunFinished | None = None
        self.last_errors: list[tf.Diagnostic] = []

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="provision-title")
        with Horizontal(id="provision-top"):
            with Vertical(id="preflight-pane"):
                yield Static("[b]Preflight[/b]", classes="pane-title")
                yield PreflightTable(id="preflight-table")
                yield Static("", id="preflight-fixes")
            with Vertical(id="stages-pane"):
                yield Static("[b]Stages[/b]", classes="pane-title")
                yield StageTable(id="stage-table")
                yield ProgressBar(id="stage-progress", total=100, show_eta=False)
                yield Static("", id="progress-line")
        yield Static("", id="provision-hint")
        yield RichLog(id="provision-log", max_lines=5000, wrap=False, markup=False, highlight=False)
        yield Footer()

    @property
    def settings(self) -> ProvisionSettings:
        return ProvisionSettings.from_config(self.app.config)

    def on_mount(self) -> None:
        s = self.settings
        est = estimate(s)
        self.query_one("#provision-title", Static).update(
            f"[b]{s.name}[/b] in [b]{s.region}[/b]  EKS {s.cluster_version}  GPU {', '.join(s.gpu_instance_types)}  "
            f"models {', '.join(s.models)}  ≈ {est.describe()}")
        self.query_one(StageTable).set_stages([(st.key, st.key) for st in apply.STAGES])
        resume = apply.resume_stage(s)
        if resume:
            self.query_one(StageTable).set_stage(resume, "failed")
            self.hint(f"The last run stopped in stage {resume}: r retries from it (p re-checks first).")
        self.set_interval(1.0, self.tick)
        self.log_line("terraform's output appears here; every run is also saved, redacted, "
                      "under the console's data directory (logs/provision-*.log).")
        if self.auto_preflight:
            self.action_preflight()
        else:
            self.hint("Press p to run the preflight checks.")

    def hint(self, text: str) -> None:
        self.query_one("#provision-hint", Static).update(text)

    def log_line(self, text: str) -> None:
        log = self.query_one(RichLog)
        log.auto_scroll = log.is_vertical_scroll_end  # follow only while at the bottom
        log.write(text)

    # ------------------------------------------------------------------ preflight

    def action_preflight(self) -> None:
        if self.running:
            self.notify("A run is in progress.", severity="warning")
            return
        pre = self.preflight_factory(self.settings)
        self.preflight_done = False
        self.checks.clear()
        self.query_one(PreflightTable).set_pending([(key, title) for key, title, _ in pre.checks()])
        self.query_one("#preflight-fixes", Static).update("")
        self.hint("Running preflight checks…")
        self.run_preflight(pre)

    @work(thread=True, exclusive=True, group="preflight", exit_on_error=False)
    def run_preflight(self, pre: Preflight) -> None:
        for key, title, fn in pre.checks():
            check = Preflight.run_one(key, title, fn)
            self.app.call_from_thread(self.show_check, check)
        self.app.call_from_thread(self.preflight_finished)

    def show_check(self, check: Check) -> None:
        self.checks[check.key] = check
        self.query_one(PreflightTable).set_check(check)
        fixes = [f"{styled(c.status, c.title)}: {c.fix}" for c in self.checks.values()
                 if c.fix and c.status in ("fail", "warn")]
        self.query_one("#preflight-fixes", Static).update("\n".join(fixes))

    def preflight_finished(self) -> None:
        self.preflight_done = True
        checks = list(self.checks.values())
        if all_passed(checks):
            cost = self.checks.get("cost")
            self.hint(f"Preflight passed. a applies (asks first), d plans only. {cost.detail if cost else ''}")
        else:
            failed = ", ".join(c.title for c in checks if c.failed)
            self.hint(f"Preflight failed ({failed}): fix the red items, then p to check again.")

    # ------------------------------------------------------------------ runs

    @property
    def running(self) -> bool:
        return self.provisioner is not None and any(
            w.group == "provision" and w.is_running for w in self.workers)

    def _why_not_apply(self) -> str | None:
        if self.running:
            return "A run is in progress."
        if not self.preflight_done:
            return "Run the preflight first (p)."
        failed = [c.title for c in self.checks.values() if c.failed]
        if failed:
            return f"Preflight failed: {', '.join(failed)}."
        if not secrets.hf_token():
            return "The HF token is missing or a placeholder."
        return None

    def action_plan(self) -> None:
        if self.running:
            self.notify("A run is in progress.", severity="warning")
        elif not secrets.hf_token():
            self.notify("The HF token is missing or a placeholder (terraform's plan needs it too).", severity="warning")
        else:
            self.start_run(None, dry_run=True)

    def action_apply(self) -> None:
        self._confirm_and_run(apply.resume_stage(self.settings))

    def action_retry(self) -> None:
        failed = (self.last.failed_stage if self.last and not self.last.ok else None) or apply.resume_stage(self.settings)
        if failed not in apply.STAGE_KEYS:
            self.notify("Nothing to retry: no stage failed.", severity="information")
            return
        self._confirm_and_run(failed)

    def _confirm_and_run(self, start: str | None) -> None:
        problem = self._why_not_apply()
        if problem:
            self.notify(problem, severity="warning")
            return
        s = self.settings
        first = apply.STAGE_KEYS.index(start) if start else 0
        est = estimate(s)
        lines = [f"terraform in {s.terraform_dir}", ""]
        lines += [f"  {st.key:<5} {st.title}" for st in apply.STAGES[first:]]
        lines += ["", "Once running, per hour:", *cost_lines(est, width=40), "", "Billing starts as resources come up."]
        title = f"Create {s.name} in {s.region}" + (f" (from stage {start})" if start else "") + "?"

        def answered(yes: bool | None) -> None:
            if yes:
                self.start_run(start, dry_run=False)
            else:
                self.notify("Nothing was created.")

        self.app.push_screen(ConfirmScreen(title, "\n".join(lines), "Create", markup=False), answered)

    def start_run(self, start: str | None, dry_run: bool) -> None:
        s = self.settings
        self.provisioner = apply.Provisioner(s, secrets.hf_token() or "")
        table = self.query_one(StageTable)
        if dry_run:
            table.set_stages([("init", "init"), ("plan", "plan")])
        else:
            first = apply.STAGE_KEYS.index(start) if start else 0
            table.set_stages([("init", "init")] + [(st.key, st.key) for st in apply.STAGES])
            for st in apply.STAGES[:first]:
                table.set_stage(st.key, "skipped")
        self.last_errors = []
        self.query_one(RichLog).clear()
        self.log_line(f"log file: {self.provisioner.log_path}")
        self.hint("Running terraform… s stops gracefully (terraform finishes what is in flight and saves state).")
        kubeconfig = Path(self.app.config.kube.kubeconfig).expanduser() if self.app.config.kube.kubeconfig else None
        self.run_provision(start, dry_run, kubeconfig)

    @work(exclusive=True, group="provision", exit_on_error=False)
    async def run_provision(self, start: str | None, dry_run: bool, kubeconfig: Path | None) -> None:
        assert self.provisioner is not None
        async for item in self.provisioner.run(start=start, dry_run=dry_run, kubeconfig_path=kubeconfig):
            self.show_item(item)

    def show_item(self, item: apply.ProvisionEvent) -> None:
        table = self.query_one(StageTable)
        bar = self.query_one(ProgressBar)
        if isinstance(item, apply.StageStarted):
            self.current = (item.stage.key, tf.Progress())
            table.set_stage(item.stage.key, "running", 0, 0, 0)
            bar.update(progress=0)
            self.log_line(f"== {item.stage.title}: {item.command}")
        elif isinstance(item, apply.StageEvent):
            self.current = (item.stage.key, item.progress)
            event = item.event
            if event.message:
                self.log_line(event.describe() if isinstance(event, tf.Diagnostic) else event.message)
            if isinstance(event, (tf.ApplyComplete, tf.ApplyErrored, tf.ApplyStart, tf.ChangeSummary, tf.PlannedChange)):
                p = item.progress
                table.set_stage(item.stage.key, "running", p.done, p.total, p.elapsed_s)
                bar.update(progress=100 * p.fraction)
        elif isinstance(item, apply.StageFinished):
            p = item.progress
            status = "done" if item.ok else ("stopped" if self.provisioner and self.provisioner.terraform._cancelled else "failed")
            table.set_stage(item.stage.key, status, p.done, p.total, p.elapsed_s)
            bar.update(progress=100 if item.ok else 100 * p.fraction)
            if not item.ok:
                self.last_errors = list(item.errors)
            self.current = None
            self.query_one("#progress-line", Static).update(progress_line(item.stage.key, p))
        elif isinstance(item, apply.RunFinished):
            self.finish(item)

    def finish(self, end: apply.RunFinished) -> None:
        self.last = end
        self.log_line(end.message)
        if not end.ok:
            errors = "; ".join(d.summary for d in self.last_errors)
            retry = f" r retries from stage {end.failed_stage}." if end.failed_stage in apply.STAGE_KEYS else ""
            self.hint(f"[red]✘ {end.message}[/]{': ' + errors if errors else ''}.{retry} Log: {end.log_path}")
            self.notify(f"Provisioning {end.message}", severity="error", timeout=10)
            return
        if end.dry_run:
            self.hint(f"Plan finished; nothing was changed. a applies. Log: {end.log_path}")
            return
        for name, value in end.outputs.items():
            self.log_line(f"{name} = {value}")
        self.log_line(end.kubeconfig)
        self.hint(f"[green]✔ Provisioned.[/] {end.kubeconfig}. Opening the Cluster view…")
        self.notify("Provisioned: Triton downloads the model weights on first start.", timeout=10)
        self.set_timer(2.0, lambda: self.app.switch_mode("cluster"))

    def on_worker_state_changed(self, event) -> None:  # a crash in a worker shows, never kills the app
        from textual.worker import WorkerState

        if event.state == WorkerState.ERROR:
            self.log_line(f"error: {secrets.redact(str(event.worker.error))}")
            self.hint(f"[red]✘ {secrets.redact(str(event.worker.error))}[/]")

    def action_stop(self) -> None:
        if self.provisioner is not None and self.provisioner.cancel():
            self.hint("Stopping: terraform finishes the operations in flight and saves its state…")
        else:
            self.notify("Nothing to stop.")

    def tick(self) -> None:
        if self.current is None:
            return
        key, progress = self.current
        self.query_one(StageTable).set_stage(key, "running", progress.done, progress.total, progress.elapsed_s)
        running = progress.running()
        text = progress_line(key, progress)
        if running:
            text += "  " + ", ".join(r.addr for r in running[:3])
        self.query_one("#progress-line", Static).update(text)


SCREEN = ProvisionScreen
