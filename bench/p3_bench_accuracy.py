"""P3: does `triton-console bench` report the pacer's configured TTFT and ITL (within 2%)?

Runs the real `bench` command (in-process, --json) against a pacer entry with a known TTFT and
token rate, one level at a time (1, 4, 16, 64 streams, max(16, 8 x C) requests each), then
compares the reported p50 TTFT and p50 ITL with the truth. A second entry with TTFT 0 and a
very high rate measures the floor: what Triton, gRPC and the Python stub add to every request
on this machine, which no client can subtract.

    .venv/bin/python bench/p3_bench_accuracy.py [--ttft-ms 100] [--rate 50] [--tokens 32]
        [--length-jitter 16] [--instances 1] [--rounds 8] [--client-cpus 0,1]

The truth requests end after 32 - 0..16 tokens (the pacer's seeded ``length_jitter``), as
answers of different lengths do. With equal lengths (``--length-jitter 0``) every closed-loop
stream ends and sends its next request at the same moment, so the requests reach the pacer's
stub in bursts of C and queue there, a cost real traffic does not have (docs/benchmarks.md).
``--rounds 0`` runs the whole sweep as one `bench` call with bench's own request counts;
``--instances`` runs that many pacer stubs (processes). ``--client-cpus 0,1`` runs `bench` on
those CPUs and the server on the others (bench/cpu_split.py).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cpu_split  # noqa: E402
from bench.pacer import machine, serve  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ttft-ms", type=float, default=100.0)
    parser.add_argument("--rate", type=float, default=50.0, help="tokens/s (ITL truth = 1/rate)")
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--concurrency", default="1,4,16,64")
    parser.add_argument("--length-jitter", type=int, default=16, help="truth requests end after tokens - 0..J (0: lockstep)")
    parser.add_argument("--instances", type=int, default=1, help="pacer stub processes per entry")
    parser.add_argument("--rounds", type=int, default=8,
                        help="run each level alone with max(16, R x C) requests (0: one sweep, bench's max(16, 2 x C))")
    parser.add_argument("--client-cpus", default="", help="`bench` on these CPUs, the server on the others (bench/cpu_split.py)")
    args = parser.parse_args()
    from console import cli

    models = {
        "truth": {"ttft_ms": args.ttft_ms, "tokens_per_second": args.rate, "max_tokens": args.tokens,
                  "length_jitter": args.length_jitter, "instances": args.instances},
        "floor": {"ttft_ms": 0, "tokens_per_second": 100000, "max_tokens": 2, "instances": args.instances},
    }
    sweeps = ([[level] for level in args.concurrency.split(",")] if args.rounds else [args.concurrency.split(",")])
    levels, codes, commands = [], [], []
    client = cpu_split.parse(args.client_cpus)
    cpu_split.server_side(client)
    with tempfile.TemporaryDirectory() as tmp, serve(models, Path(tmp)) as server:
        cpu_split.client_side(client)
        for sweep in sweeps:
            requests = ["--requests", str(max(16, args.rounds * int(sweep[0])))] if args.rounds else []
            command = ["bench", "-m", "truth", "-m", "floor", "--concurrency", ",".join(sweep), *requests,
                       "--url", server.grpc_url, "--json", "--output", str(Path(tmp) / "bench.json")]
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                codes.append(cli.main(command))
            levels += json.loads(out.getvalue())["levels"]
            commands.append(" ".join("URL" if i and command[i - 1] == "--url" else arg for i, arg in enumerate(command[:-2])))
    truth_itl = 1000.0 / args.rate
    print(f"machine: {machine()}")
    if client:
        print(cpu_split.describe(client))
    for command, code in zip(commands, codes):
        print(f"command: triton-console {command}   (exit {code})")
    print(f"truth: TTFT {args.ttft_ms:.1f} ms, ITL {truth_itl:.2f} ms, {args.tokens} tokens "
          f"(length jitter {args.length_jitter}), {args.instances} pacer instance(s) per entry")
    print(f"{'conc':>5}{'TTFT p50':>10}{'err %':>8}{'ITL p50':>10}{'err %':>8}{'floor TTFT p50':>16}{'req':>6}{'fail':>6}")
    worst = 0.0
    floors = {lv["concurrency"]: lv["ttft_ms"]["p50"] for lv in levels if lv["model"] == "floor"}
    for lv in (lv for lv in levels if lv["model"] == "truth"):
        ttft, itl = lv["ttft_ms"]["p50"], lv["itl_ms"]["p50"]
        e_ttft = 100 * (ttft - args.ttft_ms) / args.ttft_ms
        e_itl = 100 * (itl - truth_itl) / truth_itl
        worst = max(worst, abs(e_ttft), abs(e_itl))
        print(f"{lv['concurrency']:>5}{ttft:>10.2f}{e_ttft:>8.2f}{itl:>10.3f}{e_itl:>8.2f}{floors.get(lv['concurrency'], 0):>16.2f}{lv['requests']:>6}{lv['failures']:>6}")
    print(f"worst error: {worst:.2f}%   target <= 2%: {'MET' if worst <= 2 else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
