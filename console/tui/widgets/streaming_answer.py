"""An answer that renders Markdown as it streams and stays cheap however long it grows.

Textual's ``Markdown`` makes one widget per block, and every reflow walks all of them: a long
answer (hundreds of headings, paragraphs and lists) saturates the event loop, and then even
reading the gRPC stream falls behind (docs/benchmarks.md, P2). So only the live tail of an
answer is a Textual ``Markdown`` (a :class:`~console.tui.widgets.live_markdown.LiveMarkdown`,
whose paragraphs, headings and lists update in place instead of mounting) fed as
``MarkdownStream`` feeds one, but from the drain's own task (``LiveMarkdown.extend``); once
the tail holds more than :data:`LIVE_BLOCKS` top-level blocks, all but the last are cut off
at a top-level block boundary (markdown-it's own, so a list or a fenced code block is never
split) and frozen: added to a
:class:`~console.tui.widgets.frozen_markdown.FrozenMarkdown`, which renders each frozen chunk
once (``rich.markdown.Markdown``; in a helper process when the pane has one,
console/tui/frozen_render.py) and never touches it again. Writes go into a buffer that a
separate task drains whenever it gets the loop, so the stream reader never waits on rendering:
text that arrives while a frame or the other pane's drain runs goes out in one append. An
answer's first text goes straight into the tail's waiting block (time to first token on
screen, P1).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from markdown_it.token import Token
from textual.containers import Vertical
from textual.widget import Widget

from console.tui.widgets.frozen_markdown import FrozenMarkdown
from console.tui.widgets.live_markdown import LiveMarkdown

if TYPE_CHECKING:
    from console.tui.frozen_render import FrozenRenderer

LIVE_BLOCKS = 1  # top-level blocks left in the live Markdown tail after each drain
_PARSER = MarkdownIt("gfm-like")  # Textual's own preset; building one costs ~0.25 ms, parsing "# Hi" 17 µs
# The same preset, block rules only: where top-level blocks start does not depend on inline
# parsing, which was ~40 % of each split's parse (0.76 -> 0.44 ms for 400 characters, 2-core VM).
_BLOCK_PARSER = MarkdownIt("gfm-like")
_BLOCK_PARSER.core.ruler.enableOnly(["normalize", "block"])
# The rest of the preset's core rules (inline parsing and what follows it): block rules, then
# these, on one state, are ``_PARSER.parse`` (markdown-it's core runs its rules in order).
_AFTER_BLOCKS = MarkdownIt("gfm-like")
_AFTER_BLOCKS.core.ruler.disable(["normalize", "block"])


def shared_parser() -> MarkdownIt:
    """The one parser for every split and every live tail (Textual's Markdown would build a
    new ``MarkdownIt`` on each append)."""
    return _PARSER


def block_starts(source: str) -> list[int]:
    """The lines on which markdown-it starts a top-level block of ``source``."""
    return top_level_starts(_BLOCK_PARSER.parse(source))


def parse_blocks(source: str, env: dict) -> StateCore:
    """``source`` parsed by ``_PARSER``'s block rules only (the tokens of inline content not
    parsed yet: :func:`finish_parse`)."""
    state = StateCore(source, _PARSER, env)
    _BLOCK_PARSER.core.process(state)
    return state


def finish_parse(state: StateCore) -> list[Token]:
    """The rest of ``_PARSER``'s parse on ``state``'s block tokens: its tokens then are
    ``_PARSER.parse``'s."""
    _AFTER_BLOCKS.core.process(state)
    return state.tokens


def top_level_starts(tokens: list[Token]) -> list[int]:
    """The lines on which the top-level blocks of a parse start."""
    return [t.map[0] for t in tokens if t.level == 0 and t.map is not None and t.nesting >= 0]


def tokens_from_line(tokens: list[Token], line: int) -> list[Token]:
    """The tokens of the top-level blocks from ``line`` on (a top-level block start), their
    lines counted from there: what parsing the text from ``line`` on gives (markdown-it's block
    state is empty at a top-level block start; the caller makes sure no reference definition
    before it changes the inline parse)."""
    first = next(i for i, t in enumerate(tokens) if t.level == 0 and t.map is not None and t.map[0] >= line)
    rest = tokens[first:]
    for token in rest:
        if token.map is not None:
            token.map = [token.map[0] - line, token.map[1] - line]
        for child in token.children or ():
            if child.map is not None:
                child.map = [child.map[0] - line, child.map[1] - line]
    return rest


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


async def warm_up(host: Widget) -> None:
    """Show every kind of Markdown block once, hidden, in ``host``, then remove it.

    The first time an app mounts a widget class, Textual adds its CSS and then restyles every
    widget on the screen; the first code block loads its highlighter. In an answer that is a
    stall of 0.1–1 s (P2, docs/benchmarks.md) the first time a list, quote, fence or table
    streams in. Done once, right after the chat screen appears, the stall is paid on an almost
    empty screen before any answer.
    """
    answer = StreamingAnswer(classes="warm-up")
    answer.display = False
    await host.mount(answer)
    answer.frozen.add(WARM_UP_TEXT)
    answer.frozen.ensure_rendered(max(host.size.width, 40))  # rich's Markdown, Pygments
    await answer.live.update(WARM_UP_TEXT)
    await answer.remove()


class StreamingAnswer(Vertical):
    """One answer: frozen finished blocks above a live ``Markdown`` tail.

    ``BLANK``: it is only background under its two children, and it grows every frame while
    streaming; without it Textual draws all its visible lines again each time (conversation_log.py).
    """

    BLANK = True

    DEFAULT_CSS = """
    StreamingAnswer { height: auto; }
    """

    def __init__(self, classes: str = "") -> None:
        super().__init__(classes=classes)
        self.frozen = FrozenMarkdown(classes="answer-frozen")
        self.live = LiveMarkdown("", classes="answer-live", parser_factory=shared_parser)

    def compose(self):  # noqa: ANN201 - ComposeResult
        yield self.frozen
        yield self.live

    @property
    def source(self) -> str:
        """Everything shown so far: the frozen parts, then the live tail."""
        return self.frozen.source + self.live.source

    def get_stream(self, renderer: FrozenRenderer | None = None) -> AnswerStream:
        return AnswerStream(self, renderer)

    async def freeze(self, finished: str, renderer: FrozenRenderer | None = None) -> None:
        """Show ``finished`` (complete blocks that follow the frozen text) as frozen, and
        empty the live tail, in one step (no frame shows the text twice or not at all).

        With a ``renderer``, rich renders ``finished`` in its helper process while the screen's
        loop goes on drawing (console/tui/frozen_render.py); without one, or when the helper
        cannot, the frozen part renders it here.

        ``finished`` covers the tail's text. The tail is emptied in place
        (``LiveMarkdown.restart``: its last paragraph, heading or list widget stays mounted for
        the next one), not replaced by a fresh widget: mounting one (CSS, compose) cost more on
        every freeze. (Never ``update(text)``: an append after it re-parses only the last line.)
        """
        rendered = None
        job = self.frozen.next_job(finished) if renderer is not None else None
        if job is not None and renderer is not None:
            result = await renderer.render(job, self.app.console.color_system)
            rendered = None if result is None else (job, *result)
        await self.live.restart(then_also=lambda: self.frozen.add(finished, rendered))  # after appends in flight


class AnswerStream:
    """Feeds a :class:`StreamingAnswer`: ``write`` only buffers; a task drains the buffer.

    Each drain sends blocks that are complete straight to the frozen part (they never become
    Markdown widgets); only the last, still growing block is appended to the live tail, in this
    task (``LiveMarkdown.extend``: Textual's ``MarkdownStream`` and ``append`` cost five or six
    turns of the event loop per append, each behind frames). The drain does not wait for a
    frame between appends (it did, 1/60 s: that wait was most of the median lag in P2,
    docs/benchmarks.md); under load the buffer batches by itself, since text piles up while the
    loop is busy elsewhere, or while an append runs.
    """

    def __init__(self, answer: StreamingAnswer, renderer: FrozenRenderer | None = None) -> None:
        self.answer = answer
        self.renderer = renderer  # renders frozen blocks off the loop (None: in process)
        self._pending: list[str] = []
        self._wake = asyncio.Event()
        self._closing = False
        self._tail = ""  # all text given to the current live tail's stream
        self._written = False  # whether any text came yet
        self._task = asyncio.create_task(self._run())

    async def write(self, text: str) -> None:
        """Queue ``text``; waits for rendering only for an answer's first text (the caller is
        reading the network: later text is drawn by the drain task)."""
        if self._closing:
            raise RuntimeError("Can't write to the answer after it has stopped.")
        if not text:
            return
        first, self._written = not self._written, True
        if first and len(block_starts(text)) <= LIVE_BLOCKS:
            # The first text goes straight into the live tail: nobody waits two task hops for
            # the first token. Later text is batched by the drain task, and so is a first text
            # of several blocks (a reader that fell behind merges them), which would otherwise
            # mount a widget per block in the tail. (Only the very first: the tail can look
            # empty later too, while a freeze waits for the renderer.)
            self._tail = text
            await asyncio.shield(self.answer.live.extend(text))  # a stop mid-append keeps the text
            return
        self._pending.append(text)
        self._wake.set()

    async def _flush(self) -> None:
        """Freeze what the new text finished, append the rest to the live tail.

        One parse (the tail's parser's) serves both: its block rules say where the top-level
        blocks start, and the rest of it gives the tokens the tail would parse again
        (``LiveMarkdown.extend(parsed=...)``): of all the text when nothing freezes, of the
        blocks from the cut on when something does (the frozen text's inline content is never
        parsed here). The split used to parse (block rules) and the append parse again, on
        every drain.
        """
        text = "".join(self._pending)
        self._pending.clear()
        if not text:
            return
        source = self._tail + text
        env: dict = {}
        state = parse_blocks(source, env)
        starts = top_level_starts(state.tokens)
        if len(starts) <= LIVE_BLOCKS:
            self._tail = source
            await self.answer.live.extend(text, parsed=(source, finish_parse(state)))
            return
        line = starts[-LIVE_BLOCKS]
        finished, last = split_at_starts(source, starts, LIVE_BLOCKS)
        parsed = None
        # The tail's own parse, from the tokens of its blocks, unless the text defines a link
        # reference (the tail's own parse knows only those in the tail, this one's env all of
        # them), or the cut is not on markdown-it's line (``splitlines`` also breaks at
        # characters it does not).
        if not env.get("references") and finished.count("\n") == line and (not finished or finished[-1] == "\n"):
            tail = StateCore(last, _PARSER, {})
            tail.tokens = tokens_from_line(state.tokens, line)
            parsed = (last, finish_parse(tail))
        await self.answer.freeze(finished, self.renderer)
        self._tail = last
        await self.answer.live.extend(last, parsed=parsed)

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
