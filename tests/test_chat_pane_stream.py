"""A long multi-block answer streamed through a chat pane ends with exactly the text sent.

Widget test in a small host app (no server): the pane's AnswerStream freezes finished blocks
while the live tail keeps streaming, so the text shown must still be the sent text, byte for
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
        # block is a (live) Markdown, and it holds a single top-level block
        assert len(answer.frozen.chunks) > 10, "the stream did not freeze as it went"
        assert answer.frozen.source + answer.live.source == ANSWER
        assert list(answer.query(Markdown)) == [answer.live]
        assert answer.live.source == "The end, no newline"


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
    from console.tui.widgets.streaming_answer import shared_parser

    for source in (ANSWER, ANSWER[:777], "para\n- x\n\n| a |\n|---|\n| 1 |\n\n> q\n\n    code\n***\n# h\ntext"):
        full = [t.map[0] for t in shared_parser().parse(source) if t.level == 0 and t.map is not None and t.nesting >= 0]
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


async def test_the_drain_s_one_parse_leaves_the_tail_as_parsing_again_does(monkeypatch):
    """The drain parses the tail once, for the split and for the append (``extend(parsed=...)``,
    the tokens from the cut on after a freeze): after every drain, the live tail's blocks are
    exactly what they are when the append parses again, for every kind of block, and with link
    references defined before the cut (the tail's own parse does not know them) or in the tail."""
    from console.tui.widgets.live_markdown import LiveMarkdown
    from tests.test_live_markdown import block_state

    text = "[ref]: https://x.y\n\n" + ANSWER[:2500] + "\n\nA [ref] here\n\nand [ref] again"
    original_extend = LiveMarkdown.extend
    states: dict[bool, list] = {}
    for shared in (True, False):
        if not shared:
            async def parse_again(self, markdown, parsed=None):  # noqa: ANN001, ANN202
                await original_extend(self, markdown)

            monkeypatch.setattr(LiveMarkdown, "extend", parse_again)
        app = Host()
        seen = states[shared] = []
        async with app.run_test(size=(100, 40)) as pilot:
            pane = app.query_one(ChatPane)
            stream = await pane.open_answer(None)
            stream._task.cancel()  # drained here, one drain at a time
            answer = pane.log_view.query_one(StreamingAnswer)
            # then a reference defined in the text a drain freezes, used in the tail it keeps; then
            # one defined and used in the tail (a quote)
            more = ["\n\n[r]: https://y.z\n\nA\n\n[r] link", "\n\nB\n\n> [q]: https://q.q\n>\n> [q] quoted"]
            for piece in [*pieces(text, seed=11), *more]:
                stream._pending.append(piece)
                await stream._flush()
                seen.append((answer.frozen.source, block_state(answer.live)))
            await pilot.pause()
            assert answer.source == text + "".join(more)
            assert answer.live.source == "> [q]: https://q.q\n>\n> [q] quoted"
    assert states[True] == states[False]


def test_block_rules_then_the_rest_parse_as_the_parser_does():
    """The drain parses in two steps (block rules, then the rest, for the tail only after a
    cut): the tokens equal the shared parser's, whole or from a top-level block start on."""
    from console.tui.widgets.streaming_answer import finish_parse, parse_blocks, shared_parser, tokens_from_line
    from markdown_it.rules_core import StateCore

    def same(a, b) -> bool:  # noqa: ANN001
        return [t.as_dict() for t in a] == [t.as_dict() for t in b]

    text = ANSWER[:3000] + "\n\n- a *b* <https://x.y> ~~c~~ \"quoted\" -- (c)\n\n[x](y) and www.example.com\n"
    for end in range(0, len(text), 97):
        source = text[:end]
        state = parse_blocks(source, {})
        starts = block_starts(source)
        assert same(finish_parse(state), shared_parser().parse(source))
        for line in starts[1:]:
            lines = source.splitlines(keepends=True)
            rest = "".join(lines[line:])
            cut = parse_blocks(source, {})
            tail = StateCore(rest, shared_parser(), {})
            tail.tokens = tokens_from_line(cut.tokens, line)
            assert same(finish_parse(tail), shared_parser().parse(rest)), (end, line)
