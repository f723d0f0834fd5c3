"""`triton-console config`: print the effective configuration and where it came from."""

from __future__ import annotations

import argparse
import json

from console.core import config as config_mod
from console.core import paths


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "config",
        help="show the effective configuration",
        description="Print the effective configuration: defaults, then the config file, then "
        "TRITON_CONSOLE_<SECTION>_<KEY> environment overrides.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of TOML")
    parser.add_argument("--path", action="store_true", help="print only the config file path")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, cfg: config_mod.Config) -> int:
    if args.path:
        print(paths.config_file())
    elif args.json:
        print(json.dumps({"source": cfg.source, **cfg.as_dict()}, indent=2))
    else:
        print(f"# source: {cfg.source}")
        print(config_mod.render_toml(cfg), end="")
    return 0
