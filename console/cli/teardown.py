"""`triton-console teardown`: plan, confirm by typing the cluster name, tear down, verify, report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from console.core.config import Config


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "teardown",
        help="tear the cluster down safely and verify nothing keeps billing",
        description="Show the plan (every step, every AWS resource with its $/h), ask for the cluster name, then delete "
        "LoadBalancer Services/Ingresses, PVCs, Karpenter NodePools, run terraform destroy (add-ons → eks → vpc → rest) "
        "and sweep every AWS resource tagged to the cluster. Rerun after a failure to resume.",
    )
    parser.add_argument("--cluster", help="EKS cluster name (default: [aws] cluster)")
    parser.add_argument("--region", help="AWS region (default: [aws] region)")
    parser.add_argument("--profile", help="AWS profile (default: [aws] profile)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: [kube] kubeconfig, $KUBECONFIG, ~/.kube/config)")
    parser.add_argument("--context", help="kubeconfig context of this cluster (default: [kube] context)")
    parser.add_argument("--terraform-dir", type=Path, help="terraform working directory (default: <repo>/terraform)")
    parser.add_argument("--dry-run", action="store_true", help="show the plan and stop; nothing is changed")
    parser.add_argument("--yes", action="store_true", help="do not ask for the cluster name (for scripts)")
    parser.add_argument("--json", action="store_true", help="print the plan (with --dry-run) or the report as JSON")
    parser.set_defaults(func=run)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(args: argparse.Namespace, cfg: Config) -> int:
    from console.core.cluster_access import api_client_for_cluster
    from console.core.teardown.plan import Target, make_plan
    from console.core.teardown.run import StageEvent, confirmation_matches, run_teardown

    cluster = (args.cluster or cfg.aws.cluster).strip()
    region = (args.region or cfg.aws.region).strip()
    if not cluster or not region:
        _say("triton-console teardown: a cluster name and a region are needed (--cluster, --region)")
        return 2
    if args.kubeconfig:
        cfg.kube.kubeconfig = args.kubeconfig
    if args.context:
        cfg.kube.context = args.context
    api, why = api_client_for_cluster(cfg, cluster, region)
    target = Target(cluster, region, profile=args.profile or cfg.aws.profile, api_client=api, kube_note=why)
    if args.terraform_dir:
        target.terraform_dir = args.terraform_dir
    _say(f"Planning the teardown of {cluster} in {region} (read only)…")
    try:
        plan = make_plan(target)
    except Exception as exc:  # noqa: BLE001 - e.g. no AWS credentials: say so, change nothing
        _say(f"triton-console teardown: cannot make a plan: {type(exc).__name__}: {exc}")
        return 2
    if args.json and args.dry_run:
        print(json.dumps(plan.as_dict(), indent=2))
    else:
        print(plan.render_text(), file=sys.stderr if args.json else sys.stdout, flush=True)
    if args.dry_run:
        return 0
    if plan.aws_unreadable:
        _say(f"Cannot read AWS ({next(iter(plan.inventory.errors.values()))}): nothing could be swept or verified. Nothing was changed.")
        return 2
    if not args.yes:
        if not sys.stdin.isatty():
            _say("Not confirmed: stdin is not a terminal. Pass --yes to tear down from a script. Nothing was changed.")
            return 2
        try:
            typed = input(f"Type the cluster name ({cluster}) to tear it down: ")
        except EOFError:
            typed = ""
        if not confirmation_matches(typed, cluster):
            _say("Not confirmed. Nothing was changed.")
            return 1

    def show(event: StageEvent) -> None:
        marks = {"started": "▶", "done": "✓", "skipped": "–", "failed": "✗", "note": " "}
        _say(f"{marks.get(event.status, ' ')} [{event.stage}] {event.status if event.status != 'note' else ''} {event.text}".rstrip())

    report = run_teardown(plan, target, show)
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(report.render_text())
        print(f"Report saved to {report.path}")
    return 0 if report.nothing_left else 1
