"""`triton-console resume`: scale Triton back after `pause` (see console/cli/pause.py)."""

from __future__ import annotations

import argparse

from console.cli.pause import add_arguments, run_resume


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "resume",
        help="scale Triton back to its replicas after `pause`",
        description="Restore the replica count `pause` remembered (else the HPA minimum); Karpenter launches a GPU node.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run_resume)
