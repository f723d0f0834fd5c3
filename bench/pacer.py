"""Model repositories with the pacer test model (bench/models/pacer) under chosen names.

Tests and bench scripts use this to serve two pacer entries (one per chat pane) with their own
rate and TTFT through a real tritonserver.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PACER = Path(__file__).resolve().parent / "models" / "pacer"


def make_repository(dest: Path, models: dict[str, dict[str, object]]) -> Path:
    """Write ``dest/<name>/`` for each model; its dict overrides config.pbtxt parameters
    (tokens_per_second, ttft_ms, max_tokens). Returns ``dest``."""
    dest = Path(dest)
    for name, params in models.items():
        target = dest / name
        shutil.copytree(PACER, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        config = (target / "config.pbtxt").read_text(encoding="utf-8")
        for key, value in params.items():
            old = next((ln for ln in config.splitlines() if f'key: "{key}"' in ln), None)
            new = f'parameters {{ key: "{key}" value: {{ string_value: "{value}" }} }}'
            config = config.replace(old, new) if old else config + new + "\n"
        (target / "config.pbtxt").write_text(config, encoding="utf-8")
    return dest


def expected_text(tokens: int) -> str:
    """The exact text the pacer streams for ``tokens`` output tokens."""
    import runpy

    return runpy.run_path(str(PACER / "1" / "pacer_text.py"))["text"](tokens)
