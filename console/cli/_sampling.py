"""Sampling flags shared by `chat` and `bench` (stdlib only at import time)."""

from __future__ import annotations

import argparse


def add_sampling_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("sampling (default: the model's config.pbtxt)")
    group.add_argument("--system-prompt", default="", metavar="TEXT", help="system message sent before each prompt")
    group.add_argument("--temperature", default="", metavar="T", help="0..2")
    group.add_argument("--top-p", default="", metavar="P", help="0..1")
    group.add_argument("--max-tokens", default="", metavar="N", help="maximum output tokens")


def sampling_from_args(args: argparse.Namespace):  # noqa: ANN201 - console.core.completion.Sampling
    """Raises ValueError naming the bad flag."""
    from console.core.completion import Sampling

    return Sampling.parse(args.system_prompt, args.temperature, args.top_p, args.max_tokens)
