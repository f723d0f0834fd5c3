"""A vertical scrollbar drawn straight from its bar's segments.

Textual's ``ScrollBar`` renders a Rich renderable and then styles it line by line through its
general per-line pipeline; while an answer streams, the chat pane's scrollbar changes on every
frame. :class:`LightScrollBar` draws Textual's own ``ScrollBarRender.render_bar`` segments, a
strip per line, the same segments and styles as Textual's path (tests/test_light_scrollbar.py
compares them). :class:`LightScrollBars` gives a scrolling widget one.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.geometry import Region
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.widget import Widget


class LightScrollBar(ScrollBar):
    """A vertical scrollbar whose lines are its bar's segments on the widget's base style.

    With nothing to scroll it draws the gutter it stands on (its parent's background), so a
    widget can keep it shown (``overflow-y: scroll``) and look as if it came only when needed:
    the bar then never appears or goes, and neither asks the screen for a layout.
    """

    def render_lines(self, crop: Region) -> list[Strip]:
        bar = self.render()
        width, height = self.size
        if not self.vertical or not isinstance(bar, ScrollBarRender) or not width:
            return super().render_lines(crop)
        if self.window_virtual_size <= self.window_size:  # nothing to scroll
            return [self._gutter(width).crop(crop.x, crop.right)] * crop.height
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

    def _gutter(self, width: int) -> Strip:
        """A line of the widget's blank gutter: spaces on its parent's background."""
        base_background, background = (self.parent or self).background_colors
        return Strip([Segment(" " * width, VisualStyle(background=base_background + background).rich_style)], width)


class LightScrollBars:
    """Mixin for a scrolling widget, listed before the widget's class: its vertical scrollbar is
    a :class:`LightScrollBar`. Not a ``Widget`` itself: Textual takes a class's CSS type names
    and default CSS from its first widget base only."""

    _vertical_scrollbar: ScrollBar | None

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """Textual's own property (textual is pinned), creating a :class:`LightScrollBar`."""
        if self._vertical_scrollbar is None:
            assert isinstance(self, Widget)
            bar = LightScrollBar(vertical=True, name="vertical", thickness=self.scrollbar_size_vertical)
            bar.display = False
            self._vertical_scrollbar = bar
            self.app._start_widget(self, bar)
        return self._vertical_scrollbar
