"""`triton-console chat`: the batch prompt client (the seed's triton-client.py, done right).

Same flags as the seed (--model-name, --input-prompts, --results-file) plus --url,
--concurrency, --stream/--no-stream, sampling flags and --json. Exit status 1 names the failed
prompts; 2 is bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from console.cli._sampling import add_sampling_flags, sampling_from_args
from console.core.config import Config

SAMPLE_PROMPTS = Path(__file__).resolve().parents[1] / "data" / "prompts.txt"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "chat",
        help="run a prompts file against a model (batch client)",
        description="Send every prompt of a file to one model (as chat messages, so the model's own "
        "chat template applies) and write each response with its timings, then a summary.",
    )
    parser.add_argument("--model-name", metavar="NAME", help="model to ask (default: the first of triton.models)")
    parser.add_argument("--input-prompts", type=Path, default=SAMPLE_PROMPTS, metavar="FILE", help="one prompt per line (default: the shipped sample)")
    parser.add_argument("--results-file", type=Path, metavar="FILE", help="where results go (default: <model>_results.txt)")
    parser.add_argument("--url", metavar="HOST:PORT", help="Triton gRPC endpoint (default: triton.url)")
    parser.add_argument("--concurrency", type=int, default=4, metavar="N", help="requests in flight at once (default 4)")
    parser.add_argument("--stream", action=argparse.BooleanOptionalAction, default=True, help="stream tokens (default) or ask for whole answers")
    parser.add_argument("--timeout", type=float, metavar="S", help="seconds to wait for each response (default: triton.timeout_s)")
    parser.add_argument("--json", action="store_true", help="print the results and summary as JSON on stdout")
    add_sampling_flags(parser)
    parser.set_defaults(func=run)


class Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total, self.enabled, self.done, self.failed = total, enabled, 0, 0

    def step(self, ok: bool) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        if self.enabled:
            width = 30
            filled = int(width * self.done / max(self.total, 1))
            bar = "█" * filled + "·" * (width - filled)
            sys.stderr.write(f"\r{bar} {self.done}/{self.total}  failed {self.failed}")
            if self.done == self.total:
                sys.stderr.write("\n")
            sys.stderr.flush()


def run(args: argparse.Namespace, cfg: Config) -> int:
    import asyncio
    import json

    from console.core.batch import PromptsError, load_prompts, render_results, render_summary, result_json, run_batch
    from console.core.streaming import TritonStreamClient

    try:
        sampling = sampling_from_args(args)
        prompts = load_prompts(args.input_prompts)
    except (ValueError, PromptsError) as exc:
        print(f"triton-console chat: {exc}", file=sys.stderr)
        return 2
    if args.concurrency < 1:
        print("triton-console chat: --concurrency must be at least 1", file=sys.stderr)
        return 2
    model = args.model_name or (cfg.triton.models[0] if cfg.triton.models else "")
    if not model:
        print("triton-console chat: no --model-name and no triton.models configured", file=sys.stderr)
        return 2
    url = args.url or cfg.triton.url
    results_file: Path = args.results_file or Path(f"{model}_results.txt")
    if not args.json:
        print(f"Loading inputs from `{args.input_prompts}`: {len(prompts)} prompts for {model} at {url}", file=sys.stderr)
    progress = Progress(len(prompts), enabled=sys.stderr.isatty())

    async def go():  # noqa: ANN202
        client = TritonStreamClient(url, timeout_s=args.timeout or cfg.triton.timeout_s)
        try:
            return await run_batch(
                client, model, prompts, sampling, args.concurrency, args.stream,
                on_done=lambda _i, c: progress.step(c.ok), url=url,
            )
        finally:
            await client.close()

    result = asyncio.run(go())
    try:
        results_file.parent.mkdir(parents=True, exist_ok=True)
        results_file.write_text(render_results(result), encoding="utf-8")
    except OSError as exc:
        print(f"triton-console chat: cannot write {results_file}: {exc}", file=sys.stderr)
        print(render_results(result))  # the answers are not lost
        return 2
    if args.json:
        print(json.dumps(result_json(result) | {"results_file": str(results_file)}, indent=2, ensure_ascii=False))
    else:
        print(render_summary(result))
        print(f"results written to {results_file}")
    if result.failed:
        reasons = sorted({f"{c.error_kind}: {c.error}" for c in result.completions if not c.ok})
        print(
            f"triton-console chat: {len(result.failed)} of {len(prompts)} prompts failed: "
            f"prompt {', '.join(map(str, result.failed))} ({'; '.join(reasons)[:400]})",
            file=sys.stderr,
        )
        return 1
    return 0
