"""Frozen Markdown rendered by the helper process is what the screen renders itself.

Tests in a small host app (no server), against the real helper process
(``python -m console.tui.frozen_render``): its lines for every kind of block equal those
rendered in process, at two widths and under two themes; an answer streamed through a pane with
a renderer ends with exactly the sent text, with the lines of a reference rendered in process; a
job that no longer fits (the width changed while the helper rendered) is rendered in process
instead; a helper that dies costs nothing and is started again.
"""

from __future__ import annotations

import asyncio
import contextlib

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.tui.frozen_render import FrozenRenderer
from console.tui.widgets.chat_pane import ChatPane
from console.tui.widgets.frozen_markdown import Look, MarkdownLines, look_for
from tests.pilot_helpers import eventually
from tests.test_chat_pane_stream import ANSWER, pieces
from tests.test_frozen_markdown import TEXT, chunks_at_block_starts, shown, whole


class FrozenHost(App):
    def compose(self) -> ComposeResult:
        with VerticalScroll(id="log"):
            yield Static(id="text")

    def look(self) -> Look:
        """The look of text as wide as the host's widget, styled as there."""
        widget = self.query_one("#text")
        return look_for(widget, widget.size.width)


@contextlib.asynccontextmanager
async def laid_out_lines():
    """Empty MarkdownLines rendered for a host app's look: (app, pilot, lines)."""
    app = FrozenHost()
    async with app.run_test(size=(90, 40)) as pilot:
        await pilot.pause()
        lines = MarkdownLines()
        lines.render(app.look(), app.console)
        yield app, pilot, lines


class PaneHost(App):
    CSS_PATH = "../console/tui/widgets/chat_pane.tcss"

    def compose(self) -> ComposeResult:
        yield ChatPane("A")


@contextlib.asynccontextmanager
async def ready_renderer():
    """A started helper that has said it is ready; stopped afterwards."""
    renderer = FrozenRenderer()
    try:
        await renderer.start()
        assert await eventually(lambda: renderer.running, timeout=30)  # the helper imports, then says it is ready
        yield renderer
    finally:
        await renderer.stop()


async def test_the_helper_renders_every_kind_of_block_as_the_screen_does():
    async with ready_renderer() as renderer:
        async with laid_out_lines() as (app, pilot, lines):
            for size, theme in (((90, 40), "textual-dark"), ((47, 40), "textual-light")):
                app.theme = theme
                await pilot.resize_terminal(*size)
                await pilot.pause()
                look = app.look()
                lines = MarkdownLines()
                lines.render(look, app.console)
                for chunk in chunks_at_block_starts(TEXT, 30, seed=5):
                    job = lines.next_job(chunk, look)
                    assert job is not None
                    helper = await renderer.render(job, app.console.color_system)
                    assert helper is not None
                    lines.chunks.append(chunk)
                    own = lines._render_chunk(len(lines.chunks) - 1, look, app.console)
                    assert helper == (own, lines._ends_with_rule[-1]), chunk
                assert {lines._job(c, i, look).follows_block for i, c in enumerate(lines.chunks)} == {True, False}


async def test_an_answer_frozen_by_the_helper_ends_with_the_sent_text_drawn_as_in_process():
    async with ready_renderer() as renderer:
        app = PaneHost()
        async with app.run_test(size=(100, 40)) as pilot:
            pane = app.query_one(ChatPane)
            pane.renderer = renderer
            await pilot.pause()  # laid out: the answer knows its look, so freezes go to the helper
            stream = pane.open_answer("a long question")
            for n, piece in enumerate(pieces(ANSWER)):
                await stream.write(piece)
                if n % 25 == 0:
                    await asyncio.sleep(0.02)
            await stream.stop()
            await pilot.pause()
            answer = pane.answer_widget
            assert answer is not None and answer.source == ANSWER
            markdown = answer.markdown
            assert len(markdown.chunks) > 10
            assert renderer.served >= len(markdown.chunks) - 1, "the helper did not render the frozen blocks"
            reference = MarkdownLines()  # the same chunks, rendered in this process
            for chunk in markdown.chunks:
                reference.add(chunk, app.console)
            reference.set_tail(markdown.tail)
            assert markdown.look is not None
            reference.render(markdown.look, app.console)
            assert markdown.tail and shown(markdown) == shown(reference)


async def test_a_job_that_no_longer_fits_is_rendered_in_process():
    async with laid_out_lines() as (app, pilot, lines):
        chunks = chunks_at_block_starts(TEXT, 10)
        stale = lines.next_job(chunks[0], app.look())
        await pilot.resize_terminal(60, 40)  # the width changes while "the helper renders"
        await pilot.pause()
        look = app.look()
        lines.render(look, app.console)
        lines.add(chunks[0], app.console, (stale, [], False))  # lines that would be wrong: not used
        for chunk in chunks[1:]:
            lines.add(chunk, app.console)
        assert shown(lines) == whole(TEXT, look)


async def test_a_helper_that_dies_costs_nothing_and_is_started_again():
    async with ready_renderer() as renderer:
        async with laid_out_lines() as (app, pilot, lines):
            first = renderer._process
            assert first is not None
            first.kill()
            await first.wait()
            job = lines.next_job("# after the helper died\n\n", app.look())
            assert job is not None
            assert await renderer.render(job, app.console.color_system) is None  # the caller renders itself
            assert await eventually(lambda: renderer.running and renderer._process is not first, timeout=30)
            assert await renderer.render(job, app.console.color_system) is not None
    assert renderer._process is None


async def test_text_written_while_the_helper_renders_is_kept():
    """A first text of two blocks freezes one of them at once; what comes while the helper
    renders it waits for the drain, never going to the tail that the freeze then empties."""
    async with ready_renderer() as renderer:
        app = PaneHost()
        async with app.run_test(size=(100, 40)) as pilot:
            pane = app.query_one(ChatPane)
            pane.renderer = renderer
            await pilot.pause()  # laid out: the answer knows its look, so freezes go to the helper
            stream = pane.open_answer(None)
            await pilot.pause()
            text = ["# A heading\n\nthe first paragraph"] + [f" word{i}" for i in range(40)]
            for piece in text:
                await stream.write(piece)
                await asyncio.sleep(0.001)  # the drain runs, and waits on the helper, between writes
            await stream.stop()
            assert renderer.served >= 1
            assert pane.shown_answer() == "".join(text)


async def test_renders_before_the_helper_is_ready_stay_in_process_and_start_no_other():
    renderer = FrozenRenderer()
    first = None
    try:
        async with laid_out_lines() as (app, pilot, lines):
            job = lines.next_job("# a heading\n\n", app.look())
            assert job is not None
            # started only now, right before the render: it imports before it says it is ready
            # (started before the app was laid out, a helper that imports quickly was ready by then)
            await renderer.start()
            first = renderer._process
            assert await renderer.render(job, app.console.color_system) is None  # not ready yet
            await renderer.start()  # the screen's worker could call it again
            assert await eventually(lambda: renderer.running, timeout=30)
            assert renderer._process is first  # the one helper, never a second beside it
            assert await renderer.render(job, app.console.color_system) is not None
    finally:
        await renderer.stop()
    assert first is not None and first.returncode is not None
