"""`triton-console metrics`: Print one serving-metrics snapshot."""

from __future__ import annotations

from console.cli._unbuilt import register_unbuilt


def register(subparsers) -> None:
    register_unbuilt(subparsers, "metrics", "Print one serving-metrics snapshot", "the metrics issue")
