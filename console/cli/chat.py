"""`triton-console chat`: Batch prompt client."""

from __future__ import annotations

from console.cli._unbuilt import register_unbuilt


def register(subparsers) -> None:
    register_unbuilt(subparsers, "chat", "Batch prompt client", "the chat issue")
