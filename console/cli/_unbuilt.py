"""A subcommand whose job is not built yet says so plainly and exits non-zero."""

from __future__ import annotations

import argparse
import sys

from console.core.config import Config


def register_unbuilt(subparsers: argparse._SubParsersAction, name: str, summary: str, issue: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=f"{summary} (not built yet)", description=f"{summary}. Not built yet: {issue}.")

    def run(args: argparse.Namespace, cfg: Config) -> int:
        print(f"triton-console {name}: not built yet ({issue}).", file=sys.stderr)
        return 3

    parser.set_defaults(func=run)
    return parser
