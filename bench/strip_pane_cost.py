"""What a frame would cost if each chat pane were one ScrollView serving its own cached strips,
against the chat's pane structure, in p2_step_cost's fixed steps. Headless, no server.

P2 (docs/benchmarks.md) is bound by Textual's frame. ``pane_frame_cost.py`` once compared the
chat's panes with Textual's ``Log`` and found ``Log`` dearer; but ``Log`` draws every visible line
through Textual's per-line styles pipeline on each scroll. This bench asks the question without
that pipeline. Both panes get the pacer's text ``--per-step`` tokens at a time, then one frame is
drawn (``bench/p2_step_cost.py``'s steps):
- ``answer``: the chat's ``ConversationView`` holding an answer (frozen blocks and the growing
  tail, rendered by rich on the loop): what the chat screen does (until 2026-12-02 a
  ``ConversationLog`` of widgets, the tail first Textual Markdown widgets, then rich's);
- ``frozen``: the same structure, but every drain's text goes to the frozen part (rendered by
  rich on the loop) and the tail stays empty: what rendering the tail costs;
- ``strips``: each pane is one ``ScrollView`` whose ``render_lines`` returns strips it keeps
  (rich wraps the text; only the last paragraph is wrapped again each step), anchored at the
  bottom. Plain text, not Markdown: it bounds what such a pane could save, it is not one.

    .venv/bin/python bench/strip_pane_cost.py [--tokens 2000] [--per-step 42] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.p2_step_cost import drawn_steps, run_steps, text_steps  # noqa: E402
from bench.pacer import machine  # noqa: E402
from bench.pane_frame_cost import FrameTimes  # noqa: E402


def strips_app():  # noqa: ANN201 - a Textual App
    from rich.text import Text
    from textual.app import App
    from textual.containers import Horizontal
    from textual.geometry import Region, Size
    from textual.scroll_view import ScrollView
    from textual.strip import Strip

    class StripPane(ScrollView):
        DEFAULT_CSS = "StripPane { width: 1fr; height: 1fr; scrollbar-gutter: stable; }"

        def __init__(self, **kwargs) -> None:  # noqa: ANN003
            super().__init__(**kwargs)
            self.lines: list[Strip] = []
            self.text = ""
            self.last_paragraph_at = 0  # the first line of the paragraph still growing

        def append(self, text: str) -> None:
            self.text += text
            width = max(1, self.scrollable_content_region.width)
            cut = self.text.rfind("\n\n")
            growing = self.text[cut + 2:] if cut >= 0 else self.text
            del self.lines[self.last_paragraph_at:]
            console = self.app.console
            self.lines += [Strip(list(line.render(console)), width).extend_cell_length(width, self.rich_style)
                           for line in Text(growing).wrap(console, width)]
            if "\n\n" in text:
                self.last_paragraph_at = len(self.lines)
            self.virtual_size = Size(width, len(self.lines))
            self.scroll_end(animate=False, immediate=True, x_axis=False)
            self.refresh()

        def render_lines(self, crop: Region) -> list[Strip]:
            top = self.scroll_offset.y
            blank = Strip.blank(self.size.width, self.rich_style)
            return [(self.lines[top + y] if top + y < len(self.lines) else blank).crop(crop.x, crop.right)
                    for y in range(crop.y, crop.bottom)]

    class Panes(App):
        CSS = "Horizontal { height: 1fr; }"

        def compose(self):  # noqa: ANN202
            with Horizontal():
                for name in "AB":
                    yield StripPane(id=f"pane-{name}")

    return Panes()


async def run_strips(steps: list[list[str]], frame_times: FrameTimes) -> dict:
    app = strips_app()
    async with app.run_test(size=(160, 48)) as pilot:
        panes = [app.query_one(f"#pane-{name}") for name in "AB"]

        async def feed(step: list[str]) -> None:
            for piece in step:
                for pane in panes:
                    pane.append(piece)

        cpu, _ = await drawn_steps(pilot, steps, feed, frame_times)
    return {"cpu_ms_per_step": 1000 * cpu / len(steps), "frame_ms": 1000 * sum(frame_times.seconds) / len(frame_times.seconds)}


@contextlib.contextmanager
def all_text_frozen() -> Iterator[None]:
    """Each drain hands all its text to the frozen part; the live tail stays empty."""
    from console.tui.widgets.streaming_answer import AnswerStream

    original = AnswerStream._flush

    async def flush(self) -> None:  # noqa: ANN001
        text = "".join(self._pending)
        self._pending.clear()
        if text:
            self.answer.add(text)

    AnswerStream._flush = flush
    try:
        yield
    finally:
        AnswerStream._flush = original


async def run_kind(kind: str, steps: list[list[str]], text: str) -> dict:
    frame_times = FrameTimes()
    with frame_times:
        if kind == "strips":
            return await run_strips(steps, frame_times)
        with all_text_frozen() if kind == "frozen" else contextlib.nullcontext():
            r = await run_steps(steps, [None, None], frame_times, text)
    return {"cpu_ms_per_step": r["cpu_ms_per_step"], "frame_ms": r["frame_ms_per_step"] * r["steps"] / r["frames"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--per-step", type=int, default=42)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    steps, text = text_steps(args.tokens, args.per_step)
    print(f"machine: {machine()}")
    print(f"two panes, {args.tokens} tokens each, {args.per_step} per step and frame, headless 160x48, no server")
    for round_ in range(1, args.rounds + 1):
        for kind in ("answer", "frozen", "strips"):
            r = asyncio.run(run_kind(kind, steps, text))
            print(f"round {round_} {kind:6}: screen thread CPU {r['cpu_ms_per_step']:.2f} ms per step, "
                  f"a frame {r['frame_ms']:.2f} ms on average", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
