"""Streamed Markdown as lines: the finished part rendered once, however often more is added below it.

Rendering ``rich.markdown.Markdown`` of a whole answer again on every update cost most of each
frame while an answer streamed (docs/benchmarks.md, P2). :class:`MarkdownLines` keeps the text
as chunks (runs of complete top-level blocks) and the rendering as lines: :meth:`MarkdownLines.add`
renders only the new chunk. Below the chunks, the *tail* (:meth:`MarkdownLines.set_tail`: the
block still growing) is rendered again whenever it changed and is asked for. Everything is
rendered again only when the look (width, styles, console options) changes. It is not a widget:
the chat pane's ``ConversationView`` draws these lines among its prompts and notes.

A line is kept as its list of segments, and becomes a ``Strip`` only when it is drawn: a
``Strip`` carries seven caches, nine objects for the garbage collector to walk per line, and a
long answer's lines are the objects that survive to be walked (console/tui/quiet_gc.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt
from rich.console import Console, ConsoleOptions
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.widget import Widget, _Styled  # Widget.post_render's wrapper; textual is pinned

_RICH_PARSER = MarkdownIt().enable("strikethrough").enable("table")  # rich's Markdown's own settings


class SharedParserMarkdown(RichMarkdown):
    """Rich's ``Markdown`` with its defaults, parsed by one shared parser.

    Rich builds a new ``MarkdownIt`` for every instance (0.5 ms on the 2-core VM, a third of
    constructing one for a few blocks), and an answer makes one per frozen chunk and per redraw
    of a live list. The attributes are rich's own ``__init__``'s (rich is pinned;
    tests/test_frozen_markdown.py compares them).
    """

    def __init__(self, markup: str) -> None:  # rich's __init__ is not called: it builds the parser
        self.markup = markup
        self.parsed = _RICH_PARSER.parse(markup)
        self.code_theme = "monokai"
        self.justify = None
        self.style = "none"
        self.hyperlinks = True
        self.inline_code_lexer = None
        self.inline_code_theme = self.code_theme


def _ends_with_rule(markdown: RichMarkdown) -> bool:
    """Whether the last top-level block of ``markdown`` is a horizontal rule (after which rich
    puts no blank line)."""
    blocks = [token for token in markdown.parsed if token.level == 0 and token.nesting >= 0]
    return bool(blocks) and blocks[-1].type == "hr"


@dataclass(frozen=True)
class ChunkJob:
    """Everything the lines of one frozen chunk depend on. Equal jobs give equal lines in any
    process (console/tui/frozen_render.py renders them in a helper)."""

    chunk: str
    follows_block: bool  # a block that asks for a blank line after it comes before the chunk
    options: ConsoleOptions  # the app's console options at the chunk's width
    base_style: RichStyle  # the widget's
    link_style: RichStyle | None  # the widget's, when it has auto links


def styles_key(widget: Widget) -> tuple:
    """Changes whenever a style of ``widget`` or of an ancestor changes, from CSS or inline
    (``RenderStyles._cache_key``; textual is pinned)."""
    return tuple((id(node), node.styles._cache_key) for node in widget.ancestors_with_self)


def widget_styles(widget: Widget) -> tuple[RichStyle, RichStyle | None]:
    """``widget.rich_style``, and its ``link_style`` when it has auto links, computed again only
    when a style of the widget or of an ancestor changed.

    Both walk the widget's ancestors and blend their colours (≈ 0.1 ms on the 2-core VM), and a
    freeze asks twice (for the helper's job, then to check the job still holds), a live list on
    every redraw. They read only the styles of the widget and its ancestors, and Textual counts
    every change of a widget's styles, from CSS or inline (``RenderStyles._cache_key``; textual
    is pinned).
    """
    key = (widget.auto_links, styles_key(widget))
    cached = getattr(widget, "_chunk_styles", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    styles = (widget.rich_style, widget.link_style if widget.auto_links else None)
    widget._chunk_styles = (key, styles)  # type: ignore[attr-defined]
    return styles


def render_chunk(job: ChunkJob, console: Console) -> tuple[list[list[Segment]], bool]:
    """The lines ``job.chunk`` adds, and whether it ends with a horizontal rule.

    Rich puts a blank line before a top-level block when the block before it asks for one
    (every kind but a horizontal rule). A chunk after such a block is rendered behind a
    one-line paragraph, whose line is then dropped, so rich decides that line as it would when
    rendering all the chunks as one document. The styling is ``Widget.post_render``'s for a
    renderable that is not text.
    """
    markdown = SharedParserMarkdown(f"x\n\n{job.chunk}" if job.follows_block else job.chunk)
    segments = console.render(_Styled(markdown, job.base_style, job.link_style), job.options)
    lines = list(Segment.split_and_crop_lines(segments, job.options.max_width, include_new_lines=False, pad=False))
    return (lines[1:] if job.follows_block else lines), _ends_with_rule(markdown)


@dataclass(frozen=True)
class Look:
    """What rendered lines depend on besides the text: equal looks give equal lines."""

    options: ConsoleOptions  # the app's console options at the text's width
    base_style: RichStyle
    link_style: RichStyle | None

    @property
    def width(self) -> int:
        return self.options.max_width


def look_for(widget: Widget, width: int) -> Look:
    """Rendering at ``width`` in ``widget``, styled as Textual styles a renderable there."""
    base_style, link_style = widget_styles(widget)
    return Look(widget.app.console_options.update(highlight=False, width=width), base_style, link_style)


class MarkdownLines:
    """Markdown chunks (each a run of complete top-level blocks) and a tail, as lines."""

    def __init__(self) -> None:
        self.chunks: list[str] = []
        self._ends_with_rule: list[bool] = []  # per chunk rendered so far (rich puts no blank line after a rule)
        self.lines: list[list[Segment]] = []  # the chunks' lines, for ``self.look``
        self.look: Look | None = None  # what ``lines`` were rendered for (None: not rendered)
        self.generation = 0  # bumped whenever ``lines`` are rendered again (otherwise they are only appended to)
        self.tail = ""  # the text after the chunks, still growing
        self.tail_lines: list[list[Segment]] = []
        self._tail_key: tuple | None = None  # what ``tail_lines`` were rendered for

    @property
    def source(self) -> str:
        return "".join(self.chunks) + self.tail

    @property
    def height(self) -> int:
        return len(self.lines) + len(self.tail_lines)

    def set_tail(self, text: str) -> bool:
        """Show ``text`` below the chunks instead of the tail before (rendered when asked for);
        whether it changed."""
        changed = text != self.tail
        self.tail = text
        return changed

    def add(self, chunk: str, console: Console, rendered: tuple[ChunkJob, list[list[Segment]], bool] | None = None) -> None:
        """Add ``chunk`` below the chunks (rendering only ``chunk``, if the lines are rendered).

        ``rendered``: the job :meth:`next_job` gave for this chunk and what rendering it gave
        (elsewhere, e.g. in the helper process); used when the job still matches (same look),
        else the chunk is rendered here.
        """
        index = len(self.chunks)
        self.chunks.append(chunk)
        if self.look is None:
            return
        if rendered is not None and rendered[0] == self._job(chunk, index, self.look):
            _, lines, ends_with_rule = rendered
            del self._ends_with_rule[index:]
            self._ends_with_rule.append(ends_with_rule)
            self.lines.extend(lines)
        else:
            self.lines.extend(self._render_chunk(index, self.look, console))

    def next_job(self, chunk: str, look: Look) -> ChunkJob | None:
        """What rendering ``chunk`` as the next chunk takes (None unless the lines are rendered
        for ``look``)."""
        return self._job(chunk, len(self.chunks), look) if look == self.look else None

    def _job(self, chunk: str, index: int, look: Look) -> ChunkJob:
        """Chunk ``index`` (the chunks before it rendered) for ``look``: it follows a block that
        asks for a blank line unless the chunk before ends with a rule (chunks are rendered in
        order, each parsed once)."""
        follows_block = index > 0 and not self._ends_with_rule[index - 1]
        return ChunkJob(chunk, follows_block, look.options, look.base_style, look.link_style)

    def _render_chunk(self, index: int, look: Look, console: Console) -> list[list[Segment]]:
        """The lines chunk ``index`` adds, exactly as they appear when rich renders all the
        chunks as one document (:func:`render_chunk`)."""
        if look.width < 1:
            return []
        lines, ends_with_rule = render_chunk(self._job(self.chunks[index], index, look), console)
        del self._ends_with_rule[index:]
        self._ends_with_rule.append(ends_with_rule)
        return lines

    def render(self, look: Look, console: Console) -> bool:
        """Render what ``look`` needs and is not rendered yet (all of it for a new look, else
        only a changed tail); whether the lines changed."""
        changed = False
        if look != self.look:
            self.look = look
            self.lines = [line for index in range(len(self.chunks)) for line in self._render_chunk(index, look, console)]
            self.generation += 1
            changed = True
        key = (self.tail, self.generation, len(self.chunks))
        if key != self._tail_key:
            self._tail_key = key
            self.tail_lines = render_chunk(self._job(self.tail, len(self.chunks), look), console)[0] \
                if self.tail and look.width >= 1 else []
            changed = True
        return changed

    def line(self, y: int) -> list[Segment]:
        """Line ``y`` of the chunks, then of the tail."""
        frozen = len(self.lines)
        return self.lines[y] if y < frozen else self.tail_lines[y - frozen]
