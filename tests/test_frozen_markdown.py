"""MarkdownLines, fed chunk by chunk, gives exactly the lines rich renders for the whole text.

No app: the console is made as Textual makes the app's (console/tui/frozen_render.py). The
reference is rich's ``Markdown`` of the whole text rendered in one piece: same lines, same
styles, at one width and again at another (the terminal resized). How the lines are drawn on
screen is tests/test_conversation_view.py's.
"""

from __future__ import annotations

import random

from rich.markdown import Markdown as RichMarkdown
from rich.style import Style as RichStyle
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.tui.frozen_render import app_console
from console.tui.widgets.frozen_markdown import ChunkJob, Look, MarkdownLines, SharedParserMarkdown, render_chunk
from console.tui.widgets.streaming_answer import block_starts

TEXT = (
    "- a list first\n- b\n\n---\n\nafter a rule\n\n***\n\n```\na fence after a rule\n```\n\n"
    "# A heading\n\n![an image](x.png)\n\na paragraph with ![an inline](y.png) image\n\n"
    "1. one\n2. two\n\n    indented code\n\n> a quote\n> on two lines\n\n"
    "| a | b |\n|---|---|\n| 1 | x |\n\n"
    "Some **bold** text and `code` in a paragraph\nthat spans two lines.\n\n"
    "- first item\n- second item\n\n  still the second item\n- third item\n\n"
) * 3


def chunks_at_block_starts(text: str, count: int, seed: int = 1) -> list[str]:
    """``text`` cut at ``count`` random top-level block starts (as the answer stream cuts)."""
    starts = sorted(set(block_starts(text)))
    cuts = sorted({0, *random.Random(seed).sample(starts[1:], count)})
    lines = text.splitlines(keepends=True)
    return ["".join(lines[a:b]) for a, b in zip(cuts, [*cuts[1:], len(lines)])]


CONSOLE = app_console("truecolor")


def look_at(width: int) -> Look:
    return Look(CONSOLE.options.update(width=width, highlight=False), RichStyle(color="#e0e0e0", bgcolor="#121212"),
                RichStyle(underline=True))


def whole(text: str, look: Look) -> list:
    """rich's lines for all of ``text`` in one piece."""
    return render_chunk(ChunkJob(text, False, look.options, look.base_style, look.link_style), CONSOLE)[0]


def shown(lines: MarkdownLines) -> list:
    return [lines.line(y) for y in range(lines.height)]


def test_chunks_render_as_the_whole_text_does_before_and_after_a_new_width():
    chunks = chunks_at_block_starts(TEXT, 30)
    assert "".join(chunks) == TEXT and len(chunks) == 31
    lines, look = MarkdownLines(), look_at(86)
    lines.add(chunks[0], CONSOLE)
    assert lines.render(look, CONSOLE) and not lines.render(look, CONSOLE)  # rendered once
    for chunk in chunks[1:]:
        lines.add(chunk, CONSOLE)  # rendered as it comes
    assert lines.source == TEXT
    assert shown(lines) == whole(TEXT, look) and lines.height > 100
    narrow = look_at(57)
    assert lines.render(narrow, CONSOLE)
    assert shown(lines) == whole(TEXT, narrow) and len(shown(lines)) > len(whole(TEXT, look))  # re-wrapped


def test_chunks_then_a_tail_render_as_the_whole_text_does_at_every_cut():
    """The streaming answer's tail (the block still growing) is rendered below the chunks: at
    every moment of a stream (chunks, then a tail cut anywhere, even mid-word or mid-fence) the
    lines are rich's for the whole text so far, and the tail moves into the chunks without a
    change."""
    chunks = chunks_at_block_starts(TEXT, 12, seed=7)
    lines, look = MarkdownLines(), look_at(86)
    lines.render(look, CONSOLE)
    rng = random.Random(3)
    compared = 0
    for chunk in chunks:
        for cut in sorted(rng.sample(range(1, len(chunk) + 1), min(3, len(chunk)))):
            assert lines.set_tail(chunk[:cut])
            lines.render(look, CONSOLE)
            assert shown(lines) == whole(lines.source, look), (len(lines.chunks), cut)
            compared += 1
        lines.add(chunk, CONSOLE)
        lines.set_tail("")
        lines.render(look, CONSOLE)
    assert lines.source == TEXT and lines.tail == "" and shown(lines) == whole(TEXT, look) and compared > 30


def test_the_shared_parser_markdown_is_rich_markdown_with_its_defaults():
    """Same attributes as rich's own ``Markdown`` (so the same rendering), tokens included."""
    for text in (TEXT, "", "~~struck~~ and a | table |\n|---|\n| cell |\n", "<https://example.com> bare"):
        ours, theirs = SharedParserMarkdown(text), RichMarkdown(text)
        assert vars(ours) == vars(theirs)
        assert bool(ours.parsed) == bool(text)
    assert SharedParserMarkdown(TEXT).parsed is not SharedParserMarkdown(TEXT).parsed  # parsed per instance


async def test_the_styles_a_chunk_is_rendered_with_follow_every_style_change():
    """``widget_styles`` keeps the widget's rich and link styles until a style of the widget or
    an ancestor changes: they equal Textual's, computed afresh, after inline and theme changes."""
    from console.tui.widgets.frozen_markdown import widget_styles

    class Host(App):
        def compose(self) -> ComposeResult:
            with VerticalScroll(id="log"):
                yield Static("text", id="text")

    app = Host()
    async with app.run_test(size=(90, 40)) as pilot:
        log, widget = app.query_one("#log"), app.query_one("#text")

        def fresh() -> tuple:
            return widget.rich_style, widget.link_style

        assert widget_styles(widget) == fresh()
        for change in (lambda: setattr(app.screen.styles, "background", "blue"), lambda: setattr(log.styles, "background", "green 50%"),
                       lambda: setattr(app, "theme", "textual-light"), lambda: setattr(widget.styles, "color", "red"),
                       lambda: setattr(widget.styles, "link_color", "yellow"), lambda: setattr(log.styles, "opacity", 0.5)):
            before = widget_styles(widget)
            change()
            await pilot.pause()
            assert widget_styles(widget) == fresh() != before
