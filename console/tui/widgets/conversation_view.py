"""A chat pane's conversation as one widget that draws its own lines.

Until 2026-12-02 the conversation was a ``VerticalScroll`` of widgets (a ``Static`` per prompt
and note, a Markdown widget per answer). While an answer streamed, it grew on every drain, and a
growing widget asks Textual for a layout: the screen's compositor then arranged every widget of
the screen again, on nearly every frame (49–56 of 54–61 frames in a P2 run on the 2-core VM,
7.1–7.2 ms of CPU a frame; with this view 18–20 of 60–79, 4.5–5.1 ms: docs/benchmarks.md, P2).

Here the conversation is a list of entries (prompts, notes, answers) that render themselves
into rows of segments, and one ``ScrollView`` that draws the rows in view. When an answer grows,
only the view's virtual height changes: the view sets it without asking for a layout, follows the
bottom itself, and repaints itself. Its scrollbar never appears or goes (that would ask for a
layout, 15–22 ms of a frame when the first answer overflowed, on 16 CPUs): it is always shown
and draws a blank gutter while there is nothing to scroll (light_scrollbar.py). A frame
then draws the two panes' lines and scrollbars, and nothing else on the screen moves.

Rows are kept as lists of segments and become ``Strip`` objects only when drawn (a ``Strip``
carries seven caches for the garbage collector to walk: console/tui/quiet_gc.py); strips of rows
that no longer change are kept for later frames, about a screenful of them.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.text import Text
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.style import Style
from textual.widget import Widget

from console.tui.widgets.light_scrollbar import LightScrollBars
from console.tui.widgets.frozen_markdown import Look, MarkdownLines, look_for, styles_key

if TYPE_CHECKING:
    from textual.color import Color
    from textual.filter import LineFilter

    from console.tui.frozen_render import FrozenRenderer

PROMPT, ANSWER, NOTE, ERROR = "prompt", "answer", "note", "error"
PADDING = {PROMPT: 1, ANSWER: 2, NOTE: 1, ERROR: 1}  # columns inside an entry, in its own background
MARGIN_ABOVE = {PROMPT: 1, ANSWER: 0, NOTE: 0, ERROR: 0}  # blank rows above an entry
Row = list[Segment]
_serials = itertools.count()  # entries' keys in the strip cache (an id could be reused after a removal)


@dataclass(frozen=True, eq=False)
class ViewLook:
    """Everything an entry's rows depend on besides its text; one per width and set of styles
    (entries compare it by identity)."""

    width: int  # of a row: the view's width inside its padding and scrollbar
    blank: RichStyle  # the view's background, for margins and blank rows
    text_styles: dict[str, RichStyle]  # prompts' and notes' text
    options: ConsoleOptions  # the app's console options
    markdown: Look  # answers' text

    def blank_row(self) -> Row:
        return [Segment(" " * self.width, self.blank)]


class TextEntry:
    """A prompt or a note: plain text (no markup), wrapped."""

    def __init__(self, kind: str, text: str) -> None:
        self.kind, self.text = kind, text
        self.serial = next(_serials)
        self.rows: list[Row] = []
        self._look: ViewLook | None = None

    @property
    def height(self) -> int:
        return len(self.rows)

    def render(self, look: ViewLook, console: Console) -> bool:
        """Render for ``look`` unless done already; whether the rows changed."""
        if look is self._look:
            return False
        self._look = look
        style, pad = look.text_styles[self.kind], PADDING[self.kind]
        inner = look.width - 2 * pad
        own = RichStyle(bgcolor=style.bgcolor)  # padding and fill: the entry's background
        lines = console.render_lines(Text(self.text, style=style, end=""), look.options.update(width=inner), pad=False) \
            if inner >= 1 else []
        padding = Segment(" " * pad, own)
        self.rows = [look.blank_row() for _ in range(MARGIN_ABOVE[self.kind])]
        for number, line in enumerate(lines, 1):
            if number < len(lines) and line and line[-1].text.endswith(" "):  # the space a wrap ends on is padding, as Textual draws it
                last = line[-1]
                line = [*line[:-1], Segment(last.text.rstrip(" "), last.style)]
            fill = inner - Segment.get_line_length(line)
            self.rows.append([padding, *line, Segment(" " * (fill + pad), own)])
        return True

    def row(self, y: int) -> Row:
        return self.rows[y]

    def settled(self, y: int) -> bool:
        """Whether row ``y`` stays as it is until the look changes."""
        return True


class AnswerEntry:
    """An answer's Markdown (:class:`MarkdownLines`), fed by its ``AnswerStream``."""

    kind = ANSWER

    def __init__(self, view: ConversationView) -> None:
        self.view = view
        self.serial = next(_serials)
        self.markdown = MarkdownLines()
        self._look: ViewLook | None = None

    @property
    def source(self) -> str:
        return self.markdown.source

    @property
    def height(self) -> int:
        return self.markdown.height

    def render(self, look: ViewLook, console: Console) -> bool:
        self._look = look
        return self.markdown.render(look.markdown, console)

    def row(self, y: int) -> Row:
        look = self._look
        assert look is not None
        line = self.markdown.line(y)
        pad = PADDING[ANSWER]
        fill = look.width - 2 * pad - Segment.get_line_length(line)
        return [Segment(" " * pad, look.blank), *line, Segment(" " * (fill + pad), look.blank)]

    def settled(self, y: int) -> bool:
        return y < len(self.markdown.lines)  # the tail's rows change as it grows

    # ----- what the answer's stream calls ------------------------------------------------------
    def set_tail(self, text: str) -> None:
        if self.markdown.set_tail(text):
            self.view.entry_changed()

    def add(self, chunk: str, rendered=None) -> None:  # noqa: ANN001 - see MarkdownLines.add
        self.markdown.add(chunk, self.view.app.console, rendered)
        self.view.entry_changed()

    async def freeze(self, finished: str, tail: str, renderer: FrozenRenderer | None = None) -> None:
        """Show ``finished`` (complete blocks that follow the frozen text) as frozen and ``tail``
        as the tail, in one step (no frame shows the text twice or not at all).

        With a ``renderer``, rich renders ``finished`` in its helper process while the screen's
        loop goes on drawing (console/tui/frozen_render.py); without one, or when the helper
        cannot, it is rendered here.
        """
        rendered = None
        look = self._look
        job = self.markdown.next_job(finished, look.markdown) if renderer is not None and look is not None else None
        if job is not None and renderer is not None:
            result = await renderer.render(job, self.view.app.console.color_system)
            rendered = None if result is None else (job, *result)
        self.markdown.add(finished, self.view.app.console, rendered)
        self.markdown.set_tail(tail)
        self.view.entry_changed()


Entry = TextEntry | AnswerEntry


class ConversationView(LightScrollBars, ScrollView, can_focus=True):
    """Prompts, answers and notes, drawn as rows; anchored to the bottom by its pane."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"conversation--prompt", "conversation--note", "conversation--error"}
    DEFAULT_CSS = """
    ConversationView { overflow-x: hidden; overflow-y: scroll; padding: 0 1; }
    ConversationView > .conversation--prompt { background: $primary 20%; text-style: bold; }
    ConversationView > .conversation--note { color: $text-muted; }
    ConversationView > .conversation--error { color: $error; }
    """

    def __init__(self, **kwargs) -> None:  # noqa: ANN003 - Widget's
        super().__init__(**kwargs)
        self.entries: list[Entry] = []
        self._starts: list[int] = []  # the first row of each entry
        self._rows = 0
        self._stale = True  # entries changed since the rows were counted
        self._drawn = False  # a frame drew the view since the rows were counted
        self._look: ViewLook | None = None
        self._look_key: tuple | None = None
        self._counted: ViewLook | None = None  # the look the rows were counted for
        self._strips: dict[tuple[int, int], Strip] = {}  # settled rows' strips, by (entry's serial, row)
        self._strips_key: tuple | None = None

    # ----- the conversation --------------------------------------------------------------------------
    def add_text(self, kind: str, text: str) -> TextEntry:
        entry = TextEntry(kind, text)
        self.entries.append(entry)
        self.entry_changed()
        return entry

    def add_answer(self) -> AnswerEntry:
        entry = AnswerEntry(self)
        self.entries.append(entry)
        self.entry_changed()
        return entry

    def drop_last_answer(self) -> None:
        """Remove everything after the last prompt (the answer and its notes), keeping the prompt."""
        while self.entries and self.entries[-1].kind != PROMPT:
            self.entries.pop()
        self.entry_changed()

    def clear(self) -> None:
        self.entries.clear()
        self._strips.clear()
        self.entry_changed()

    def texts(self, kind: str) -> list[str]:
        """The text of every entry of ``kind``, top to bottom."""
        return [entry.source if isinstance(entry, AnswerEntry) else entry.text for entry in self.entries if entry.kind == kind]

    def entry_changed(self) -> None:
        """An entry was added, removed or grew: count the rows on the next idle (or, when one
        came since the last frame, on the next frame) and repaint."""
        self._stale = True
        self.refresh()

    # ----- rows ------------------------------------------------------------------------------------------
    def current_look(self) -> ViewLook | None:
        """The look at the view's current width and styles (None before the first layout)."""
        width = self.scrollable_content_region.width
        if width < 1 or not self.is_mounted:
            return None
        names = sorted(self.COMPONENT_CLASSES)
        key = (width, styles_key(self), *(self.get_component_styles(name)._cache_key for name in names),
               self.app.console.color_system)
        if key != self._look_key:
            base_background, background = self.background_colors
            markdown_width = width - 2 * PADDING[ANSWER]
            self._look_key = key
            self._look = ViewLook(
                width=width,
                blank=Style(background=base_background + background).rich_style,
                text_styles={kind: self.get_component_rich_style(f"conversation--{kind}") for kind in (PROMPT, NOTE, ERROR)},
                options=self.app.console_options.update(highlight=False),
                markdown=look_for(self, max(markdown_width, 0)),
            )
        return self._look

    def _count_rows(self) -> ViewLook | None:
        """Render what is not rendered for the current look; count the rows."""
        look = self.current_look()
        if look is None:
            return None
        console = self.app.console
        starts, row = [], 0
        for entry in self.entries:
            entry.render(look, console)
            starts.append(row)
            row += entry.height
        self._starts, self._rows = starts, row
        self._stale, self._counted, self._drawn = False, look, False
        return look

    def _counted_look(self) -> ViewLook | None:
        """The current look, the rows counted for it."""
        look = self.current_look()
        return self._count_rows() if self._stale or look is not self._counted else look

    def _check_refresh(self) -> None:
        """Textual's idle hand-over of a refresh (textual is pinned): first count the rows and
        set the view's height and scroll position without a layout.

        Only once between two frames: a streaming answer's drains come several times a frame
        when the loop has time, and counting renders the tail again. After the first, the
        frame counts (:meth:`render_lines`), with all the text that came meanwhile.
        """
        if self._drawn or not self._stale:
            self._grow()
        super()._check_refresh()

    def _grow(self) -> ViewLook | None:
        """Count the rows if needed, then set the virtual height and follow the bottom; the look."""
        look = self._counted_look()
        if look is None:
            return None
        size = Size(look.width, self._rows)
        if size != self.virtual_size:
            if size.width == self.virtual_size.width:
                self.set_reactive(Widget.virtual_size, size)  # no layout: nothing else on the screen moves
                self._scroll_update(size)  # the scrollbar's thumb (it is always shown: no layout)
            else:
                self.virtual_size = size
        if self._anchored and not self._anchor_released:
            bottom = self.max_scroll_y
            if bottom != self.scroll_y:
                self.set_reactive(Widget.scroll_y, bottom)
                self.set_reactive(Widget.scroll_target_y, bottom)
                if self.show_vertical_scrollbar:
                    self.vertical_scrollbar.position = bottom
        return look

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self._anchored and self._anchor_released:
            self._check_anchor()  # back at the bottom (wheel, arrow keys): follow again

    def on_resize(self) -> None:
        self.entry_changed()

    def notify_style_update(self) -> None:
        self._look_key = None  # colours are baked into the rows: render again with the new ones
        super().notify_style_update()
        self.entry_changed()

    # ----- drawing ---------------------------------------------------------------------------------------
    def render_lines(self, crop: Region) -> list[Strip]:
        """The rows in view, a short conversation sitting at the bottom (as in a messenger)."""
        look = self._grow() if self._stale else self._counted_look()
        if look is None:
            return [Strip.blank(crop.width, self.rich_style) for _ in crop.line_range]
        self._drawn = True
        filters = self.get_line_filters()
        background = self.background_colors[1]
        # Textual's layout of a padded scroll view: padding, the rows, the scrollbar (drawn over
        # these columns), padding
        width, left = self.region.width, self.styles.padding.left
        before = [Segment(" " * left, look.blank)] if left else []
        after = [Segment(" " * (width - left - look.width), look.blank)] if width > left + look.width else []
        key = (look, width, *filters)  # filters by identity
        if key != self._strips_key:
            self._strips_key, self._strips = key, {}
        cached = self._strips
        if len(cached) > 4 * max(crop.height, 64):  # keep only about a screenful
            cached = self._strips = {}
        top = self.scroll_offset.y - max(0, self.scrollable_content_region.height - self._rows)
        blank: Strip | None = None
        strips = []
        for y in crop.line_range:
            row = top + y
            if not 0 <= row < self._rows:
                if blank is None:
                    blank = self._strip([*before, *look.blank_row(), *after], width, filters, background)
                strips.append(blank)
                continue
            index = bisect_right(self._starts, row) - 1
            entry = self.entries[index]
            at = row - self._starts[index]
            settled = entry.settled(at)
            strip = cached.get((entry.serial, at)) if settled else None
            if strip is None:
                strip = self._strip([*before, *entry.row(at), *after], width, filters, background)
                if settled:
                    cached[entry.serial, at] = strip
            strips.append(strip)
        if crop.x or crop.width != width:
            strips = [strip.crop(crop.x, crop.right) for strip in strips]
        return strips

    @staticmethod
    def _strip(row: Row, width: int, filters: Sequence[LineFilter], background: Color) -> Strip:
        for line_filter in filters:  # per segment, as Strip.apply_filter does
            row = line_filter.apply(row, background)
        return Strip(row, width)
