"""`triton-console metrics`: print one serving-metrics snapshot (text or JSON)."""

from __future__ import annotations

import argparse
import json
import sys

from console.core.config import Config


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "metrics",
        help="print one serving-metrics snapshot",
        description="Print one snapshot of serving metrics: requests, queue/compute time, TTFT, "
        "time per output token, tokens/s per model, GPU power/utilization/memory. Metrics the "
        "server does not export are shown as absent, never as zero.",
    )
    parser.add_argument("--metrics-url", metavar="URL", help="Triton metrics endpoint (default: config triton.metrics_url)")
    parser.add_argument("--prometheus-url", metavar="URL", help="query this Prometheus HTTP API instead when it answers (default: config metrics.prometheus_url)")
    parser.add_argument("--interval", type=float, default=None, metavar="S", help="rates over the last S seconds (0: only since-start values; default 1 for Triton, 60 for Prometheus)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, cfg: Config) -> int:
    from console.core.metrics.report import render_text
    from console.core.metrics.sampler import snapshot
    from console.core.metrics.scrape import MetricsError
    from console.core.metrics.sources import PrometheusSource, choose_source, display_url

    if args.interval is not None and args.interval < 0:
        print("triton-console metrics: --interval must be 0 or more", file=sys.stderr)
        return 2
    prometheus_url = cfg.metrics.prometheus_url if args.prometheus_url is None else args.prometheus_url
    try:
        source = choose_source(args.metrics_url or cfg.triton.metrics_url, prometheus_url, cfg.metrics.prometheus_matchers)
        if prometheus_url and not isinstance(source, PrometheusSource):
            print(f"triton-console metrics: Prometheus at {display_url(prometheus_url)} does not answer; using {source.label}", file=sys.stderr)
        interval = args.interval if args.interval is not None else (60.0 if isinstance(source, PrometheusSource) else 1.0)
        reading = snapshot(source, interval)
    except MetricsError as exc:
        print(f"triton-console metrics: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"source": source.label, **reading.to_dict()}, indent=2))
    else:
        print(render_text(reading, source.label))
    return 0
