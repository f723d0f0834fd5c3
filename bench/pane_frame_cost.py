"""What a frame costs with two panes streaming: the chat's answer widgets against one line-API
widget per pane (Textual's ``Log``), headless, no server.

The pacer's text goes into both panes at ``--rate`` tokens/s each, on an absolute schedule, for
``--tokens`` tokens, and the screen's loop is timed (bench/loop_stalls.py).
- "answer": each pane is the chat's ``ConversationView`` anchored to the bottom, holding an
  answer fed through its ``AnswerStream``: the chat pane's structure (until 2026-12-02 a
  ``ConversationLog`` holding a ``StreamingAnswer`` widget).
- "log": each pane is one ``Log``, a ScrollView that draws only its visible lines, from its own
  cache. It shows plain text, not Markdown.
The gap between the two bounds what drawing each pane as one line-API widget could save (P2,
docs/benchmarks.md): it leaves out the Markdown rendering such a widget would still do.

With ``--helpers`` the answers render their frozen blocks in a helper process per pane, as the
chat screen does (console/tui/frozen_render.py); without it, on the loop. ``--kinds answer``
skips the "log" side.

    .venv/bin/python bench/pane_frame_cost.py [--tokens 3000] [--rate 2500] [--rounds 2] [--helpers] [--kinds answer]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import re
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.loop_stalls import LoopStalls  # noqa: E402
from bench.pacer import expected_text, machine  # noqa: E402
from console.core.latency import percentile  # noqa: E402



class FrameTimes:
    """Times each frame: the screen's update (``Screen._on_timer_update``, textual is pinned).
    While ``held``, the update timer still fires but draws nothing; :meth:`draw` draws one frame
    then (a bench that draws its own frames: bench/p2_step_cost.py)."""

    def __init__(self) -> None:
        from textual.screen import Screen

        self.seconds: list[float] = []
        self.held = False
        self._screen, self._original = Screen, Screen._on_timer_update

    def __enter__(self) -> FrameTimes:
        original, frames = self._original, self

        def timed(screen) -> None:  # noqa: ANN001
            if frames.held:
                return
            start = time.perf_counter()
            try:
                original(screen)
            finally:
                frames.seconds.append(time.perf_counter() - start)

        self._screen._on_timer_update = timed  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        self._screen._on_timer_update = self._original  # type: ignore[method-assign]

    def draw(self, screen) -> None:  # noqa: ANN001
        """One frame now, while frames are held."""
        self.held = False
        try:
            screen._on_timer_update()
        finally:
            self.held = True


@contextlib.asynccontextmanager
async def pane_renderers(helpers: bool) -> AsyncIterator[list]:
    """Each pane's frozen-block renderer: a helper process per pane, started and ready, as the
    chat screen has them (console/tui/frozen_render.py), or None (rendered on the loop)."""
    from console.tui.frozen_render import FrozenRenderer

    renderers = [FrozenRenderer() for _ in "AB"] if helpers else []
    try:
        for renderer in renderers:
            await renderer.start()
        while not all(renderer.running for renderer in renderers):  # the helper imports, then says it is ready
            await asyncio.sleep(0.05)
        yield renderers or [None, None]
    finally:
        for renderer in renderers:
            await renderer.stop()


def host_app(kind: str):  # noqa: ANN201 - a Textual App
    from textual.app import App
    from textual.containers import Horizontal
    from textual.widgets import Log

    from console.tui.widgets.conversation_view import ConversationView

    class Panes(App):
        CSS = "Horizontal { height: 1fr; } .pane { width: 1fr; height: 1fr; scrollbar-gutter: stable; }"

        def compose(self):  # noqa: ANN202
            with Horizontal():
                for name in "AB":
                    if kind == "log":
                        yield Log(id=f"pane-{name}", classes="pane")
                    else:
                        yield ConversationView(id=f"pane-{name}", classes="pane")

    return Panes()


def answer_streams(panes: list, renderers: list) -> list:
    """An answer in each of ``panes`` (conversation views, anchored now) and its stream."""
    from console.tui.widgets.streaming_answer import AnswerStream

    for pane in panes:
        pane.anchor()
    return [AnswerStream(pane.add_answer(), renderer) for pane, renderer in zip(panes, renderers)]


async def feed(write, words: list[str], rate: float) -> None:  # noqa: ANN001 - an async or plain writer
    """Write ``words`` on an absolute schedule at ``rate`` per second; late words go out together."""
    start, sent = time.monotonic(), 0
    while sent < len(words):
        due = min(len(words), int((time.monotonic() - start) * rate) + 1)
        if due > sent:
            result = write("".join(words[sent:due]))
            if asyncio.iscoroutine(result):
                await result
            sent = due
        await asyncio.sleep(0.002)


async def measure(kind: str, tokens: int, rate: float, helpers: bool = False) -> dict:
    words = re.findall(r"\S+\s*", expected_text(tokens))
    app = host_app(kind)
    frame_times = FrameTimes()  # before the app starts: the screen's timer keeps the method it mounts with
    async with pane_renderers(helpers and kind != "log") as renderers:
        with frame_times:
            return await run_app(app, kind, words, rate, frame_times, renderers)


async def run_app(app, kind: str, words: list[str], rate: float, frame_times: FrameTimes, renderers: list) -> dict:  # noqa: ANN001
    from textual.widgets import Log

    from console.tui.widgets.streaming_answer import warm_up

    async with app.run_test(size=(160, 48)) as pilot:
        panes = [app.query_one(f"#pane-{name}") for name in "AB"]
        if kind == "log":
            writers = [pane.write for pane in panes if isinstance(pane, Log)]
        else:
            await warm_up(panes[0])
            streams = answer_streams(panes, renderers)
            writers = [stream.write for stream in streams]
        await pilot.pause(0.2)
        gc.collect()
        gc.freeze()
        frame_times.seconds.clear()
        with LoopStalls() as stalls:
            await asyncio.gather(*(feed(write, words, rate) for write in writers))
            if kind != "log":
                await asyncio.gather(*(stream.stop() for stream in streams))
            await asyncio.sleep(0.3)
        frames = sorted(frame_times.seconds)  # the longest last
        gc.unfreeze()
    return {
        "frames": len(frames),
        "fps": len(frames) / stalls.span,
        "frame_p50_ms": percentile(frames, 50) * 1000,
        "frame_p99_ms": percentile(frames, 99) * 1000,
        "frame_max_ms": frames[-1] * 1000,
        "busy": stalls.busy / stalls.span,
        "busy_s": stalls.busy,
        "cpu_s": stalls.cpu_total,
        "frames_s": sum(frames),
        "span_s": stalls.span,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=3000)
    parser.add_argument("--rate", type=float, default=2500)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--helpers", action="store_true", help="render frozen blocks in helper processes, as the chat screen does")
    parser.add_argument("--kinds", default="answer,log", help="which sides to run (answer, log)")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    print(f"two panes x {args.rate:.0f} tok/s x {args.tokens} tokens, headless 160x48, no server")
    for round_ in range(1, args.rounds + 1):
        for kind in args.kinds.split(","):
            r = asyncio.run(measure(kind, args.tokens, args.rate, args.helpers))
            print(f"round {round_} {kind:>6}: {r['frames']} frames ({r['fps']:.0f}/s), frame p50 {r['frame_p50_ms']:.1f} ms,"
                  f" p99 {r['frame_p99_ms']:.1f} ms, max {r['frame_max_ms']:.1f} ms; frames {r['frames_s']:.2f} s"
                  f" of {r['span_s']:.2f} s, loop busy {100 * r['busy']:.0f}% ({r['busy_s']:.2f} s; the loop's thread got"
                  f" {r['cpu_s']:.2f} s of CPU)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
