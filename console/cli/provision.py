"""`triton-console provision`: preflight, then the staged terraform apply, headless.

Without ``--yes`` it shows what it will create and what that costs, and asks first. A failed
or interrupted run is resumed from its stage by running the command again.
"""

from __future__ import annotations

import argparse
import sys

from console.core.config import Config

STAGE_CHOICES = ("vpc", "eks", "rest")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "provision",
        help="create the EKS cluster and the serving stack (terraform)",
        description="Check prerequisites, then run terraform in stages (vpc, eks, the rest) from the "
        "repository's terraform/ directory, with progress and a log file. A failed run resumes from "
        "its stage when you run this again. Needs HF_TOKEN (or TF_VAR_huggingface_token).",
    )
    parser.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation (scripts)")
    parser.add_argument("--dry-run", action="store_true", help="run terraform plan only; change nothing")
    parser.add_argument("--from-stage", choices=STAGE_CHOICES, help="start at this stage (default: resume where the last run stopped)")
    parser.add_argument("--restart", action="store_true", help="ignore a failed earlier run and start at the first stage")
    parser.add_argument("--skip-preflight", action="store_true", help="do not stop when a preflight check fails")
    parser.add_argument("--region", help="AWS region (default: aws.region from the config)")
    parser.add_argument("--name", help="cluster name (default: aws.cluster from the config)")
    parser.set_defaults(func=run)


def _print_checks(checks) -> None:
    from console.core.provision.format import STATUS_MARKS

    width = max(len(c.title) for c in checks)
    for c in checks:
        print(f"  {STATUS_MARKS[c.status]} {c.title:<{width}}  {c.detail}")
        if c.fix and c.status in ("fail", "warn"):
            print(f"    {'':<{width}}  fix: {c.fix}")


def run(args: argparse.Namespace, cfg: Config) -> int:
    import asyncio
    import dataclasses

    from console.core import secrets
    from console.core.provision import apply
    from console.core.provision.cost import estimate
    from console.core.provision.format import cost_lines
    from console.core.provision.preflight import Preflight, all_passed
    from console.core.provision.settings import ProvisionSettings

    settings = ProvisionSettings.from_config(cfg)
    if args.region or args.name:
        settings = dataclasses.replace(settings, region=args.region or settings.region, name=args.name or settings.name)

    print(f"Preflight for {settings.name} in {settings.region}:")
    checks = Preflight(settings).run()
    _print_checks(checks)
    if not all_passed(checks) and not args.skip_preflight:
        print("Preflight failed: fix the items marked ✘ and run again (or --skip-preflight).", file=sys.stderr)
        return 1
    token = secrets.hf_token()
    if not token:  # the plan needs it too: terraform validates the variable
        print("HF token missing or a placeholder: export HF_TOKEN=hf_...", file=sys.stderr)
        return 1

    start = args.from_stage
    if start is None and not args.restart:
        start = apply.resume_stage(settings)
        if start:
            print(f"Resuming from stage {start!r}: the last run stopped there (--restart to start over).")
    est = estimate(settings)
    if not args.dry_run:
        print("\nStages:")
        for stage in apply.STAGES[apply.STAGE_KEYS.index(start or "vpc"):]:
            print(f"  {stage.key:<5} {stage.title}")
        print("Cost once running:")
        print("\n".join(cost_lines(est)))
        if not args.yes:
            if not sys.stdin.isatty():
                print("Refusing to create billable resources without confirmation: pass --yes.", file=sys.stderr)
                return 2
            answer = input("Create these resources (billing starts as they come up)? [y/N] ").strip().lower()
            if answer not in ("y", "yes"):
                print("Nothing was created.")
                return 1
    return asyncio.run(_drive(apply.Provisioner(settings, token), start, args.dry_run, cfg))


async def _drive(provisioner, start, dry_run: bool, cfg: Config) -> int:
    import asyncio
    import signal
    from pathlib import Path

    from console.core import terraform as tf
    from console.core.provision import apply
    from console.core.provision.format import progress_line

    loop = asyncio.get_running_loop()

    def on_interrupt() -> None:
        if provisioner.cancel():
            print("\nStopping after the operations in flight (terraform is saving its state)...", file=sys.stderr)
        else:
            print("\nStill stopping; waiting for terraform to exit (a second interrupt would risk its state).", file=sys.stderr)

    try:
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    except (NotImplementedError, RuntimeError):
        pass
    kubeconfig = Path(cfg.kube.kubeconfig).expanduser() if cfg.kube.kubeconfig else None
    end = None
    async for item in provisioner.run(start=start, dry_run=dry_run, kubeconfig_path=kubeconfig):
        if isinstance(item, apply.StageStarted):
            print(f"\n== {item.stage.title}: {item.command}")
        elif isinstance(item, apply.StageEvent):
            event = item.event
            if isinstance(event, (tf.ApplyComplete, tf.ApplyErrored)):
                print(f"  [{progress_line(item.stage.key, item.progress)}] {event.message}")
            elif isinstance(event, tf.ApplyProgress) and (event.elapsed_s or 0) % 60 == 0 and event.elapsed_s:
                print(f"  {event.message}")
            elif isinstance(event, tf.Diagnostic):
                print("  " + event.describe().replace("\n", "\n  "), file=sys.stderr if event.severity == "error" else sys.stdout)
            elif isinstance(event, tf.ChangeSummary) or (isinstance(event, tf.Log) and item.stage.key == "init"):
                print(f"  {event.message}")
        elif isinstance(item, apply.StageFinished):
            state = "done" if item.ok else "FAILED"
            print(f"== {item.stage.key} {state} ({progress_line(item.stage.key, item.progress)})")
        elif isinstance(item, apply.RunFinished):
            end = item
    try:
        loop.remove_signal_handler(signal.SIGINT)
    except (NotImplementedError, RuntimeError):
        pass
    assert end is not None
    print(f"\nLog: {end.log_path}")
    if not end.ok:
        print(f"Provisioning {end.message}.", file=sys.stderr)
        if end.failed_stage in apply.STAGE_KEYS:
            print(f"Retry: triton-console provision   (resumes from stage {end.failed_stage!r})", file=sys.stderr)
        return 1
    if end.dry_run:
        print("Plan finished; nothing was changed.")
        return 0
    print("Provisioned.")
    for name, value in end.outputs.items():
        print(f"  {name} = {value}")
    if end.kubeconfig:
        print(f"  {end.kubeconfig}")
    print("Next: triton-console status   (Triton downloads the model weights on first start)")
    return 0
