"""The light scrollbar draws what Textual's own scrollbar draws, more cheaply.

Widget test in a small host app (no server): a ``VerticalScroll`` with :class:`LightScrollBars`
and a plain one side by side, same CSS, same content, scrolled alike. Ours must give Textual's
scrollbar's lines segment for segment (text, styles, mouse actions) at every position and in the
hover and grab states.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.geometry import Offset, Region
from textual.scrollbar import ScrollBar
from textual.widgets import Static

from console.tui.widgets.light_scrollbar import LightScrollBar, LightScrollBars

CSS = """
Horizontal { height: 1fr; }
.log { width: 1fr; height: 1fr; padding: 0 1; scrollbar-gutter: stable; background: $panel; }
"""
TEXT = "\n".join(f"line {n} " + "word " * (n % 13) for n in range(300))


class LightScroll(LightScrollBars, VerticalScroll):
    pass


class Host(App):
    CSS = CSS

    def compose(self) -> ComposeResult:
        with Horizontal():
            with LightScroll(classes="log", id="ours"):
                yield Static(TEXT)
            with VerticalScroll(classes="log", id="textual"):
                yield Static(TEXT)


def segments(strips) -> list[list[tuple[str, object]]]:  # noqa: ANN001
    return [[(segment.text, segment.style) for segment in strip] for strip in strips]


def crops(height: int, width: int) -> list[Region]:
    return [Region(0, 0, width, height), Region(0, 3, width, 7), Region(1, 0, width - 1, height)]


async def test_the_light_scrollbar_draws_what_textual_scrollbar_draws():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        ours, theirs = app.query_one("#ours", LightScroll), app.query_one("#textual", VerticalScroll)
        bar = ours.vertical_scrollbar
        assert type(bar) is LightScrollBar and type(theirs.vertical_scrollbar) is ScrollBar
        compared = 0
        for y in (0, 1, 5, 50, 137, 271, 10_000):
            for log in (ours, theirs):
                log.scroll_to(y=y, animate=False)
            await pilot.pause()
            assert bar.display and bar.size.height == 30 and ours.scroll_y == theirs.scroll_y
            for state in ("plain", "hover", "grabbed"):
                for scrollbar in (bar, theirs.vertical_scrollbar):
                    scrollbar.mouse_over = state == "hover"
                    scrollbar.grabbed = Offset(0, 0) if state == "grabbed" else None
                await pilot.pause()
                for crop in crops(bar.size.height, bar.size.width):
                    theirs.vertical_scrollbar.refresh()  # Textual's own path, not its line cache
                    expected = ScrollBar.render_lines(theirs.vertical_scrollbar, crop)
                    assert segments(bar.render_lines(crop)) == segments(expected), (y, state, crop)
                    compared += 1
        assert compared == 7 * 3 * 3
