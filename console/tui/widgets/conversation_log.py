"""The scrolling conversation of a chat pane, cheap to draw while an answer streams into it.

While a pane follows a streaming answer, the log scrolls and grows every frame, and Textual draws
again every visible line of every widget whose size or scroll position changed, through its
general per-line pipeline (styles cache, padding, background, a ``Strip`` per line). Two of those
widgets draw nothing of their own: the log and an answer's container are only background under
their children. They are ``BLANK`` (Textual's own switch for such containers: each line is one
shared blank strip). The log's vertical scrollbar is drawn straight from Textual's own
``ScrollBarRender.render_bar`` segments, a strip per line, the same segments and styles as
Textual's path (tests/test_conversation_log.py compares them) without rendering a Rich renderable
and then styling it line by line. On the 2-core VM the two cut the time a frame spends drawing by
about a third (docs/benchmarks.md, P2).
"""

from __future__ import annotations

from rich.segment import Segment
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip


class LightScrollBar(ScrollBar):
    """A vertical scrollbar whose lines are its bar's segments on the widget's base style."""

    def render_lines(self, crop: Region) -> list[Strip]:
        bar = self.render()
        width, height = self.size
        if not self.vertical or not isinstance(bar, ScrollBarRender) or not width:
            return super().render_lines(crop)
        style = bar.style  # a rich Style from ScrollBar.render: colours resolved, hover and grab applied
        segments = bar.render_bar(
            size=height,
            virtual_size=bar.virtual_size,
            window_size=bar.window_size,
            position=bar.position,
            thickness=width,
            vertical=True,
            back_color=style.bgcolor,
            bar_color=style.color,
        ).segments
        base = self.visual_style.rich_style
        drawn: dict[Segment, Strip] = {}  # most lines are the same segment: one strip for each kind
        strips = []
        for segment in segments[crop.y : crop.bottom]:
            strip = drawn.get(segment)
            if strip is None:
                strip = drawn[segment] = Strip([Segment(segment.text, base + segment.style)], width)
            strips.append(strip)
        if crop.x or crop.width != width:
            strips = [strip.crop(crop.x, crop.right) for strip in strips]
        return strips


class ConversationLog(VerticalScroll):
    """A chat pane's log: blank itself, with a :class:`LightScrollBar`."""

    BLANK = True

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """Textual's own property (textual is pinned), creating a :class:`LightScrollBar`."""
        if self._vertical_scrollbar is None:
            bar = LightScrollBar(vertical=True, name="vertical", thickness=self.scrollbar_size_vertical)
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar
