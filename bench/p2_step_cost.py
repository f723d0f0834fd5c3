"""The screen loop's CPU per token for two streaming panes, in fixed steps: one frame's worth of
text into each pane, drained, then one frame. Headless, no server.

P2's own bench (``p2_two_pane_lag.py``) and ``pane_frame_cost.py`` run on a schedule, so a
cheaper frame or drain shows up as *more* frames and smaller drains, not as less CPU, and
their loop busy time moves little between runs of one tree (docs/benchmarks.md). Here the work is
fixed: both panes (the chat's ``ConversationView`` holding an answer, followed at
the bottom, 160 × 48) get the pacer's text ``--per-step`` tokens at a time (42 ≈ 2,500 tok/s at
60 frames/s), each step's text goes through the answer's drain (``AnswerStream._flush``, the
code the drain task runs, called here in its stead), then the screen settles its messages and draws one frame (the
screen's own update timer draws nothing meanwhile). The main thread's CPU time over all steps, per step, is the figure to
compare; frames and drains are timed apart. ``--helpers`` renders frozen blocks in helper
processes, as the chat screen does (their CPU is not the screen's and is not counted).

``--flushes N`` splits each step's text into N drains per pane (a loop with time to spare drains
many times per frame: 390–590 deltas per 1,000 tokens on the 16-CPU host, docs/benchmarks.md).

    .venv/bin/python bench/p2_step_cost.py [--tokens 3000] [--per-step 42] [--flushes 1] [--rounds 3] [--helpers]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import re
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.pacer import expected_text, machine  # noqa: E402
from bench.pane_frame_cost import FrameTimes, answer_streams, host_app, pane_renderers  # noqa: E402


def text_steps(tokens: int, per_step: int, flushes: int = 1) -> tuple[list[list[str]], str]:
    """The pacer's text for ``tokens`` tokens, cut into steps of ``per_step`` tokens, each step
    into ``flushes`` drains; and the whole text."""
    words = re.findall(r"\S+\s*", expected_text(tokens))
    size = max(1, per_step // flushes)  # tokens per drain
    steps = [["".join(words[j:min(j + size, i + per_step)]) for j in range(i, min(i + per_step, len(words)), size)]
             for i in range(0, len(words), per_step)]
    return steps, "".join(words)


async def measure(tokens: int, per_step: int, helpers: bool, flushes: int = 1) -> dict:
    steps, text = text_steps(tokens, per_step, flushes)
    frame_times = FrameTimes()
    async with pane_renderers(helpers) as renderers:
        with frame_times:
            return await run_steps(steps, renderers, frame_times, text)


async def drawn_steps(pilot, steps: list[list[str]], feed: Callable[[list[str]], Awaitable[None]],  # noqa: ANN001
                      frame_times: FrameTimes) -> tuple[float, float]:
    """Each step: ``feed(step)``, the messages it posted handled, then one frame drawn (the
    screen's own timer draws nothing meanwhile). Returns the loop thread's CPU and the wall time
    over all steps, with start-up objects frozen out of the collector."""
    from textual._wait import wait_for_idle

    await pilot.pause(0.2)
    gc.collect()
    gc.freeze()
    frame_times.seconds.clear()
    frame_times.held = True
    cpu, wall = time.thread_time(), time.perf_counter()
    for step in steps:
        await feed(step)
        await pilot._wait_for_screen()  # the messages the step posted (layout, updates, resizes)
        await wait_for_idle(0)
        frame_times.draw(pilot.app.screen)
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    frame_times.held = False
    gc.unfreeze()
    return cpu, wall


async def run_steps(steps: list[list[str]], renderers: list, frame_times: FrameTimes, text: str) -> dict:  # noqa: ANN001
    from console.tui.widgets.streaming_answer import warm_up

    app = host_app("answer")
    async with app.run_test(size=(160, 48)) as pilot:
        panes = [app.query_one(f"#pane-{name}") for name in "AB"]
        await warm_up(panes[0])
        streams = answer_streams(panes, renderers)
        for stream in streams:  # the bench drains, one drain at a time per answer, as the drain task would
            stream._task.cancel()
        flush_s = 0.0

        async def feed(step: list[str]) -> None:
            nonlocal flush_s
            for piece in step:
                for stream in streams:
                    await stream.write(piece)
                for stream in streams:  # what the drain task does when it wakes
                    started = time.thread_time()
                    await stream._flush()
                    flush_s += time.thread_time() - started

        cpu, wall = await drawn_steps(pilot, steps, feed, frame_times)
        for stream in streams:
            await stream._flush()  # (stop() would wait for the cancelled drain task)
        await pilot.pause()
        whole = all(stream.answer.source == text for stream in streams)
    return {"steps": len(steps), "cpu_ms_per_step": 1000 * cpu / len(steps), "wall_s": wall,
            "frame_ms_per_step": 1000 * sum(frame_times.seconds) / len(steps), "frames": len(frame_times.seconds),
            "flush_ms_per_step": 1000 * flush_s / len(steps), "whole": whole}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=3000)
    parser.add_argument("--per-step", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flushes", type=int, default=1, help="drains per step and pane (the text split evenly)")
    parser.add_argument("--helpers", action="store_true", help="render frozen blocks in helper processes, as the chat screen does")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"two panes, {args.tokens} tokens each, {args.per_step} per step and frame in {args.flushes} drains, headless 160x48, no server"
          f"{', frozen blocks rendered by helpers' if args.helpers else ''}")
    for round_ in range(1, args.rounds + 1):
        r = asyncio.run(measure(args.tokens, args.per_step, args.helpers, args.flushes))
        print(f"round {round_}: {r['steps']} steps, screen thread CPU {r['cpu_ms_per_step']:.2f} ms per step"
              f" (frames {r['frame_ms_per_step']:.2f} ms in {r['frames']}, drains {r['flush_ms_per_step']:.2f} ms CPU),"
              f" {r['wall_s']:.2f} s; text whole: {r['whole']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
