"""A long multi-block answer streamed through a chat pane ends with exactly the text sent.

Widget test in a small host app (no server): the pane's AnswerStream freezes finished blocks
while the tail keeps streaming, so the text shown must still be the sent text, byte for
byte, and the pane must not hold a widget per block (or any).
"""

from __future__ import annotations

import asyncio
import random

from textual.app import App, ComposeResult

from console.tui.widgets.chat_pane import ChatPane
from console.tui.widgets.streaming_answer import block_starts, split_finished_blocks

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
        stream = pane.open_answer("a long question")
        for n, piece in enumerate(pieces(ANSWER)):
            await stream.write(piece)
            if n % 25 == 0:
                await asyncio.sleep(0.02)  # let the drain task run between bursts
        await stream.stop()
        await pilot.pause()
        answer = pane.answer_widget
        assert answer is not None and answer.source == ANSWER
        assert pane.shown_answer() == ANSWER
        # finished blocks were frozen, chunk by chunk; only the last block is the tail, and
        # nothing became a widget
        markdown = answer.markdown
        assert len(markdown.chunks) > 10, "the stream did not freeze as it went"
        assert "".join(markdown.chunks) + markdown.tail == ANSWER
        assert markdown.tail == "The end, no newline"
        assert list(pane.log_view.children) == []


async def test_stop_right_away_still_shows_everything_written():
    app = Host()
    async with app.run_test(size=(100, 40)) as pilot:
        pane = app.query_one(ChatPane)
        stream = pane.open_answer(None)
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
