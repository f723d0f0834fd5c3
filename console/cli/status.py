"""`triton-console status`: Print the cluster picture."""

from __future__ import annotations

from console.cli._unbuilt import register_unbuilt


def register(subparsers) -> None:
    register_unbuilt(subparsers, "status", "Print the cluster picture", "the cluster-view issue")
