"""A long multi-block answer streamed through a chat pane ends with exactly the text sent.

Widget test in a small host app (no server): the pane's AnswerStream freezes finished blocks
while the tail keeps streaming, so the text shown must still be the sent text, byte for
byte, and the pane must not hold a widget per block.
"""

from __future__ import annotations

import asyncio
import random

from textual.app import App, ComposeResult
from textual.widgets import Markdown

from console.tui.widgets.chat_pane import ChatPane
from console.tui.widgets.streaming_answer import StreamingAnswer, block_starts, split_finished_blocks

SECTION = (
    "## Part {i}\n\n"
    "Some **bold** text and `code` in a paragraph\nthat spans two lines.\n\n"
    "- first item\n- second item\n\n  still the second item\n- third item\n\n"
    "1. one\n2. two\n\n"
    "```python\ndef f{i}():\n\n    return {i}  # a blank line above, inside the fence\n```\n\n"
    "> a quote\n> on two lines\n\n"
    "| a | b |\n|---|---|\n| {i} | x |\n\n"
)
ANSWER = "".join(SECTION.format(i=i) for i in range(40)) + "The end, no newline"


def pieces(text: str, seed: int = 7) -> list[str]:
    """``text`` cut into deltas of 1 to 12 characters (mid-word, mid-fence, mid-line)."""
    rng = random.Random(seed)
    out, i = [], 0
    while i < len(text):
        n = rng.randint(1, 12)
        out.append(text[i : i + n])
        i += n
    return out


class Host(App):
    CSS_PATH = "../console/tui/widgets/chat_pane.tcss"

    def compose(self) -> ComposeResult:
        yield ChatPane("A")


async def test_long_answer_ends_with_exactly_the_sent_text():
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(ChatPane)
        stream = await pane.open_answer("a long question")
        for n, piece in enumerate(pieces(ANSWER)):
            await stream.write(piece)
            if n % 25 == 0:
                await asyncio.sleep(0.02)  # let the drain task run between bursts
        await stream.stop()
        await pilot.pause()
        answer = pane.log_view.query_one(StreamingAnswer)
        assert answer.source == ANSWER
        assert pane.shown_answer() == ANSWER
        # finished blocks were frozen, chunk by chunk, into one FrozenMarkdown; only the last
        # block is its tail, and no block became a widget
        assert len(answer.chunks) > 10, "the stream did not freeze as it went"
        assert "".join(answer.chunks) + answer.tail == ANSWER
        assert answer.tail == "The end, no newline"
        assert list(answer.query(Markdown)) == [] and list(answer.children) == []


async def test_stop_right_away_still_shows_everything_written():
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(ChatPane)
        stream = await pane.open_answer(None)
        for piece in pieces(ANSWER[:3000], seed=3):
            await stream.write(piece)
        await stream.stop()  # no pause between writes: one flush at stop
        await pilot.pause()
        assert pane.shown_answer() == ANSWER[:3000]


def test_block_starts_are_those_of_the_full_parse():
    """``block_starts`` parses block rules only: the starts must be those of the whole parse."""
    from markdown_it import MarkdownIt

    parser = MarkdownIt("gfm-like")
    for source in (ANSWER, ANSWER[:777], "para\n- x\n\n| a |\n|---|\n| 1 |\n\n> q\n\n    code\n***\n# h\ntext"):
        full = [t.map[0] for t in parser.parse(source) if t.level == 0 and t.map is not None and t.nesting >= 0]
        assert block_starts(source) == full and len(full) > 3


def test_split_never_cuts_inside_a_fence_or_a_list():
    source = "para\n\n```\na\n\nb\n```\n\n- x\n\n- y\n\ntail"
    finished, tail = split_finished_blocks(source, keep=1)
    assert finished + tail == source
    assert tail == "tail"
    finished, tail = split_finished_blocks(source, keep=2)
    assert tail == "- x\n\n- y\n\ntail"
    finished, tail = split_finished_blocks("```\nopen fence\n\nstill code\n", keep=1)
    assert finished == ""


def conversation(pane: ChatPane) -> list[tuple[str, str]]:
    """What the log shows, top to bottom: (kind, text) of each visible widget."""
    shown = []
    for widget in pane.log_view.children:
        if not widget.display:
            continue
        if isinstance(widget, StreamingAnswer):
            shown.append(("answer", widget.source))
        else:
            shown.append((" ".join(sorted(widget.classes)), str(widget.content)))
    return shown


async def answer(pane: ChatPane, prompt: str | None, text: str, replace: bool = False) -> None:
    stream = await pane.open_answer(prompt, replace=replace)
    await stream.write(text)
    await stream.stop()


async def test_sending_mounts_nothing_and_the_conversation_stays_in_order():
    """The request waits for open_answer (P1): it shows the pane's pre-mounted, hidden prompt and
    answer instead of mounting them; notes, the next spare and a regenerated answer keep order."""
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(ChatPane)
        await pilot.pause()
        spare = list(pane.log_view.children)
        assert len(spare) == 2 and not any(w.display for w in spare)
        assert conversation(pane) == [] and pane.shown_answer() == ""

        stream = await pane.open_answer("first question")
        assert list(pane.log_view.children) == spare, "open_answer mounted widgets"
        assert all(w.display for w in spare)
        await stream.write("first answer")
        await stream.stop()
        await pane.add_note("■ stopped")
        await pane.prepare_spare()
        await answer(pane, "second question", "second answer")
        await pane.prepare_spare()
        await answer(pane, None, "second answer, again", replace=True)
        await pilot.pause()
        assert conversation(pane) == [
            ("msg-user", "first question"), ("answer", "first answer"), ("msg-note", "■ stopped"),
            ("msg-user", "second question"), ("answer", "second answer, again"),
        ]
        assert pane.shown_answer() == "second answer, again"

        await pane.clear()
        assert conversation(pane) == []
        assert len(pane.log_view.children) == 2  # a fresh spare


