"""Model repositories with the pacer test model (bench/models/pacer) under chosen names.

Tests and bench scripts use this to serve two pacer entries (one per chat pane) with their own
rate and TTFT through a real tritonserver.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from console.core.local_stack import set_parameter

PACER = Path(__file__).resolve().parent / "models" / "pacer"


def make_repository(dest: Path, models: dict[str, dict[str, object]]) -> Path:
    """Write ``dest/<name>/`` for each model; its dict overrides config.pbtxt parameters
    (tokens_per_second, ttft_ms, max_tokens, length_jitter) and ``instances`` sets the
    instance count (stub processes). Returns ``dest``."""
    dest = Path(dest)
    for name, params in models.items():
        target = dest / name
        shutil.copytree(PACER, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        config = (target / "config.pbtxt").read_text(encoding="utf-8")
        for key, value in params.items():
            if key == "instances":
                config = re.sub(r"count: \d+", f"count: {int(value)}", config, count=1)
            else:
                config = set_parameter(config, key, str(value))
        (target / "config.pbtxt").write_text(config, encoding="utf-8")
    return dest


def expected_text(tokens: int) -> str:
    """The exact text the pacer streams for ``tokens`` output tokens."""
    import runpy

    return runpy.run_path(str(PACER / "1" / "pacer_text.py"))["text"](tokens)


def serve(models: dict[str, dict[str, object]], workdir: Path):  # noqa: ANN201 - a TritonServer
    """A started, ready tritonserver over a fresh pacer repository (use as a context manager)."""
    from console.core.tritonserver import Ports, TritonServer, free_ports

    repo = make_repository(Path(workdir) / "repo", models)
    return TritonServer(repo, Ports(*free_ports(3)), log_file=Path(workdir) / "tritonserver.log")


def machine() -> str:
    """One line naming the machine, for docs/benchmarks.md."""
    import os
    import platform

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{platform.node()}: {os.cpu_count()} CPUs ({usable} usable), {platform.machine()}, "
            f"Python {platform.python_version()}, load {os.getloadavg()[0]:.2f}")
