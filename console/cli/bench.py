"""`triton-console bench`: a concurrency sweep against one or both models (genai-perf metrics)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.cli._sampling import add_sampling_flags, sampling_from_args
from console.core.config import Config


def _levels(text: str) -> list[int]:
    try:
        levels = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not levels or any(level < 1 for level in levels):
        raise argparse.ArgumentTypeError("concurrency levels must be whole numbers >= 1")
    return levels


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="benchmark a concurrency sweep (TTFT, ITL, e2e, throughput)",
        description="Closed-loop concurrency sweep against one or both models with genai-perf's metric "
        "definitions: TTFT, ITL = (e2e - TTFT)/(tokens - 1), e2e; percentiles, requests/s, output tokens/s.",
    )
    parser.add_argument("--model", "-m", action="append", metavar="NAME", help="model to bench (repeat for both; default: triton.models)")
    parser.add_argument("--concurrency", type=_levels, default=[1, 4, 16, 64], metavar="LIST", help="levels, e.g. 1,4,16,64 (default)")
    parser.add_argument("--requests", type=int, metavar="N", help="requests per level (default: max(16, 2 x concurrency))")
    parser.add_argument("--prompt", metavar="TEXT", help="the prompt every request sends")
    parser.add_argument("--url", metavar="HOST:PORT", help="Triton gRPC endpoint (default: triton.url)")
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds to wait for each response")
    parser.add_argument("--json", action="store_true", help="print the report as JSON on stdout (no table, no plot)")
    parser.add_argument("--no-plot", action="store_true", help="table only")
    parser.add_argument("--output", type=Path, metavar="FILE", help="also save the JSON report here (default: data dir/bench/)")
    add_sampling_flags(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    import asyncio
    import datetime as dt
    import json

    from console.core import paths
    from console.core.bench import DEFAULT_PROMPT, render_plot, render_table, report_json, sweep
    from console.core.streaming import TritonStreamClient

    try:
        sampling = sampling_from_args(args)
    except ValueError as exc:
        print(f"triton-console bench: {exc}", file=sys.stderr)
        return 2
    models = args.model or list(cfg.triton.models)
    if not models:
        print("triton-console bench: no --model and no triton.models configured", file=sys.stderr)
        return 2
    url = args.url or cfg.triton.url
    prompt = args.prompt or DEFAULT_PROMPT
    levels = []

    async def go() -> None:
        client = TritonStreamClient(url, timeout_s=args.timeout or cfg.triton.timeout_s)
        try:
            async for level in sweep(client, models, args.concurrency, args.requests, prompt, sampling):
                levels.append(level)
                if not args.json:
                    s = level.summary
                    print(f"  {level.model} @ {level.concurrency}: {s.requests - s.failures}/{s.requests} ok, "
                          f"{s.output_tokens_per_s:.1f} tok/s", file=sys.stderr)
        finally:
            await client.close()

    if not args.json:
        print(f"bench {', '.join(models)} at {url}: concurrency {args.concurrency}", file=sys.stderr)
    asyncio.run(go())
    report = report_json(url, levels, prompt, sampling, args.concurrency)
    out = args.output or paths.ensure_dir(paths.data_dir() / "bench") / f"bench-{dt.datetime.now():%Y%m%d-%H%M%S}.json"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    except OSError as exc:
        print(f"triton-console bench: cannot write {out}: {exc}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render_table(levels))
        if not args.no_plot:
            print(render_plot(levels, color=sys.stdout.isatty()))
        print(f"report saved to {out}")
    failures = sum(level.summary.failures for level in levels)
    if failures:
        errors = sorted({e for level in levels for e in level.errors})
        print(f"triton-console bench: {failures} requests failed ({'; '.join(errors)[:400]})", file=sys.stderr)
        return 1
    return 0
