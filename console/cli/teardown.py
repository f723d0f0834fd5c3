"""`triton-console teardown`: Tear the cluster down safely."""

from __future__ import annotations

from console.cli._unbuilt import register_unbuilt


def register(subparsers) -> None:
    register_unbuilt(subparsers, "teardown", "Tear the cluster down safely", "the teardown issue")
