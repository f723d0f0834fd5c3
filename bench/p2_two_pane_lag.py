"""P2: two panes streaming 2,500 tokens/s each: how far the screen lags the stream, and
whether it drops anything.

The real ChatScreen runs headless (``run_test``) against two pacer entries at 2,500 tok/s.
For every delta we record when our client read it from the network (``Delta.t``: the stream
reader process's clock, the machine's one monotonic clock; a delta that merges several holds
the time of the first) and how much text the pane held by then; every time a pane's answer takes new text (its tail or a
freeze, bench/screen_driver.py) we record the time and
the length of the whole answer shown (frozen part + tail), and every time the screen hands a
frame to the terminal (``App._display``, when no ``batch_update`` suppresses it; headless, the
frame is composed but not written).
- Lag in the document: first append completion that covers the delta - its arrival.
- Lag to the painted frame: the first frame drawn after that append - its arrival. This is
  what the operator sees, and what the target is judged on (until 2026-11-30 evening only the
  first was measured; it misses the wait for the next frame and frames held back by a batch).
- The first leg: when the screen's loop handed the delta to the pane's worker - its arrival.
Drops: the pane's final answer source must equal the text the pacer sent.
Target: lag to the painted frame <= 50 ms at p99, nothing dropped. ``--client-cpus 0,1`` runs the
console (and its helper processes) on those CPUs and the server on the others (bench/cpu_split.py).

    .venv/bin/python bench/p2_two_pane_lag.py [--tokens 5000] [--rate 2500] [--rounds 3] [--stalls] [--client-cpus 0,1]
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import cpu_split  # noqa: E402
from bench.loop_stalls import LoopStalls  # noqa: E402
from bench.pacer import expected_text, machine, serve  # noqa: E402
from bench.screen_driver import ask_both, painted_frames, running_chat  # noqa: E402


SETTLE_S = 0.1  # the opening of an answer (mounting its widgets, the first layouts), reported apart


async def client_alone(url: str) -> float:
    """Tokens/s per pane our client reads with no UI at all (the machine's own ceiling)."""
    from console.core.streaming import Delta, TritonStreamClient

    async def one(model: str) -> float:
        client = TritonStreamClient(url)
        tokens = 0
        try:
            async for event in client.stream(model, "stream fast"):
                if isinstance(event, Delta):
                    tokens += event.tokens
                else:
                    return (tokens - 1) / (event.t_end - event.t_first)
        finally:
            await client.close()
        return 0.0

    rates = await asyncio.gather(one("fast-a"), one("fast-b"))
    return sum(rates) / len(rates)


async def run(url: str, tokens: int, rounds: int, stalls: LoopStalls | None = None) -> dict:
    from console.core import stream_process, streaming
    from console.core.latency import percentile

    arrivals: dict[str, list[tuple[float, int, float]]] = {}  # (read by the reader process, text so far, seen by the screen)
    renders: dict[str, list[tuple[float, int]]] = {}
    original_stream = stream_process.ProcessStreamClient.stream

    async def stream(self, model, prompt, sampling=None, **kw):  # noqa: ANN001, ANN202
        total = 0
        async for event in original_stream(self, model, prompt, sampling, **kw):
            if isinstance(event, streaming.Delta):
                total += len(event.text)
                arrivals.setdefault(model, []).append((event.t, total, time.monotonic()))
            yield event

    def appended(answer) -> None:  # noqa: ANN001
        renders.setdefault(answer.view.id or "", []).append((time.monotonic(), len(answer.source)))

    stream_process.ProcessStreamClient.stream = stream
    lags: list[float] = []
    paint_lags: list[float] = []  # to the first frame drawn after the text is in the document
    to_screen: list[float] = []  # reader process -> the screen's loop hands the delta to the pane's worker
    dropped = 0
    rate_seen: list[float] = []
    frames_per_s: list[float] = []
    opening: list[float] = []  # painted lags of deltas in the answers' first SETTLE_S
    settled: list[float] = []  # and after it
    with painted_frames() as paints:  # when the screen handed a frame to the terminal (headless: would have)
        async with running_chat(url, ["fast-a", "fast-b"], (160, 48), appended) as pilot:
            screen = pilot.app.screen
            for _ in range(rounds):
                arrivals.clear()
                renders.clear()
                paints.clear()
                with stalls or contextlib.nullcontext():
                    await ask_both(pilot, "stream fast")
                first = min(arrivals[model][0][0] for model in arrivals)
                last = max(arrivals[model][-1][0] for model in arrivals)
                frames_per_s.append(sum(first <= t <= last for t in paints) / max(last - first, 1e-9))
                await pilot.pause(0.5)
                for pane_id, model in (("A", "fast-a"), ("B", "fast-b")):
                    answer = screen.session.exchanges[-1].answers[pane_id].completion
                    shown = screen.pane(pane_id).shown_answer()
                    if shown != expected_text(tokens) or answer.timing.output_tokens != tokens:
                        dropped += 1
                    rate_seen.append((answer.timing.output_tokens - 1) / (answer.timing.e2e - answer.timing.ttft))
                    done = renders[f"log-{pane_id}"]
                    times = [t for t, _ in done]
                    lengths = [n for _, n in done]
                    for t_arrival, length, t_seen in arrivals[model]:
                        # the first append (at or after arrival) whose document holds this much text
                        start = bisect.bisect_left(times, t_arrival)
                        covered = next((times[i] for i in range(start, len(times)) if lengths[i] >= length), None)
                        lags.append(float("inf") if covered is None else covered - t_arrival)
                        to_screen.append(t_seen - t_arrival)
                        at = len(paints) if covered is None else bisect.bisect_left(paints, covered)
                        paint_lags.append(paints[at] - t_arrival if at < len(paints) else float("inf"))
                        (settled if t_arrival - first >= SETTLE_S else opening).append(paint_lags[-1])
                await screen.action_new()
    stream_process.ProcessStreamClient.stream = original_stream
    return {
        "lag_p50_ms": percentile(lags, 50) * 1000,
        "lag_p99_ms": percentile(lags, 99) * 1000,
        "lag_max_ms": max(lags) * 1000,
        "painted_p50_ms": percentile(paint_lags, 50) * 1000,
        "painted_p99_ms": percentile(paint_lags, 99) * 1000,
        "painted_max_ms": max(paint_lags) * 1000,
        "to_screen_p50_ms": percentile(to_screen, 50) * 1000,
        "to_screen_p99_ms": percentile(to_screen, 99) * 1000,
        "deltas": len(lags),
        "opening_p99_ms": percentile(opening, 99) * 1000 if opening else float("nan"),
        "settled_p99_ms": percentile(settled, 99) * 1000 if settled else float("nan"),
        "opening_deltas": len(opening),
        "frames_per_s": sum(frames_per_s) / len(frames_per_s),
        "answers_with_drops": dropped,
        "answers": 2 * rounds,
        "client_rate_tok_s": sum(rate_seen) / len(rate_seen),
        "client_alone_tok_s": await client_alone(url),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=2500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stalls", action="store_true", help="also time the screen loop's callbacks (bench/loop_stalls.py)")
    parser.add_argument("--client-cpus", default="", help="the console on these CPUs, the server on the others (bench/cpu_split.py)")
    args = parser.parse_args()
    models = {name: {"tokens_per_second": args.rate, "ttft_ms": 20, "max_tokens": args.tokens} for name in ("fast-a", "fast-b")}
    client = cpu_split.parse(args.client_cpus)
    cpu_split.server_side(client)
    with tempfile.TemporaryDirectory() as tmp, serve(models, Path(tmp)) as server:
        cpu_split.client_side(client)
        stalls = LoopStalls() if args.stalls else None
        result = asyncio.run(run(server.grpc_url, args.tokens, args.rounds, stalls))
    print(f"machine: {machine()}")
    if client:
        print(cpu_split.describe(client))
    print(f"two panes x {args.rate:.0f} tok/s x {args.tokens} tokens, {args.rounds} rounds; client saw {result['client_rate_tok_s']:.0f} tok/s per pane")
    print(f"the same client with no UI reads {result['client_alone_tok_s']:.0f} tok/s per pane on this machine")
    print(f"lag of screen behind stream: p50 {result['lag_p50_ms']:.1f} ms, p99 {result['lag_p99_ms']:.1f} ms, "
          f"max {result['lag_max_ms']:.1f} ms over {result['deltas']} deltas")
    print(f"  of which from the reader process to the pane's worker: p50 {result['to_screen_p50_ms']:.1f} ms, "
          f"p99 {result['to_screen_p99_ms']:.1f} ms")
    print(f"lag of the next painted frame behind stream: p50 {result['painted_p50_ms']:.1f} ms, "
          f"p99 {result['painted_p99_ms']:.1f} ms, max {result['painted_max_ms']:.1f} ms; "
          f"{result['frames_per_s']:.0f} frames/s while the text came")
    print(f"  painted p99 of the deltas in the first {SETTLE_S * 1000:.0f} ms: {result['opening_p99_ms']:.1f} ms "
          f"({result['opening_deltas']} deltas); after them: {result['settled_p99_ms']:.1f} ms")
    print(f"answers with dropped or altered text: {result['answers_with_drops']} of {result['answers']}")
    if stalls is not None:
        print("\n".join(stalls.report()))
    met = result["painted_p99_ms"] <= 50 and result["answers_with_drops"] == 0
    print(f"target (painted frame lags <= 50 ms, nothing dropped; judged at p99): {'MET' if met else 'NOT MET'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
