"""Run a teardown plan stage by stage, journaled so that a rerun after a failure resumes.

Every stage re-reads what is there before deleting, so running it twice is harmless. The journal
(``<data>/teardown/<cluster>-<region>.journal.json``) adds two things: terraform targets that
were destroyed are not destroyed again, and the rerun can say where the last one stopped. A
failed stage stops the run (deleting the VPC while load balancers remain only gets stuck), but
the report still lists what is left, verified by a fresh look at AWS.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from console.core import paths
from console.core.teardown import kube_stages, sweep, terraform_stage
from console.core.teardown.inventory import discover
from console.core.teardown.plan import STAGES, Target, TeardownPlan
from console.core.teardown.report import StageOutcome, TeardownReport, now_iso, _safe

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StageEvent:
    stage: str
    status: str  # "started" | "note" | "done" | "skipped" | "failed"
    text: str = ""


OnEvent = Callable[[StageEvent], None]


def confirmation_matches(typed: str, cluster: str) -> bool:
    """The operator typed exactly the cluster's name (surrounding spaces forgiven)."""
    return bool(cluster) and typed.strip() == cluster


class Journal:
    """What earlier runs of this cluster's teardown finished; cleared when a run ends clean."""

    def __init__(self, cluster: str, region: str) -> None:
        self.path = paths.data_dir() / "teardown" / f"{_safe(cluster)}-{_safe(region)}.journal.json"
        self.data: dict[str, Any] = {"done": [], "failed": None, "runs": 0}
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(loaded, dict):
                self.data.update(loaded)
        except (OSError, ValueError):
            pass

    @property
    def resuming(self) -> str:
        """'' for a fresh start, else what the last run stopped on."""
        failed = self.data.get("failed")
        return f"resuming: the last run stopped at {failed}" if failed else ""

    def done(self, key: str) -> bool:
        return key in self.data["done"]

    def mark(self, key: str) -> None:
        if key not in self.data["done"]:
            self.data["done"].append(key)
        self._write()

    def fail(self, key: str) -> None:
        self.data["failed"] = key
        self._write()

    def start(self) -> None:
        self.data["runs"] = int(self.data.get("runs", 0)) + 1
        self._write()

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)

    def _write(self) -> None:
        paths.ensure_dir(self.path.parent)
        self.path.write_text(json.dumps(self.data, indent=1), encoding="utf-8")


@dataclass
class Timeouts:
    load_balancers_s: float = 600
    volumes_s: float = 600
    nodes_s: float = 900
    aws_wait_s: float = 900
    poll_s: float = 5


def run_teardown(plan: TeardownPlan, target: Target, on_event: OnEvent | None = None, timeouts: Timeouts | None = None) -> TeardownReport:
    """Execute ``plan`` for ``target``; returns the report (already saved to a file)."""
    emit = on_event or (lambda _event: None)
    timeouts = timeouts or Timeouts()
    journal = Journal(plan.cluster, plan.region)
    if journal.resuming:
        emit(StageEvent("plan", "note", journal.resuming))
    journal.start()
    report = TeardownReport(plan.cluster, plan.region, now_iso())
    api, region = target.api_client, plan.region

    def kube(stage: str, action: Callable[[Callable[[str], None]], list[str]]) -> Callable[[], None]:
        def run() -> None:
            left = action(lambda text: emit(StageEvent(stage, "note", text)))
            if left:
                raise TimeoutError("still there after waiting: " + ", ".join(left))

        return run

    def do_terraform() -> None:
        for group, targets in (*plan.terraform_groups, ("the rest", ())):
            key = f"terraform:{group}"
            if journal.done(key):
                emit(StageEvent("terraform", "note", f"destroy {group}: already done in an earlier run"))
                continue
            terraform_stage.destroy_one(
                target.terraform_dir, group, targets, lambda text: emit(StageEvent("terraform", "note", text)), binary=target.terraform_bin
            )
            journal.mark(key)

    def do_sweep() -> None:
        def seen(action: str, resource: Any, note: str) -> None:
            if action == "deleted":
                report.deleted.append(resource.label)
            emit(StageEvent("sweep", "note", f"{action} {resource.label}" + (f": {note}" if note else "")))

        result = sweep.sweep(target.clients(), plan.cluster, seen, wait_s=timeouts.aws_wait_s)
        report.swept = True
        report.remaining = result.remaining.resources
        report.unverified = result.remaining.errors
        if result.failed:
            raise RuntimeError("; ".join(f"{r.label}: {why[:120]}" for r, why in result.failed))

    actions: dict[str, Callable[[], None]] = {
        "load-balancers": kube("load-balancers", lambda n: kube_stages.delete_load_balancers(api, n, timeouts.load_balancers_s, timeouts.poll_s)),
        "volumes": kube("volumes", lambda n: kube_stages.delete_persistent_volume_claims(api, n, timeouts.volumes_s, timeouts.poll_s)),
        "nodepools": kube("nodepools", lambda n: kube_stages.delete_nodepools(api, region, n, timeouts.nodes_s, timeouts.poll_s)),
        "terraform": do_terraform,
        "sweep": do_sweep,
    }
    stopped = False
    for stage in STAGES:
        step = plan.step(stage)
        if stopped:
            report.stages.append(StageOutcome(stage, "not-run", "an earlier stage failed"))
            continue
        if step.skip:
            emit(StageEvent(stage, "skipped", step.skip))
            report.stages.append(StageOutcome(stage, "skipped", step.skip))
            continue
        emit(StageEvent(stage, "started", step.title))
        try:
            actions[stage]()
        except Exception as exc:  # noqa: BLE001 - any failure stops the run and goes in the report
            note = f"{type(exc).__name__}: {exc}"[:400]
            log.warning("teardown stage %s failed: %s", stage, note)
            emit(StageEvent(stage, "failed", note))
            report.stages.append(StageOutcome(stage, "failed", note))
            journal.fail(stage)
            stopped = True
            continue
        if stage in ("load-balancers", "volumes", "nodepools"):
            report.deleted.extend(f"{item.what}" for item in step.items)
        emit(StageEvent(stage, "done", ""))
        report.stages.append(StageOutcome(stage, "done"))
    if not report.swept:  # stopped early: still say honestly what is left
        try:
            left = discover(target.clients(), plan.cluster)
            report.remaining, report.unverified = left.resources, left.errors
        except Exception as exc:  # noqa: BLE001
            report.unverified = {"everything": str(exc)}
    report.finished = now_iso()
    if report.nothing_left:
        journal.clear()
    report.save()
    return report
