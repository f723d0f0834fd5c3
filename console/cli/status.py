"""`triton-console status`: the cluster picture once, live with --watch, or as JSON for scripts."""

from __future__ import annotations

import argparse
import json
import sys
import time

from console.core.config import Config


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--kubeconfig/--context or --cluster/--region, and --namespace (shared with the app)."""
    parser.add_argument("--kubeconfig", metavar="FILE", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--cluster", help="EKS cluster name: connect with boto3 (describe_cluster + token), no kubeconfig")
    parser.add_argument("--region", help="AWS region of --cluster (default: config aws.region)")
    parser.add_argument("--namespace", "-n", help="serving namespace (default: config kube.namespace)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "status", help="print the cluster picture (nodes, pods, HPA, events)",
        description="Print what the cluster runs: nodes (GPUs, capacity type, pool, $/h), the serving "
        "namespace's pods, deployment, HPA (metrics vs targets, conditions), Karpenter pools and recent events.")
    add_target_arguments(parser)
    parser.add_argument("--watch", "-w", action="store_true", help="keep it live (Ctrl-C to stop)")
    parser.add_argument("--json", action="store_true", help="JSON (with --watch: one JSON document per line)")
    parser.add_argument("--interval", type=float, default=1.0, help="with --watch, at most one redraw per INTERVAL s")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds to wait for the first full listing")
    parser.set_defaults(func=run)


def target_from(args: argparse.Namespace, cfg: Config):  # noqa: ANN201 - console.core.kube.connection.Target
    from console.core.kube.connection import Target

    if getattr(args, "kubeconfig", None):
        cfg.kube.kubeconfig = args.kubeconfig
    if getattr(args, "context", None):
        cfg.kube.context = args.context
    if getattr(args, "namespace", None):
        cfg.kube.namespace = args.namespace
    if getattr(args, "region", None):
        cfg.aws.region = args.region
    cluster = getattr(args, "cluster", None) or ""
    if cluster:
        cfg.aws.cluster = cluster
    return Target(kubeconfig=cfg.kube.kubeconfig, context=cfg.kube.context, cluster=cluster,
                  region=cfg.aws.region if cluster else "", profile=cfg.aws.profile)


def run(args: argparse.Namespace, cfg: Config) -> int:
    import threading

    from console.core.kube.connection import KubeConnectError, connect
    from console.core.kube.monitor import ClusterMonitor

    target = target_from(args, cfg)
    try:
        connection = connect(target)
    except KubeConnectError as exc:
        print(f"triton-console status: {exc}", file=sys.stderr)
        return 1
    changed = threading.Event()
    monitor = ClusterMonitor(connection, cfg.kube.namespace, on_change=lambda _what: changed.set(),
                             region=cfg.aws.region, request_timeout_s=min(30.0, args.timeout))
    monitor.start()
    try:
        monitor.wait_synced(args.timeout)
        monitor.picture()  # asks for prices of the instance types seen
        monitor.prices.wait()
        picture = monitor.picture()
        if not monitor.watchers["nodes"].synced.is_set() and not monitor.watchers["pods"].synced.is_set():
            print(f"triton-console status: cannot list the cluster {connection.label} ({connection.server}): "
                  f"{picture.watches.get('nodes')}", file=sys.stderr)
            return 1
        _emit(picture, args, first=True)
        while args.watch:
            changed.wait()
            time.sleep(max(0.0, args.interval))
            changed.clear()
            _emit(monitor.picture(), args, first=False)
        return 0
    finally:
        monitor.stop()
        connection.close()


def _emit(picture, args: argparse.Namespace, first: bool) -> None:  # noqa: ANN001 - ClusterPicture
    from console.core.kube.report import render

    if args.json:
        text = json.dumps(picture.to_json(), indent=None if args.watch else 2)
    else:
        text = render(picture)
        if args.watch and sys.stdout.isatty():
            text = "\x1b[H\x1b[2J" + text
        elif args.watch and not first:
            text = "\n" + text
    print(text, flush=True)
