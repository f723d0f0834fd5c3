"""Finding the real helm binary for chart tests (CI: scripts/tools.sh puts it in .cache/bin)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def find_helm() -> str | None:
    for candidate in (shutil.which("helm"), REPO / ".cache" / "bin" / "helm"):
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    return None
