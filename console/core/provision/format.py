"""Plain-text renderings shared by the CLI and the Provision screen (no styling here)."""

from __future__ import annotations

from console.core import terraform as tf
from console.core.provision.cost import CostEstimate

STATUS_MARKS = {"pass": "✔", "fail": "✘", "warn": "!", "info": "i", "pending": "…", "running": "…"}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = max(int(round(seconds)), 0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_line(stage_key: str, progress: tf.Progress) -> str:
    """`vpc 3/10 (30%) elapsed 0:42 eta 1:20, 1 running`"""
    text = (f"{stage_key} {progress.done}/{progress.total} ({progress.fraction:.0%}) "
            f"elapsed {duration(progress.elapsed_s)} eta {duration(progress.eta_s())}")
    running = len(progress.running())
    failed = progress.count("failed")
    if running:
        text += f", {running} running"
    if failed:
        text += f", {failed} failed"
    return text


def cost_lines(est: CostEstimate, width: int = 44) -> list[str]:
    """The hourly cost, one line per item, then the total and what it assumes."""
    lines = []
    for line in est.lines:
        label = line.item + (f" ×{line.count}" if line.count > 1 else "")
        lines.append(f"  {label:<{width}} {'unpriced' if line.hourly is None else f'${line.hourly:.3f}/h'}")
    lines.append(f"  {'total':<{width}} {est.describe()}")
    lines.append(f"  ({est.note})")
    return lines
