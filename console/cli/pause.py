"""`triton-console pause` / `resume`: stop GPU spend by scaling Triton to zero, and back."""

from __future__ import annotations

import argparse
import sys
import time

from console.core.config import Config


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="do not ask for confirmation (for scripts)")
    parser.add_argument("--no-wait", action="store_true", help="return once the Deployment is scaled; do not watch the GPU nodes")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to watch the GPU nodes (default 900)")
    parser.add_argument("--region", help="AWS region for prices (default: [aws] region)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "pause",
        help="scale Triton to zero so Karpenter removes the GPU node",
        description="Scale the Triton Deployment to zero (the replica count is remembered) and watch Karpenter remove the "
        "GPU node. The control plane, core nodes and NAT keep billing; `triton-console teardown` removes everything.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run_pause)


def _say(text: str) -> None:
    print(text, flush=True)


def _confirm(question: str, assume_yes: bool) -> bool:
    if assume_yes:
        return True
    if not sys.stdin.isatty():
        print("Not confirmed: stdin is not a terminal; pass --yes. Nothing was changed.", file=sys.stderr)
        return False
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def _connect(cfg: Config):  # noqa: ANN202
    from console.core.cluster_access import api_client_or_reason

    api, why = api_client_or_reason(cfg)
    if api is None:
        print(f"Cannot reach the cluster: {why}", file=sys.stderr)
    return api


def _watch(api, region: str, want_gone: bool, timeout: float) -> int:  # noqa: ANN001
    from console.core.pause import watch_gpu_nodes

    started, last = time.monotonic(), None
    try:
        for nodes in watch_gpu_nodes(api, region, want_gone, timeout_s=timeout):
            names = [f"{n.name} ({n.instance_type}, ${n.hourly or 0:.3f}/h)" for n in nodes]
            if names != last:
                _say(f"  {time.monotonic() - started:5.0f}s  GPU nodes: {', '.join(names) or 'none'}")
                last = names
    except TimeoutError as exc:
        print(f"  {exc}", file=sys.stderr)
        return 1
    return 0


def _state(args: argparse.Namespace, cfg: Config):  # noqa: ANN202 - (api, region, PauseState) or None
    """Connect and read the Deployment and GPU nodes; None (after saying why) when that fails."""
    from console.core.pause import PauseError, pause_state

    api = _connect(cfg)
    if api is None:
        return None
    region = args.region or cfg.aws.region
    try:
        return api, region, pause_state(api, cfg.kube.namespace, cfg.kube.release, region)
    except PauseError as exc:
        print(str(exc), file=sys.stderr)
        return None


def _finish(args: argparse.Namespace, api, region: str, want_gone: bool, waiting: str) -> int:  # noqa: ANN001
    if args.no_wait:
        return 0
    _say(waiting)
    return _watch(api, region, want_gone, args.timeout)


def run_pause(args: argparse.Namespace, cfg: Config) -> int:
    from console.core.pause import pause

    loaded = _state(args, cfg)
    if loaded is None:
        return 2
    api, region, state = loaded
    where = f"{cfg.kube.namespace}/{cfg.kube.release}"
    if state.paused:
        _say(f"Already paused ({where} has 0 replicas). GPU nodes now: {len(state.gpu_nodes)}.")
        return 0
    _say(state.describe_pause())
    if not _confirm("Pause?", args.yes):
        return 1
    previous = pause(api, cfg.kube.namespace, cfg.kube.release)
    _say(f"Scaled {where} from {previous} to 0. `triton-console resume` brings it back.")
    code = _finish(args, api, region, True, "Waiting for Karpenter to remove the GPU node(s)…")
    if code == 0 and not args.no_wait:
        _say(f"Paused. Saving ${state.gpu_hourly:.3f}/h.")
    return code


def run_resume(args: argparse.Namespace, cfg: Config) -> int:
    from console.core.pause import resume

    loaded = _state(args, cfg)
    if loaded is None:
        return 2
    api, region, state = loaded
    where = f"{cfg.kube.namespace}/{cfg.kube.release}"
    if not state.paused:
        _say(f"Not paused: {where} has {state.replicas} replica(s).")
        return 0
    _say(f"Scale {where} from 0 to {state.recorded or 'the HPA minimum'}; Karpenter launches a GPU node (billing starts again).")
    if not _confirm("Resume?", args.yes):
        return 1
    _say(f"Scaled to {resume(api, cfg.kube.namespace, cfg.kube.release)}.")
    return _finish(args, api, region, False, "Waiting for a GPU node…")
