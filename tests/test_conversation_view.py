"""The conversation view draws what the chat pane's widgets drew, and grows without a layout.

Widget tests in a small host app (no server). The reference is the structure the pane had until
2026-12-02: a ``VerticalScroll`` (anchored, padded, with a stable scrollbar gutter) holding a
``Static`` per prompt and note and a ``Static`` of rich's ``Markdown`` per answer, styled by the
CSS below (the pane's CSS of then). It sits beside a :class:`ConversationView` with the same
conversation; every cell of the screen (character, colours, bold, reverse) must be the same in both
halves: a short conversation sitting at the bottom, a long one at its end, scrolled up, after a
resize and in another theme.
"""

from __future__ import annotations

from rich.markdown import Markdown as RichMarkdown
from textual import messages
from textual.app import App, ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Static

from console.tui.widgets.chat_pane import ChatPane
from console.tui.widgets.conversation_view import ANSWER, ERROR, NOTE, PROMPT, ConversationView
from console.tui.widgets.light_scrollbar import LightScrollBar
from tests.pilot_helpers import screen_layouts, widget_cells

REFERENCE_CSS = """
Horizontal { height: 1fr; }
#reference { width: 1fr; height: 1fr; padding: 0 1; scrollbar-gutter: stable; }
#view { width: 1fr; height: 1fr; padding: 0 1; }
.msg-user { margin: 1 0 0 0; padding: 0 1; background: $primary 20%; text-style: bold; }
.msg-answer { padding: 0 2; }
.msg-error { color: $error; padding: 0 1; }
.msg-note { color: $text-muted; padding: 0 1; }
"""
ANSWER_TEXT = (
    "# A heading\n\nSome **bold** and `code` in a paragraph long enough to wrap at least once "
    "in a narrow pane.\n\n- a list\n- of two\n\n```python\nprint('hi')\n```\n\n> a quote\n\n"
    "| a | b |\n|---|---|\n| 1 | 2 |\n"
)


class Host(App):
    CSS = REFERENCE_CSS

    def compose(self) -> ComposeResult:
        with Horizontal():
            yield VerticalScroll(id="reference")
            yield ConversationView(id="view")


async def show(app: Host, conversation: list[tuple[str, str]]) -> None:
    """The same conversation in both halves."""
    reference, view = app.query_one("#reference"), app.query_one(ConversationView)
    classes = {PROMPT: "msg-user", NOTE: "msg-note", ERROR: "msg-error"}
    for kind, text in conversation:
        if kind == ANSWER:
            await reference.mount(Static(RichMarkdown(text), classes="msg-answer"))
            view.add_answer().add(text)
        else:
            await reference.mount(Static(text, classes=classes[kind], markup=False))
            view.add_text(kind, text)
    for log in (reference, view):
        log.anchor()


def halves(app: Host) -> tuple[list, list]:
    """Each half of the screen's cells (``widget_cells``): the reference's and the view's."""
    return widget_cells(app, app.query_one("#reference")), widget_cells(app, app.query_one(ConversationView))


def conversation(answers: int) -> list[tuple[str, str]]:
    turns: list[tuple[str, str]] = []
    for n in range(answers):
        turns += [(PROMPT, f"question {n}: " + "why " * (n * 7 % 23)), (ANSWER, ANSWER_TEXT)]
        if n % 3 == 2:
            turns.append((NOTE, "■ stopped"))
        if n % 4 == 3:
            turns.append((ERROR, "✗ unavailable: server unreachable"))
    return turns


async def test_the_view_draws_the_cells_the_widgets_drew():
    app = Host()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        reference, view = halves(app)
        assert reference == view  # empty: the view's idle scrollbar is the reference's bare gutter
        await show(app, conversation(1))
        await pilot.pause()
        reference, view = halves(app)
        assert reference == view and any(char != " " for row in view for char, *_ in row)  # short: at the bottom

        await show(app, conversation(9)[2:])
        await pilot.pause()
        ours = app.query_one(ConversationView)
        assert ours.max_scroll_y > 50 and ours.scroll_y == ours.max_scroll_y and type(ours.vertical_scrollbar) is LightScrollBar
        reference, view = halves(app)
        assert reference == view  # at the end, scrollbar included

        for log in (app.query_one("#reference"), ours):
            log.scroll_to(y=37, animate=False)
        await pilot.pause()
        assert halves(app)[0] == halves(app)[1]

        await pilot.resize_terminal(90, 30)
        await pilot.pause()
        for log in (app.query_one("#reference"), ours):
            log.scroll_to(y=12, animate=False)
        await pilot.pause()
        assert halves(app)[0] == halves(app)[1]

        app.theme = "textual-light"
        await pilot.pause()
        reference, view = halves(app)
        assert reference == view


async def test_a_growing_answer_asks_for_no_layout():
    """While an answer streams, from its first line through the moment it first overflows the
    view to long after, the screen lays nothing out: the view sets its height and scroll
    position itself and follows the bottom, and its scrollbar, always shown, never appears."""
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        view.anchor()
        await pilot.pause()
        assert view.vertical_scrollbar.display and view.max_scroll_y == 0
        text = ""
        with screen_layouts() as layouts:
            view.add_text(PROMPT, "a long one")
            answer = view.add_answer()
            for n in range(80):
                text += f"paragraph {n} " + "word " * n + "\n\n"
                answer.set_tail(text)
                await pilot.pause()
                assert view.scroll_y == view.max_scroll_y  # following
        assert layouts == []
        assert view.virtual_size.height == answer.height + 2 > 100  # the prompt: a margin and its line
        assert "paragraph 79" in view.texts(ANSWER)[0]


async def test_the_reader_scrolling_up_stops_following_and_the_end_starts_it_again():
    app = Host()
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ConversationView)
        view.anchor()
        answer = view.add_answer()
        text = "".join(f"line {n}\n\n" for n in range(60))
        answer.set_tail(text)
        await pilot.pause()
        view.focus()
        await pilot.press("pageup")
        await pilot.pause()
        held = view.scroll_y
        assert held < view.max_scroll_y
        answer.set_tail(text + "".join(f"more {n}\n\n" for n in range(20)))
        await pilot.pause()
        assert view.scroll_y == held < view.max_scroll_y  # the reader's place is kept
        await pilot.press("end")
        await pilot.pause()
        answer.set_tail(text + "".join(f"more {n}\n\n" for n in range(40)))
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y  # following again
        await pilot.press("up")
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y - 1
        await pilot.press("down")  # back at the bottom by hand: following again
        await pilot.pause()
        answer.set_tail(text + "".join(f"more {n}\n\n" for n in range(60)))
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y


class PaneHost(App):
    CSS_PATH = "../console/tui/widgets/chat_pane.tcss"

    def compose(self) -> ComposeResult:
        yield ChatPane("A")


async def test_the_pane_keeps_the_conversation_in_order_and_regenerates_the_last_answer():
    """Sending mounts nothing (the request waits for ``open_answer``: P1); notes, a second
    exchange and a regenerated answer keep their order; clearing empties the view."""
    app = PaneHost()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(ChatPane)
        await pilot.pause()
        view = pane.log_view
        assert pane.shown_answer() == "" and list(view.children) == []

        async def answer(prompt: str | None, text: str, replace: bool = False) -> None:
            stream = pane.open_answer(prompt, replace=replace)
            await stream.write(text)
            await stream.stop()

        await answer("first question", "first answer")
        assert list(view.children) == [], "open_answer mounted widgets"
        pane.add_note("■ stopped")
        await answer("second question", "second answer")
        pane.add_note("✗ boom", error=True)
        await answer(None, "second answer, again", replace=True)
        await pilot.pause()
        shown = [(entry.kind, view.texts(entry.kind)) for entry in view.entries]
        assert [kind for kind, _ in shown] == [PROMPT, ANSWER, NOTE, PROMPT, ANSWER]
        assert view.texts(PROMPT) == ["first question", "second question"]
        assert view.texts(ANSWER) == ["first answer", "second answer, again"]
        assert view.texts(NOTE) == ["■ stopped"] and view.texts(ERROR) == []
        assert pane.shown_answer() == "second answer, again"

        pane.clear()
        await pilot.pause()
        assert view.entries == [] and pane.shown_answer() == "" and view.virtual_size.height == 0
