"""The `triton-console` command line.

With no subcommand it opens the Textual app. Each subcommand runs one job headless (it never
opens the TUI) and lives in its own module under ``console/cli/`` with a ``register(subparsers)``
function; this module only wires them together.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from console import __version__
from console.core import config as config_mod
from console.core.secrets import SecretFilter

# Subcommand modules, in the order `--help` lists them.
COMMANDS = ("local", "status", "chat", "bench", "metrics", "provision", "teardown", "pause", "resume", "config")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="triton-console",
        description="Operations console for Triton Inference Server + vLLM on EKS. "
        "Without a subcommand it opens the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"triton-console {__version__}")
    parser.add_argument("--config", metavar="FILE", help="config file (default: $XDG_CONFIG_HOME/triton-console/config.toml)")
    parser.add_argument("--url", dest="triton_url", metavar="HOST:PORT", help="Triton gRPC endpoint for the app")
    parser.add_argument(
        "--local", action="store_true", help="start the local Triton stack (as `triton-console local`), open the app on it, stop it on exit"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug output to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"console.cli.{name}").register(subparsers)
    return parser


def setup_logging(verbose: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SecretFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, handlers=[handler])


def load_config(args: argparse.Namespace) -> config_mod.Config:
    from pathlib import Path

    cfg = config_mod.load(Path(args.config) if getattr(args, "config", None) else None)
    if getattr(args, "triton_url", None):
        cfg.triton.url = args.triton_url
    return cfg


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        cfg = load_config(args)
    except config_mod.ConfigError as exc:
        print(f"triton-console: config error: {exc}", file=sys.stderr)
        return 2
    if args.command is None:
        if args.local:
            from console.cli.local import run_app_on_local_stack

            return run_app_on_local_stack(args, cfg)
        from console.tui.app import run_app  # textual only loads for the TUI

        return run_app(cfg)
    try:
        return int(args.func(args, cfg) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
