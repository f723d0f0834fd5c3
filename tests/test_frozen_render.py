"""Frozen Markdown rendered by the helper process is what the widget renders itself.

Widget tests in a small host app (no server), against the real helper process
(``python -m console.tui.frozen_render``): its lines for every kind of block equal the
widget's own, at two widths and under two themes; an answer streamed through a pane with a
renderer ends with exactly the sent text, drawn as a reference drawn in process; a job that no
longer fits (the width changed while the helper rendered) is rendered in process instead; a
helper that dies costs nothing and is started again.
"""

from __future__ import annotations

import asyncio
import contextlib

from rich.markdown import Markdown as RichMarkdown
from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.tui.frozen_render import FrozenRenderer
from console.tui.widgets.chat_pane import ChatPane
from console.tui.widgets.frozen_markdown import FrozenMarkdown
from console.tui.widgets.streaming_answer import StreamingAnswer
from tests.pilot_helpers import eventually
from tests.test_chat_pane_stream import ANSWER, pieces
from tests.test_frozen_markdown import TEXT, chunks_at_block_starts, shown


class FrozenHost(App):
    def compose(self) -> ComposeResult:
        yield VerticalScroll(id="log")


@contextlib.asynccontextmanager
async def laid_out_frozen():
    """An empty FrozenMarkdown in a host app, laid out (it knows its width): (app, pilot, widget)."""
    app = FrozenHost()
    async with app.run_test(size=(90, 40)) as pilot:
        frozen = FrozenMarkdown()
        await app.query_one("#log").mount(frozen)
        await pilot.pause()
        yield app, pilot, frozen


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


async def test_the_helper_renders_every_kind_of_block_as_the_widget_does():
    async with ready_renderer() as renderer:
        async with laid_out_frozen() as (app, pilot, frozen):
            for size, theme in (((90, 40), "textual-dark"), ((47, 40), "textual-light")):
                app.theme = theme
                await pilot.resize_terminal(*size)
                await pilot.pause()
                frozen.chunks.clear()
                frozen._ends_with_rule.clear()
                for chunk in chunks_at_block_starts(TEXT, 30, seed=5):
                    job = frozen.next_job(chunk)
                    assert job is not None
                    helper = await renderer.render(job, app.console.color_system)
                    assert helper is not None
                    frozen.chunks.append(chunk)
                    own = frozen._render_chunk(len(frozen.chunks) - 1, job.options.max_width)
                    assert helper == (own, frozen._ends_with_rule[-1]), chunk
            assert {job.follows_block for job in [frozen._job(c, i, 40) for i, c in enumerate(frozen.chunks)]} == {True, False}


async def test_an_answer_frozen_by_the_helper_ends_with_the_sent_text_drawn_as_in_process():
    async with ready_renderer() as renderer:
        app = PaneHost()
        async with app.run_test(size=(100, 40)) as pilot:
            pane = app.query_one(ChatPane)
            pane.renderer = renderer
            stream = await pane.open_answer("a long question")
            for n, piece in enumerate(pieces(ANSWER)):
                await stream.write(piece)
                if n % 25 == 0:
                    await asyncio.sleep(0.02)
            await stream.stop()
            await pilot.pause()
            answer = pane.log_view.query_one(StreamingAnswer)
            assert answer.source == ANSWER
            assert len(answer.chunks) > 10
            assert renderer.served >= len(answer.chunks) - 1, "the helper did not render the frozen blocks"
            reference = FrozenMarkdown()  # the same chunks, rendered in this process
            await pane.log_view.mount(reference)
            for chunk in answer.chunks:
                reference.add(chunk)
            reference.set_tail(answer.tail)
            await pilot.pause()
            assert answer.tail and shown(answer) == shown(reference)


async def test_a_job_that_no_longer_fits_is_rendered_in_process():
    app = FrozenHost()
    async with app.run_test(size=(90, 40)) as pilot:
        whole = Static(RichMarkdown(TEXT))
        whole.styles.padding = (0, 2)
        frozen = FrozenMarkdown()
        await app.query_one("#log").mount_all([whole, frozen])
        await pilot.pause()
        chunks = chunks_at_block_starts(TEXT, 10)
        stale = frozen.next_job(chunks[0])
        await pilot.resize_terminal(60, 40)  # the width changes while "the helper renders"
        await pilot.pause()
        frozen.add(chunks[0], (stale, [], False))  # lines that would be wrong: not used
        for chunk in chunks[1:]:
            frozen.add(chunk)
        await pilot.pause()
        assert shown(frozen) == shown(whole)


async def test_a_helper_that_dies_costs_nothing_and_is_started_again():
    async with ready_renderer() as renderer:
        async with laid_out_frozen() as (app, pilot, frozen):
            first = renderer._process
            assert first is not None
            first.kill()
            await first.wait()
            job = frozen.next_job("# after the helper died\n\n")
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
            stream = await pane.open_answer(None)
            await pilot.pause()  # laid out: the frozen part knows its width, so freezes go to the helper
            text = ["# A heading\n\nthe first paragraph"] + [f" word{i}" for i in range(40)]
            for piece in text:
                await stream.write(piece)
                await asyncio.sleep(0.001)  # the drain runs, and waits on the helper, between writes
            await stream.stop()
            answer = pane.log_view.query_one(StreamingAnswer)
            assert renderer.served >= 1
            assert answer.source == "".join(text)


async def test_renders_before_the_helper_is_ready_stay_in_process_and_start_no_other():
    renderer = FrozenRenderer()
    first = None
    try:
        async with laid_out_frozen() as (app, pilot, frozen):
            job = frozen.next_job("# a heading\n\n")
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
