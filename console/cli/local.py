"""`triton-console local`: Start the real local Triton stack."""

from __future__ import annotations

from console.cli._unbuilt import register_unbuilt


def register(subparsers) -> None:
    register_unbuilt(subparsers, "local", "Start the real local Triton stack", "the foundation issue")
