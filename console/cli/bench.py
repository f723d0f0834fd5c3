"""`triton-console bench`: Benchmark a concurrency sweep."""

from __future__ import annotations

from console.cli._unbuilt import register_unbuilt


def register(subparsers) -> None:
    register_unbuilt(subparsers, "bench", "Benchmark a concurrency sweep", "the chat issue")
