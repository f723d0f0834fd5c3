"""LiveMarkdown, the live tail of an answer, looks exactly like Textual's Markdown (its lists
exactly like the frozen part) and shows an answer's first text without mounting a widget.

Widget tests in a small host app (no server). The reference is Textual's own ``Markdown`` given
the same text: the two screens must be identical (the screenshot SVG compares every cell's text
and style), in two themes. For lists the reference is ``FrozenMarkdown``, cell for cell.
"""

from __future__ import annotations

import asyncio
import html
import re

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown
from textual.widgets._markdown import MarkdownBulletList
from textual.widgets.markdown import MarkdownBlock

from console.tui.widgets.live_markdown import LiveBlock, LiveMarkdown

TEXT = (  # every block but lists, which are drawn as they will be once frozen (LISTS below)
    "# A title\n\nA paragraph with **bold**, *em* and `code`\non two lines.\n\n"
    "## Second level\n\n### Third level\n\n#### Fourth\n\n##### Fifth\n\n###### Sixth\n\n"
    "> a quote holding a paragraph\n\n```python\nprint('fence')\n```\n\nThe end, no newline"
)

LISTS = (  # lists of every shape, and a paragraph after them
    "".join(f"{n}. item {n}\n" for n in range(1, 12))  # the numbers widen at 10
    + "\n- tight\n- bullets\n  - nested\n  - list\n- back out\n\n"
    + "3. starts at three\n4. next\n\n"
    + "- an item\n\n  ```\n  code in it\n  ```\n- after the code\n\n"
    + "* **strong** item\n* ## heading item\n\nlast words"
)
ONLY_LISTS = LISTS.removesuffix("\n\nlast words") + "\n"


class Host(App):
    TITLE = "markdown"

    def __init__(self, widget: Markdown) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield self.widget


def cuts(text: str, size: int = 7) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


async def screenshot_of(widget: Markdown, feed: list[str], theme: str) -> tuple[str, list[str]]:
    """The screen's SVG, and the kinds of the LiveBlocks shown (``feed`` is for a LiveMarkdown)."""
    app = Host(widget)
    async with app.run_test(size=(70, 80)) as pilot:
        app.theme = theme
        for piece in feed:  # as the answer's drain feeds its live tail
            await widget.extend(piece)
        await pilot.pause()
        kinds = [block.kind for block in widget.query(LiveBlock)]
        return app.export_screenshot(), kinds


async def test_streamed_live_markdown_looks_like_textual_markdown_in_two_themes():
    for theme in ("textual-dark", "textual-light"):
        reference, _ = await screenshot_of(Markdown(TEXT), [], theme)
        live = LiveMarkdown("")
        shown, kinds = await screenshot_of(live, cuts(TEXT), theme)
        assert live.source == TEXT
        assert {"h1", "h2", "h3", "h4", "h5", "h6", "p"} <= set(kinds)  # the blocks are LiveBlocks
        assert shown == reference, f"LiveMarkdown differs from Markdown under {theme}"


def screen_rows(svg: str) -> list[tuple[tuple, tuple]]:
    """A screenshot as rows of cells: each cell's background, and each text run with its style
    class (one fill per cell, however the SVG groups its rectangles)."""
    svg = re.sub(r"terminal-\d+", "T", svg)
    fills: dict[float, dict[int, str]] = {}
    for fill, x, y, width in re.findall(r'<rect fill="([^"]+)" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"', svg):
        row = fills.setdefault(float(y), {})
        for column in range(round(float(x) / CELL_WIDTH), round((float(x) + float(width)) / CELL_WIDTH)):
            row[column] = fill
    texts: dict[float, list] = {}
    for style, x, y, text in re.findall(r'<text class="([^"]+)" x="([\d.]+)" y="([\d.]+)"[^>]*>([^<]*)</text>', svg):
        texts.setdefault(float(y), []).append((round(float(x) / CELL_WIDTH), style, html.unescape(text).replace("\xa0", " ")))
    fill_rows = [tuple(sorted(fills[y].items())) for y in sorted(fills)]
    text_rows = [tuple(texts[y]) for y in sorted(texts)]
    return list(zip(fill_rows, text_rows))


CELL_WIDTH = 12.2  # Textual's SVG export: 0.61 of its 20-pixel font


async def test_a_streamed_list_looks_as_it_will_once_frozen():
    """Cell for cell (text, style, background), a list in the live tail shows what the frozen
    part will show for it; only Rich's blank line before the first block is the frozen part's."""
    from console.tui.widgets.frozen_markdown import FrozenMarkdown

    frozen = FrozenMarkdown()
    app = Host(frozen)
    async with app.run_test(size=(70, 80)) as pilot:
        frozen.add(ONLY_LISTS)
        await pilot.pause()
        frozen_rows = screen_rows(app.export_screenshot())
    assert "starts at three" in str(frozen_rows[1:]) and "tight" in str(frozen_rows[1:])
    for size in (3, 11):
        live = LiveMarkdown("")
        shown, _ = await screenshot_of(live, cuts(ONLY_LISTS, size), "textual-dark")
        assert live.source == ONLY_LISTS
        assert all(isinstance(block, LiveBlock) and block.kind == "list" for block in live.query_children(MarkdownBlock) if block.display)
        assert screen_rows(shown)[:-1] == frozen_rows[1:], f"a live list differs from its frozen look (fed {size} characters at a time)"


async def test_a_streamed_list_is_one_widget_drawn_again_in_place_unless_quoted():
    live = LiveMarkdown("")
    app = Host(live)
    async with app.run_test(size=(70, 40)) as pilot:
        await live.extend("- first ite")
        (lst,) = live.query_children(MarkdownBlock)
        await live.extend("m\n- sec")
        await live.extend("ond\n- third")
        await pilot.pause()
        assert isinstance(lst, LiveBlock) and lst.kind == "list" and live.query_children(MarkdownBlock).first() is lst  # not mounted again
        assert not lst.children  # the items are drawn, not mounted
        lines = [lst.render_line(y).text for y in range(lst.size.height)]
        assert [line.strip() for line in lines if line.strip()] == ["• first item", "• second", "• third"]
        await live.restart()
        await live.extend("> quoted\n>\n> - one\n> - two\n")  # a list inside a quote: Textual's widgets
        await pilot.pause()
        assert not [b for b in live.query(LiveBlock) if b.kind == "list"] and len(live.query(MarkdownBulletList)) == 1


async def test_a_theme_change_restyles_live_headings():
    live = LiveMarkdown("")
    app = Host(live)
    async with app.run_test(size=(70, 40)) as pilot:
        await live.extend("## A heading\n\nand text")
        await pilot.pause()
        heading = live.query_one(LiveBlock)
        before = heading.styles.color
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        assert heading.kind == "h2" and heading.styles.color != before


async def test_first_text_and_the_block_after_a_restart_update_the_mounted_block():
    live = LiveMarkdown("")
    app = Host(live)
    async with app.run_test(size=(70, 40)) as pilot:
        await pilot.pause()
        (placeholder,) = live.query_children(MarkdownBlock)
        assert isinstance(placeholder, LiveBlock) and placeholder.kind == "empty" and not placeholder.display

        await live.extend("## Hea")  # an answer's first text: no new widget
        assert list(live.query_children(MarkdownBlock)) == [placeholder]
        assert placeholder.kind == "h2" and placeholder.display and "Hea" in placeholder._content.plain
        await live.extend("ding\n\nA para")
        blocks = list(live.query_children(MarkdownBlock))
        assert [b.kind for b in blocks] == ["h2", "p"] and blocks[0] is placeholder

        await live.restart()  # the next block: the last widget stays, emptied
        assert list(live.query_children(MarkdownBlock)) == [blocks[1]] and live.source == ""
        assert blocks[1].kind == "empty" and not blocks[1].display
        await live.extend("# Next")
        assert list(live.query_children(MarkdownBlock)) == [blocks[1]] and blocks[1].kind == "h1"
        assert live.source == "# Next"

        await live.restart()
        await live.extend("- a list\n- of two")  # a list: the same widget again
        assert list(live.query_children(MarkdownBlock)) == [blocks[1]] and blocks[1].kind == "list"
        await live.extend("\n\nthen a paragraph")  # a second block: mounted after it
        assert [b.kind for b in live.query_children(MarkdownBlock)] == ["list", "p"]
        await live.restart()  # the last widget stays, emptied, for the next block
        assert list(live.query_children(MarkdownBlock))[0].kind == "empty"

        await live.extend("> a quote")  # not a paragraph, heading or list: Textual mounts its widget
        (quote,) = live.query_children(MarkdownBlock)
        assert not isinstance(quote, LiveBlock)
        await live.restart()  # a quote is removed; an empty LiveBlock waits for the next block
        (waiting,) = live.query_children(MarkdownBlock)
        assert isinstance(waiting, LiveBlock) and waiting.kind == "empty"
        await pilot.pause()


async def test_after_the_warm_up_no_block_of_an_answer_brings_new_css():
    """Textual restyles the whole screen when a widget class's CSS first arrives: the chat
    screen's warm-up pays that once, before any answer."""
    from console.tui.widgets.streaming_answer import WARM_UP_TEXT, StreamingAnswer, warm_up

    app = Host(Markdown(""))
    async with app.run_test(size=(70, 40)) as pilot:
        before = len(app.stylesheet.source)
        await warm_up(app.screen)
        assert len(app.stylesheet.source) > before  # the warm-up brought the block classes' CSS
        assert not app.screen.query(StreamingAnswer)  # and left nothing behind
        known = len(app.stylesheet.source)
        live = LiveMarkdown("")  # every kind of block as live widgets (an answer's tail)
        await app.screen.mount(live)
        await live.update(WARM_UP_TEXT + LISTS + TEXT)
        await pilot.pause()
        assert len(app.stylesheet.source) == known


async def test_a_restart_waits_for_appends_in_flight_then_switches_in_one_step():
    """What the freeze relies on: ``then_also`` runs after an append in flight, in the same step
    as the tail is emptied (so no frame shows the text twice), and no repaint is held back."""
    live = LiveMarkdown("")
    app = Host(live)
    async with app.run_test(size=(70, 40)) as pilot:
        await live.extend("> a quote")
        in_flight = asyncio.ensure_future(live.extend("\n>\n> and more"))
        await asyncio.sleep(0)  # the append has started: it holds the document's lock
        seen = []

        def then_also() -> None:
            quote = live.query_children(MarkdownBlock).first()
            seen.append((live.source, quote.display, app._batch_count))

        await live.restart(then_also=then_also)
        assert in_flight.done()
        assert seen == [("> a quote\n>\n> and more", True, 0)]  # after the append; nothing held back
        (waiting,) = live.query_children(MarkdownBlock)
        assert isinstance(waiting, LiveBlock) and waiting.kind == "empty" and live.source == ""
        await pilot.pause()


async def test_text_extended_while_a_restart_waits_is_kept_in_the_emptied_tail():
    """``extend`` takes the document as it is once it holds the lock: text written while a
    restart waits behind an append in flight lands in the emptied tail, not in the text the
    restart takes away."""
    live = LiveMarkdown("")
    app = Host(live)
    async with app.run_test(size=(70, 40)) as pilot:
        in_flight = asyncio.ensure_future(live.extend("> a quote"))  # mounts: holds the lock across awaits
        await asyncio.sleep(0)
        restarting = asyncio.ensure_future(live.restart())
        await asyncio.sleep(0)  # the restart waits for the lock
        await live.extend("next")
        await asyncio.gather(in_flight, restarting)
        assert live.source == "next"
        await pilot.pause()
        (block,) = live.query_children(MarkdownBlock)
        assert isinstance(block, LiveBlock) and block.kind == "p"


def block_state(live: LiveMarkdown) -> list[tuple]:
    """What each block of ``live`` (nested ones too) shows and knows: class, kind, content,
    token, source range, inline styles."""
    return [
        (type(block).__name__, getattr(block, "kind", None), getattr(block, "top_level", None), block._content.plain,
         [(span.start, span.end, str(span.style)) for span in block._content.spans], block._token.type,
         block._token.map, block.source_range, block.display, repr(block.styles.inline))
        for block in live.query(MarkdownBlock)
    ]


async def test_appends_that_build_no_widget_leave_the_blocks_as_building_them_does(monkeypatch):
    """When the appended text is one paragraph, heading or top-level list, ``extend`` updates the
    last block in place without building a widget for the parse (a list used to build one per
    item, every append); after every append each block is exactly what the steps that build
    them leave (``one_live_block`` switched off), through restarts and every kind of block."""
    from console.tui.widgets import live_markdown

    text = TEXT + "\n\n" + LISTS + "\n\nA [link](https://x.y) and ~~gone~~ text\n"
    built: list[int] = []
    original_init = LiveBlock.__init__

    def counting_init(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        built.append(1)
        original_init(self, *args, **kwargs)

    states: dict[bool, list[list[tuple]]] = {}
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(live_markdown, "one_live_block", lambda tokens: None)
        monkeypatch.setattr(LiveBlock, "__init__", counting_init)
        built.clear()
        live = LiveMarkdown("")
        app = Host(live)
        seen = states[fast] = []
        async with app.run_test(size=(70, 80)) as pilot:
            await pilot.pause()
            for number, piece in enumerate(cuts(text, 5)):
                if number % 40 == 39:
                    await live.restart()
                await live.extend(piece)
                seen.append(block_state(live))
            await pilot.pause()
        states[fast].append(len(built))
    assert states[True][:-1] == states[False][:-1]
    assert states[True][-1] < states[False][-1] / 3  # widgets built: a few, not one or more per append
