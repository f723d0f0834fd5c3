"""Feeding an answer that renders Markdown as it streams and stays cheap however long it grows.

An answer is an :class:`~console.tui.widgets.conversation_view.AnswerEntry` of its pane's
conversation, drawn by rich: finished blocks as frozen chunks, each rendered once (in a helper
process when the pane has one, console/tui/frozen_render.py) and never touched again, and the
block still growing as its *tail*, rendered again (in process) when the view next counts its
rows after new text came (at most once between two frames). Each drain cuts the text at a
top-level block boundary (markdown-it's own, so a list or a fenced code block is never split):
all but the last :data:`LIVE_BLOCKS` blocks are frozen, the rest is the tail. Writes go into a buffer that a separate task drains
whenever it gets the loop, so the stream reader never waits on rendering: text that arrives
while a frame or the other pane's drain runs goes out in one drain.

Until 2026-12-02 the tail was Textual Markdown widgets (``LiveMarkdown``), then part of a
``FrozenMarkdown`` widget in a scrolling container; see console/tui/widgets/conversation_view.py
for why the conversation is one widget now.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from markdown_it.token import Token

from console.tui.widgets.frozen_markdown import MarkdownLines

if TYPE_CHECKING:
    from console.tui.frozen_render import FrozenRenderer
    from console.tui.widgets.conversation_view import AnswerEntry, ConversationView

LIVE_BLOCKS = 1  # top-level blocks left in the tail after each drain
# Textual's own preset, block rules only: where top-level blocks start does not depend on
# inline parsing (~40 % of a full parse).
_BLOCK_PARSER = MarkdownIt("gfm-like")
_BLOCK_PARSER.core.ruler.enableOnly(["normalize", "block"])


def block_starts(source: str) -> list[int]:
    """The lines on which markdown-it starts a top-level block of ``source``."""
    return top_level_starts(_BLOCK_PARSER.parse(source))


def top_level_starts(tokens: list[Token]) -> list[int]:
    """The lines on which the top-level blocks of a parse start."""
    return [t.map[0] for t in tokens if t.level == 0 and t.map is not None and t.nesting >= 0]


def split_finished_blocks(source: str, keep: int = LIVE_BLOCKS) -> tuple[str, str]:
    """``(finished, tail)``: ``source`` cut before its ``keep``-th last top-level block.

    The cut lies on a line where markdown-it starts a top-level block, so ``finished`` and
    ``tail`` each parse as they did inside ``source`` (a list or a fenced code block is never
    split). ``finished`` is empty when there are not more than ``keep`` blocks.
    """
    return split_at_starts(source, block_starts(source), keep)


def split_at_starts(source: str, starts: list[int], keep: int) -> tuple[str, str]:
    """:func:`split_finished_blocks` with the top-level block starts of ``source`` given."""
    if len(starts) <= keep:
        return "", source
    offset = sum(len(text) for text in source.splitlines(keepends=True)[:starts[-keep]])
    return source[:offset], source[offset:]


# Every kind of block an answer can hold, for :func:`warm_up`.
WARM_UP_TEXT = (
    "# h1\n\n## h2\n\n### h3\n\n#### h4\n\n##### h5\n\n###### h6\n\ntext **b** *i* `c` ~~s~~ <https://x.y>\n\n"
    "- a\n  - b\n\n1. a\n2. b\n\n> quote\n\n```python\nprint()\n```\n\n    code\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n\n---\n"
)


async def warm_up(view: ConversationView, wait_s: float = 5.0) -> None:
    """Render every kind of Markdown block once, and every kind of text entry, for ``view``'s
    look, then drop the result.

    The first code block loads Pygments' lexer and style, the first entries compute their
    styles: in an answer that was a stall of 0.1–1 s (P2, docs/benchmarks.md) the first time
    such a block streamed in. Done once, right after the chat screen appears, the stall is paid
    on an almost empty screen before any answer. Waits (up to ``wait_s``) for the view's first
    layout, which gives the width.
    """
    # here, not at the top: the frozen-render helper imports this module for WARM_UP_TEXT and
    # need not load the view's widget classes
    from console.tui.widgets.conversation_view import ERROR, NOTE, PROMPT, TextEntry

    deadline = asyncio.get_running_loop().time() + wait_s
    while (look := view.current_look()) is None:
        if asyncio.get_running_loop().time() > deadline:
            return
        await asyncio.sleep(0.01)
    console = view.app.console
    markdown = MarkdownLines()
    markdown.add(WARM_UP_TEXT, console)
    markdown.set_tail(WARM_UP_TEXT)
    markdown.render(look.markdown, console)  # rich's Markdown, Pygments: frozen and tail
    for kind in (PROMPT, NOTE, ERROR):
        TextEntry(kind, "warm-up").render(look, console)


class AnswerStream:
    """Feeds an :class:`AnswerEntry`: ``write`` only buffers; a task drains the buffer.

    Each drain sends blocks that are complete to the frozen part and the last, still growing
    block to the tail; the tail is rendered when the view next counts its rows (at most once
    between two frames), once for all the drains that came before. The drain does not wait for a frame between drains
    (it did, 1/60 s: that wait was most of the median lag in P2, docs/benchmarks.md); under
    load the buffer batches by itself, since text piles up while the loop is busy elsewhere.
    """

    def __init__(self, answer: AnswerEntry, renderer: FrozenRenderer | None = None) -> None:
        self.answer = answer
        self.renderer = renderer  # renders frozen blocks off the loop (None: in process)
        self._pending: list[str] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._tail = ""  # all text given to the current tail
        self._written = False  # whether any text came yet
        self._task = asyncio.create_task(self._run())

    async def write(self, text: str) -> None:
        """Queue ``text``; an answer's first text goes straight to the tail (nobody waits for
        the drain task's turn for the first token: P1). Later text is drained by the task."""
        if self._closing:
            raise RuntimeError("Can't write to the answer after it has stopped.")
        if not text:
            return
        first, self._written = not self._written, True
        if first and len(block_starts(text)) <= LIVE_BLOCKS:
            self._tail = text
            self.answer.set_tail(text)
            return
        self._pending.append(text)
        self._wake.set()

    async def _flush(self) -> None:
        """Freeze what the new text finished, give the rest to the tail."""
        text = "".join(self._pending)
        self._pending.clear()
        if not text:
            return
        source = self._tail + text
        starts = block_starts(source)
        if len(starts) <= LIVE_BLOCKS:
            self._tail = source
            self.answer.set_tail(source)
            return
        finished, last = split_at_starts(source, starts, LIVE_BLOCKS)
        await self.answer.freeze(finished, last, self.renderer)
        self._tail = last

    async def _run(self) -> None:
        while not self._closing:
            await self._wake.wait()
            self._wake.clear()
            await self._flush()
            await asyncio.sleep(0)  # let what is waiting run (a frame, the other pane) before the next flush

    async def stop(self) -> None:
        """Show everything written so far, then stop (safe to call from a cancelled task)."""
        self._closing = True
        self._wake.set()
        await asyncio.shield(self._task)
        await asyncio.shield(self._drain_rest())

    async def _drain_rest(self) -> None:
        await self._flush()
