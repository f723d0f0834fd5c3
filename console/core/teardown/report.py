"""The end of a teardown: what went, what is still there and what it bills, saved as files."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from console.core import paths
from console.core.teardown.inventory import AwsResource


@dataclass
class StageOutcome:
    stage: str
    status: str  # "done" | "skipped" | "failed" | "not-run"
    note: str = ""


@dataclass
class TeardownReport:
    cluster: str
    region: str
    started: str
    finished: str = ""
    stages: list[StageOutcome] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)  # human lines: "Service triton-vllm/lb", "nat-gateway nat-1"
    remaining: list[AwsResource] = field(default_factory=list)
    unverified: dict[str, str] = field(default_factory=dict)  # kinds the final check could not list
    swept: bool = False  # the final sweep ran and listed every kind
    path: Path | None = None

    @property
    def remaining_hourly(self) -> float:
        return sum(r.hourly for r in self.remaining)

    @property
    def nothing_left(self) -> bool:
        """Only true when the sweep itself verified it."""
        return self.swept and not self.unverified and not self.remaining and all(s.status != "failed" for s in self.stages)

    @property
    def failed(self) -> bool:
        return any(s.status == "failed" for s in self.stages)

    def headline(self) -> str:
        if self.nothing_left:
            return f"Nothing left: the sweep found no resource tagged to {self.cluster} in {self.region}."
        if self.failed:
            stage = next(s for s in self.stages if s.status == "failed")
            return f"Stopped at {stage.stage}: {stage.note}. Run the teardown again to resume. Still billing: ${self.remaining_hourly:.3f}/h."
        if not self.swept or self.unverified:
            return "Not verified: the sweep could not check everything (see below)."
        return f"{len(self.remaining)} resource(s) still there, billing ${self.remaining_hourly:.3f}/h."

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "region": self.region,
            "started": self.started,
            "finished": self.finished,
            "nothing_left": self.nothing_left,
            "headline": self.headline(),
            "stages": [s.__dict__ for s in self.stages],
            "deleted": self.deleted,
            "remaining": [r.as_dict() for r in self.remaining],
            "remaining_hourly": round(self.remaining_hourly, 4),
            "unverified": self.unverified,
            "file": str(self.path) if self.path else None,
        }

    def render_text(self) -> str:
        lines = [f"Teardown of {self.cluster} in {self.region}: {self.started} → {self.finished}", self.headline(), "", "Stages:"]
        lines += [f"  {s.stage:<15} {s.status:<8} {s.note}" for s in self.stages]
        lines += ["", f"Deleted ({len(self.deleted)}):"] + [f"  - {d}" for d in self.deleted]
        if self.remaining:
            lines += ["", "Still there:"] + [f"  - {r.label:<60} {r.detail[:40]:<40} ${r.hourly:.3f}/h" for r in self.remaining]
        for kind, why in self.unverified.items():
            lines.append(f"  ! could not check {kind}: {why}")
        return "\n".join(lines) + "\n"

    def save(self) -> Path:
        """Write ``<data>/teardown/<cluster>-<region>-<UTC time>.json`` and ``.txt``; returns the .txt."""
        folder = paths.ensure_dir(paths.data_dir() / "teardown")
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        base = folder / f"{_safe(self.cluster)}-{_safe(self.region)}-{stamp}"
        self.path = base.with_suffix(".txt")
        base.with_suffix(".json").write_text(json.dumps(self.as_dict(), indent=2), encoding="utf-8")
        self.path.write_text(self.render_text(), encoding="utf-8")
        return self.path


def _safe(text: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in text) or "_"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
