"""Widgets of the Provision place: the preflight checklist, the stage table, the confirm dialog."""

from __future__ import annotations

from textual.widgets import DataTable

from console.core.provision.format import STATUS_MARKS, duration
from console.core.provision.preflight import Check

STYLE = {"pass": "green", "fail": "red", "warn": "yellow", "info": "cyan", "pending": "dim",
         "running": "yellow", "done": "green", "failed": "red", "stopped": "red", "waiting": "dim", "skipped": "dim"}


def styled(status: str, text: str) -> str:
    return f"[{STYLE.get(status, 'white')}]{text}[/]"


class PreflightTable(DataTable):
    """One row per check: mark, name, result. Updates only the row that changed."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.add_column("", key="mark", width=1)
        self.add_column("check", key="check")
        self.add_column("result", key="result")

    def set_pending(self, rows: list[tuple[str, str]]) -> None:
        self.clear()
        for key, title in rows:
            self.add_row(styled("pending", STATUS_MARKS["pending"]), title, styled("pending", "checking…"), key=key)

    def set_check(self, check: Check) -> None:
        mark = styled(check.status, STATUS_MARKS[check.status])
        result = styled(check.status, check.detail) if check.status != "pass" else check.detail
        if check.key not in self.rows:
            self.add_row(mark, check.title, result, key=check.key)
            return
        self.update_cell(check.key, "mark", mark)
        self.update_cell(check.key, "result", result, update_width=True)


class StageTable(DataTable):
    """One row per stage of the run: status, resources done/total, elapsed."""

    def on_mount(self) -> None:
        self.cursor_type = "none"
        self.add_column("stage", key="stage", width=5)
        self.add_column("status", key="status", width=8)
        self.add_column("resources", key="resources", width=9)
        self.add_column("elapsed", key="elapsed", width=8)

    def set_stages(self, stages: list[tuple[str, str]]) -> None:
        self.clear()
        for key, title in stages:
            self.add_row(title, styled("waiting", "waiting"), "", "", key=key)

    def set_stage(self, key: str, status: str, done: int | None = None, total: int | None = None,
                  elapsed: float | None = None) -> None:
        if key not in self.rows:
            return
        self.update_cell(key, "status", styled(status, status))
        if total is not None:
            self.update_cell(key, "resources", f"{done}/{total}")
        if elapsed is not None:
            self.update_cell(key, "elapsed", duration(elapsed))
