"""Where triton-console keeps its files on a user's machine (XDG base directories)."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "triton-console"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var, "").strip()
    return Path(value) if value else Path.home() / fallback


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config") / APP_NAME


def config_file() -> Path:
    return config_dir() / "config.toml"


def data_dir() -> Path:
    """Transcripts, provisioning/teardown logs and bench results live here."""
    return _xdg("XDG_DATA_HOME", ".local/share") / APP_NAME


def cache_dir() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache") / APP_NAME


def repo_root() -> Path:
    """The checkout this package runs from (model_repository/, terraform/, helm/ live there)."""
    return Path(__file__).resolve().parents[2]


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
