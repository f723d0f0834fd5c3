"""Streamed Markdown whose finished part is rendered once, however often more is added below it.

A ``Static`` holding ``rich.markdown.Markdown`` renders its whole text again on every update,
and twice per layout (once to measure its height, once for its lines): a streamed answer that
grows by a few blocks every frame spent most of each frame there (docs/benchmarks.md, P2).
This widget keeps its text as chunks and its rendering as lines: :meth:`FrozenMarkdown.add`
renders only the new chunk; its height is the number of lines. Below the chunks, the *tail*
(:meth:`FrozenMarkdown.set_tail`: the block still growing) is rendered again whenever it
changed, at most once per frame. Everything is rendered again only when the width or the theme
changes.

A line is kept as its list of segments, and becomes a ``Strip`` only when it is drawn: a
``Strip`` carries seven caches, nine objects for the garbage collector to walk per line, and a
long answer's lines are the objects that survive to be walked (console/tui/quiet_gc.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from rich.console import Console, ConsoleOptions
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style as RichStyle
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget, _Styled  # Widget.post_render's wrapper; textual is pinned

if TYPE_CHECKING:
    from textual.color import Color
    from textual.filter import LineFilter


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


def chunk_job(widget: Widget, chunk: str, width: int, follows_block: bool = False) -> ChunkJob:
    """Rendering ``chunk`` at ``width`` in ``widget``, styled as Textual styles a renderable there."""
    base_style, link_style = widget_styles(widget)
    return ChunkJob(chunk, follows_block, widget.app.console_options.update(highlight=False, width=width),
                    base_style, link_style)


def widget_styles(widget: Widget) -> tuple[RichStyle, RichStyle | None]:
    """``widget.rich_style``, and its ``link_style`` when it has auto links, computed again only
    when a style of the widget or of an ancestor changed.

    Both walk the widget's ancestors and blend their colours (≈ 0.1 ms on the 2-core VM), and a
    freeze asks twice (for the helper's job, then to check the job still holds), a live list on
    every redraw. They read only the styles of the widget and its ancestors, and Textual counts
    every change of a widget's styles, from CSS or inline (``RenderStyles._cache_key``; textual
    is pinned).
    """
    key = (widget.auto_links, *[(id(node), node.styles._cache_key) for node in widget.ancestors_with_self])
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


class FrozenMarkdown(Widget):
    """Markdown chunks (each a run of complete top-level blocks), shown one after another."""

    DEFAULT_CSS = """
    FrozenMarkdown { height: auto; padding: 0 2; }
    """

    def __init__(self, classes: str = "") -> None:
        super().__init__(classes=classes)
        self.chunks: list[str] = []
        self._ends_with_rule: list[bool] = []  # per chunk rendered so far (rich puts no blank line after a rule)
        self._lines: list[list[Segment]] = []
        self._width = -1  # the width ``_lines`` were rendered at (-1: not rendered)
        # render_lines' finished strips of recently drawn lines, by line: valid while their key
        # (the lines' generation, the widths, padding, background and line filters) holds
        self._strips: dict[int, Strip] = {}
        self._strips_key: tuple | None = None
        self._generation = 0  # bumped whenever ``_lines`` is rendered again (lines only ever get appended otherwise)
        self.tail = ""  # the text after the chunks, still growing
        self._tail_lines: list[list[Segment]] = []
        self._tail_key: tuple | None = None  # what ``_tail_lines`` were rendered for

    @property
    def source(self) -> str:
        return "".join(self.chunks) + self.tail

    def set_tail(self, text: str) -> None:
        """Show ``text`` below the chunks instead of the tail before (rendered when drawn)."""
        if text != self.tail:
            self.tail = text
            self.refresh(layout=True)

    def add(self, chunk: str, rendered: tuple[ChunkJob, list[list[Segment]], bool] | None = None) -> None:
        """Show ``chunk`` below what is there (rendering only ``chunk``).

        ``rendered``: the job :meth:`next_job` gave for this chunk and what rendering it gave
        (elsewhere, e.g. in the helper process); used when the job still matches (same width,
        styles and console options), else the chunk is rendered here.
        """
        index = len(self.chunks)
        self.chunks.append(chunk)
        if self._width >= 1 and rendered is not None and rendered[0] == self._job(chunk, index, self._width):
            _, lines, ends_with_rule = rendered
            del self._ends_with_rule[index:]
            self._ends_with_rule.append(ends_with_rule)
            self._lines.extend(lines)
        elif self._width >= 0:
            self._lines.extend(self._render_chunk(index, self._width))
        self.refresh(layout=True)

    def next_job(self, chunk: str) -> ChunkJob | None:
        """What rendering ``chunk`` as the next chunk takes now (None before the first layout:
        nothing is rendered until the width is known)."""
        return self._job(chunk, len(self.chunks), self._width) if self._width >= 1 else None

    def _job(self, chunk: str, index: int, width: int) -> ChunkJob:
        """Chunk ``index`` (the chunks before it rendered) at ``width``: it follows a block that
        asks for a blank line unless the chunk before ends with a rule (chunks are rendered in
        order, each parsed once)."""
        return chunk_job(self, chunk, width, index > 0 and not self._ends_with_rule[index - 1])

    def _render_chunk(self, index: int, width: int) -> list[list[Segment]]:
        """The lines chunk ``index`` adds, exactly as they appear when rich renders all the
        chunks as one document (:func:`render_chunk`)."""
        if width < 1:
            return []
        lines, ends_with_rule = render_chunk(self._job(self.chunks[index], index, width), self.app.console)
        del self._ends_with_rule[index:]
        self._ends_with_rule.append(ends_with_rule)
        return lines

    def ensure_rendered(self, width: int) -> None:
        if width != self._width:
            self._width = width
            self._lines = [line for index in range(len(self.chunks)) for line in self._render_chunk(index, width)]
            self._generation += 1
        key = (self.tail, width, self._generation, len(self.chunks))
        if key != self._tail_key:
            self._tail_key = key
            self._tail_lines = render_chunk(self._job(self.tail, len(self.chunks), width), self.app.console)[0] \
                if self.tail and width >= 1 else []

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return container.width

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self.ensure_rendered(width)
        return len(self._lines) + len(self._tail_lines)

    def _line(self, y: int) -> list[Segment] | None:
        """Line ``y`` of the chunks, then of the tail (None below them)."""
        frozen = len(self._lines)
        if y < frozen:
            return self._lines[y]
        return self._tail_lines[y - frozen] if y - frozen < len(self._tail_lines) else None

    def render_line(self, y: int) -> Strip:
        width = self.content_size.width
        self.ensure_rendered(width)
        line = self._line(y)
        return Strip(line) if line is not None else Strip.blank(width)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Each line as Textual's pipeline would draw it (padding and background around the
        content line), built in one step when nothing else applies.

        While an answer streams, the frozen part grows on every freeze and its visible lines
        are mostly new each frame, so Textual's per-line pipeline (a ``Strip`` for the content,
        another to fit it, another to pad it) ran for about forty lines per pane per frame, a
        third of a frame on the 2-core VM. Anything this path does not draw (a border, vertical
        padding, tint, hatch, opacity, a hovered link) goes through Textual's;
        tests/test_frozen_markdown.py compares the two, segment for segment.
        """
        styles = self.styles
        top, right, bottom, left = styles.padding
        hover = self.hover_style
        if (
            top or bottom or styles.border.spacing or styles.outline.spacing or styles.tint.a
            or styles.text_opacity != 1.0 or self.opacity != 1.0
            or (styles.has_rule("hatch") and styles.hatch != "none")
            or (hover._link_id and hover._meta and "@click" in hover.meta)
        ):
            return super().render_lines(crop)
        width, content_width = self.region.width, self.content_region.width  # as Textual's pipeline
        self.ensure_rendered(content_width)
        base_background, background = self.background_colors
        inner = Style(background=base_background + background).rich_style  # Textual's StylesCache.get_inner_outer
        filters = self.get_line_filters()  # e.g. ANSI colours to true colour, applied as Textual does
        key = (self._generation, width, content_width, left, right, inner, background, *filters)  # filters by identity
        if key != self._strips_key:
            self._strips_key, self._strips = key, {}
        cached = self._strips
        if len(cached) > 4 * max(crop.height, 64):  # keep only about a screenful
            cached = self._strips = {y: cached[y] for y in crop.line_range if y in cached}
        left_pad, right_pad = Segment(" " * left, inner), Segment(" " * right, inner)
        frozen = len(self._lines)
        strips = []
        for y in crop.line_range:
            strip = cached.get(y)
            if strip is None:
                line = self._line(y)
                strip = self._line_strip(line if line is not None else [Segment(" " * content_width)],  # render_line's blank
                                         content_width, width, inner, left_pad if left else None,
                                         right_pad if right else None, filters, background)
                if y < frozen:  # the tail's lines and a blank below change; the chunks' lines do not
                    cached[y] = strip
            strips.append(strip)
        if crop.x or crop.width != width:
            strips = [strip.crop(crop.x, crop.right) for strip in strips]
        return strips

    @staticmethod
    def _line_strip(content: list[Segment], content_width: int, width: int, inner: RichStyle,
                    left_pad: Segment | None, right_pad: Segment | None, filters: Sequence[LineFilter],
                    background: Color) -> Strip:
        """One line as Textual's pipeline draws it: content, fill, padding, then line filters."""
        fill = content_width - Segment.get_line_length(content)
        segments = [*content, Segment(" " * fill, inner)] if fill > 0 else list(content)
        if left_pad is not None:
            segments.insert(0, left_pad)
        if right_pad is not None:
            segments.append(right_pad)
        for line_filter in filters:  # per segment, as Strip.apply_filter does
            segments = line_filter.apply(segments, background)
        return Strip(segments, width)

    def notify_style_update(self) -> None:
        self._width = -1  # colours are baked into the lines: render again with the new ones
        super().notify_style_update()
