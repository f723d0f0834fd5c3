"""The chat pane's log draws what Textual's own scroll container draws, more cheaply.

Widget tests in a small host app (no server): a ``ConversationLog`` and a plain ``VerticalScroll``
side by side, same CSS, same content, scrolled alike. The log's scrollbar must give Textual's
scrollbar's lines segment for segment (text, styles, mouse actions) at every position and in the
hover and grab states; the blank log, and an answer in it, must give the same cells (text and
background) as Textual's full per-line pipeline.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Offset, Region
from textual.scrollbar import ScrollBar
from textual.widgets import Static

from console.tui.widgets.chat_pane import ChatPane
from console.tui.widgets.conversation_log import ConversationLog, LightScrollBar
from console.tui.widgets.streaming_answer import StreamingAnswer

CSS = """
Horizontal { height: 1fr; }
.log { width: 1fr; height: 1fr; padding: 0 1; scrollbar-gutter: stable; background: $panel; }
"""
TEXT = "\n".join(f"line {n} " + "word " * (n % 13) for n in range(300))


class Host(App):
    CSS = CSS

    def compose(self) -> ComposeResult:
        with Horizontal():
            with ConversationLog(classes="log", id="ours"):
                yield Static(TEXT)
            with VerticalScroll(classes="log", id="textual"):
                yield Static(TEXT)


def segments(strips) -> list[list[tuple[str, object]]]:  # noqa: ANN001
    return [[(segment.text, segment.style) for segment in strip] for strip in strips]


def cells(strips) -> list[list[tuple[str, object]]]:  # noqa: ANN001
    """Each line as (character, background colour) per cell: what the terminal shows of a blank
    widget, however its segments are split."""
    return [
        [(char, segment.style.bgcolor if segment.style else None) for segment in strip for char in segment.text]
        for strip in strips
    ]


def crops(height: int, width: int) -> list[Region]:
    return [Region(0, 0, width, height), Region(0, 3, width, 7), Region(1, 0, width - 1, height)]


async def test_the_light_scrollbar_draws_what_textual_scrollbar_draws():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        ours, theirs = app.query_one("#ours", ConversationLog), app.query_one("#textual", VerticalScroll)
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


async def test_blank_containers_show_the_cells_textual_would_draw():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        ours = app.query_one("#ours", ConversationLog)
        assert ours.BLANK
        ours.scroll_to(y=40, animate=False)
        await pilot.pause()
        width, height = ours.size
        for crop in crops(height, width):
            ours._styles_cache.clear()
            full = ours._styles_cache.render_widget(ours, crop)  # what Widget.render_lines does when not BLANK
            assert cells(ours.render_lines(crop)) == cells(full)
            assert len(full) == crop.height and {char for row in cells(full) for char, _ in row} == {" "}

        answer = StreamingAnswer()  # not BLANK: its own lines (FrozenMarkdown's path) against Textual's pipeline
        await ours.mount(answer)
        stream = answer.get_stream()
        await stream.write("# An answer\n\nwith a paragraph\n\n- and\n- a list\n")
        await stream.stop()
        await pilot.pause()
        assert answer.size.height > 5
        crop = Region(0, 0, answer.size.width, answer.size.height)
        answer._styles_cache.clear()
        assert cells(answer.render_lines(crop)) == cells(answer._styles_cache.render_widget(answer, crop))


class PaneHost(App):
    def compose(self) -> ComposeResult:
        with Vertical():
            yield ChatPane("A")


async def test_the_chat_pane_streams_into_a_conversation_log_with_the_light_scrollbar():
    app = PaneHost()
    async with app.run_test(size=(80, 24)) as pilot:
        pane = app.query_one(ChatPane)
        log = pane.log_view
        assert type(log) is ConversationLog
        stream = await pane.open_answer("a long one")
        await stream.write("first words\n\n")
        for n in range(60):
            await stream.write(f"paragraph {n}\n\n")
        await stream.stop()
        await pilot.pause()
        assert type(log.vertical_scrollbar) is LightScrollBar and log.vertical_scrollbar.display
        assert log.max_scroll_y > 0 and log.scroll_y == log.max_scroll_y  # followed to the bottom
        assert "paragraph 59" in pane.shown_answer()
