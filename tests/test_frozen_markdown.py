"""FrozenMarkdown, fed chunk by chunk, shows exactly what rich renders for the whole text.

Widget test in a small host app (no server). The reference is a ``Static`` holding
``rich.markdown.Markdown`` of the whole text (what frozen answer text used to be): same lines,
same styles, at the first width and again after the terminal is resized.
"""

from __future__ import annotations

import random

from rich.markdown import Markdown as RichMarkdown
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widgets import Static

from console.tui.widgets.frozen_markdown import FrozenMarkdown, SharedParserMarkdown
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


class Host(App):
    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="log")


async def mount_reference_and_frozen(app: Host) -> tuple[Static, FrozenMarkdown]:
    """The reference (a Static of the whole text, padded like FrozenMarkdown) and an empty
    FrozenMarkdown below it."""
    whole = Static(RichMarkdown(TEXT))
    whole.styles.padding = (0, 2)
    frozen = FrozenMarkdown()
    await app.query_one("#log").mount_all([whole, frozen])
    return whole, frozen


def shown(widget) -> list[tuple[str, list]]:  # noqa: ANN001
    return [(strip.text, list(strip)) for strip in (widget.render_line(y) for y in range(widget.size.height))]


async def test_chunks_render_as_the_whole_text_does_before_and_after_a_resize():
    chunks = chunks_at_block_starts(TEXT, 30)
    assert "".join(chunks) == TEXT and len(chunks) == 31
    app = Host()
    async with app.run_test(size=(90, 60)) as pilot:
        whole, frozen = await mount_reference_and_frozen(app)
        frozen.add(chunks[0])
        await pilot.pause()  # rendered once; the rest is added chunk by chunk
        for chunk in chunks[1:]:
            frozen.add(chunk)
        await pilot.pause()
        assert frozen.source == TEXT
        assert frozen.size.height == whole.size.height > 100
        assert shown(frozen) == shown(whole)
        width, height = frozen.size

        await pilot.resize_terminal(61, 60)
        await pilot.pause()
        assert frozen.size.width == width - 29 and frozen.size.height > height  # lines re-wrapped
        assert shown(frozen) == shown(whole)


async def test_chunks_then_a_tail_render_as_the_whole_text_does_at_every_cut():
    """The streaming answer's tail (the block still growing) is rendered below the chunks: at
    every moment of a stream (chunks, then a tail cut anywhere, even mid-word or mid-fence) the
    lines are rich's for the whole text so far, and the tail moves into the chunks without a
    change on screen."""
    chunks = chunks_at_block_starts(TEXT, 12, seed=7)
    app = Host()
    async with app.run_test(size=(90, 60)) as pilot:
        log = app.query_one("#log")
        frozen = FrozenMarkdown()
        await log.mount(frozen)
        await pilot.pause()
        rng = random.Random(3)
        for chunk in chunks:
            for cut in sorted(rng.sample(range(1, len(chunk) + 1), min(3, len(chunk)))):
                frozen.set_tail(chunk[:cut])
                await pilot.pause()
                whole = Static(RichMarkdown(frozen.source))
                whole.styles.padding = (0, 2)
                await log.mount(whole)
                await pilot.pause()
                assert frozen.size.height == whole.size.height
                assert shown(frozen) == shown(whole), (len(frozen.chunks), cut)
                await whole.remove()
            frozen.add(chunk)
            frozen.set_tail("")
        await pilot.pause()
        assert frozen.source == TEXT and frozen.tail == ""


async def test_a_new_theme_renders_the_frozen_text_again():
    app = Host()
    async with app.run_test(size=(90, 40)) as pilot:
        whole, frozen = await mount_reference_and_frozen(app)
        for chunk in chunks_at_block_starts(TEXT, 10):
            frozen.add(chunk)
        await pilot.pause()
        before = shown(frozen)
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        assert shown(frozen) == shown(whole) != before


def test_the_shared_parser_markdown_is_rich_markdown_with_its_defaults():
    """Same attributes as rich's own ``Markdown`` (so the same rendering), tokens included."""
    for text in (TEXT, "", "~~struck~~ and a | table |\n|---|\n| cell |\n", "<https://example.com> bare"):
        ours, theirs = SharedParserMarkdown(text), RichMarkdown(text)
        assert vars(ours) == vars(theirs)
        assert bool(ours.parsed) == bool(text)
    assert SharedParserMarkdown(TEXT).parsed is not SharedParserMarkdown(TEXT).parsed  # parsed per instance


def drawn(strips) -> list[list[tuple[str, object]]]:  # noqa: ANN001
    return [[(segment.text, segment.style) for segment in strip] for strip in strips]


async def test_lines_are_drawn_as_textual_draws_them():
    """``render_lines`` builds padding and background itself: segment for segment what Textual's
    own pipeline (its styles cache) gives, in two themes, for whole, partial and cut lines, past
    the end of the text, and where it hands over to Textual (a tint)."""
    app = Host()
    async with app.run_test(size=(90, 60)) as pilot:
        frozen = FrozenMarkdown()
        frozen.styles.background = "red 30%"  # a background of its own, blended into the pane's
        await app.query_one("#log").mount(frozen)
        frozen.add(TEXT)
        await pilot.pause()
        compared = 0
        for theme in ("textual-dark", "textual-light"):
            app.theme = theme
            await pilot.pause()
            width, height = frozen.region.width, frozen.region.height
            assert width == frozen.content_region.width + 4 and height > 100
            for crop in (Region(0, 0, width, 40), Region(0, height - 7, width, 7), Region(3, 10, width - 9, 5)):
                frozen._styles_cache.clear()
                assert drawn(frozen.render_lines(crop)) == drawn(frozen._styles_cache.render_widget(frozen, crop))
                compared += 1
        frozen.styles.height = height + 3  # three lines past the text
        await pilot.pause()
        crop = Region(0, height - 2, width, 5)
        frozen._styles_cache.clear()
        assert drawn(frozen.render_lines(crop)) == drawn(frozen._styles_cache.render_widget(frozen, crop))
        frozen.styles.tint = "blue 20%"
        await pilot.pause()
        frozen._styles_cache.clear()
        tinted = drawn(frozen.render_lines(crop))
        frozen._styles_cache.clear()
        assert tinted == drawn(frozen._styles_cache.render_widget(frozen, crop)) and compared == 6


async def test_lines_drawn_again_from_the_cache_follow_new_text_and_new_colours():
    """``render_lines`` keeps the strips it built and draws them again on later frames: they
    stay segment for segment what Textual's pipeline gives after text is added below (lines that
    were blank become text), after the pane's background changes, and after a resize."""
    app = Host()
    async with app.run_test(size=(90, 60)) as pilot:
        frozen = FrozenMarkdown()
        frozen.styles.height = 40  # room below the text: blank lines that later hold text
        await app.query_one("#log").mount(frozen)
        chunks = chunks_at_block_starts(TEXT, 10)
        frozen.add(chunks[0])
        await pilot.pause()

        def same_as_textual() -> bool:
            crop = Region(0, 0, frozen.region.width, frozen.region.height)
            frozen.render_lines(crop)  # fills the cache
            cached = drawn(frozen.render_lines(crop))
            frozen._styles_cache.clear()
            return cached == drawn(frozen._styles_cache.render_widget(frozen, crop))

        assert same_as_textual()
        for chunk in chunks[1:4]:
            frozen.add(chunk)
            await pilot.pause()
            assert same_as_textual()
        app.query_one("#log").styles.background = "green"
        await pilot.pause()
        assert same_as_textual()
        await pilot.resize_terminal(70, 60)
        await pilot.pause()
        assert same_as_textual()


async def test_the_styles_a_chunk_is_rendered_with_follow_every_style_change():
    """``widget_styles`` keeps the widget's rich and link styles until a style of the widget or
    an ancestor changes: they equal Textual's, computed afresh, after inline and theme changes."""
    from console.tui.widgets.frozen_markdown import widget_styles

    app = Host()
    async with app.run_test(size=(90, 40)) as pilot:
        frozen = FrozenMarkdown()
        log = app.query_one("#log")
        await log.mount(frozen)
        await pilot.pause()

        def fresh() -> tuple:
            return frozen.rich_style, frozen.link_style

        assert widget_styles(frozen) == fresh()
        for change in (lambda: setattr(app.screen.styles, "background", "blue"), lambda: setattr(log.styles, "background", "green 50%"),
                       lambda: setattr(app, "theme", "textual-light"), lambda: setattr(frozen.styles, "color", "red"),
                       lambda: setattr(frozen.styles, "link_color", "yellow"), lambda: setattr(log.styles, "opacity", 0.5)):
            before = widget_styles(frozen)
            change()
            await pilot.pause()
            assert widget_styles(frozen) == fresh() != before
