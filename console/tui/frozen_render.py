"""Frozen Markdown rendered in a helper process, off the screen's event loop.

When a streamed answer's blocks are finished, rich renders them once for the frozen part
(console/tui/widgets/frozen_markdown.py): about 1.6 ms for a heading, a paragraph and a short
list on the 2-core VM. At two panes × 2,500 tokens/s that was a quarter of the screen loop's
busy time, and the loop was the limit (P2, docs/benchmarks.md). Here a helper process
(``python -m console.tui.frozen_render``, one per pane) renders each chunk with the same
function the widget uses in process (:func:`~console.tui.widgets.frozen_markdown.render_chunk`,
on a console made as Textual makes the app's) and sends the lines back; taking them off the
pipe costs the screen a few per cent of rendering them. While the helper renders, the screen's
loop draws frames and serves the other pane.

If the helper is not running (still starting, or it died), :meth:`FrozenRenderer.render` gives
None and the caller renders in process: nothing waits on the helper, nothing is lost. A dead
helper is started again on the next render (up to :data:`RESTARTS` times).
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os

from rich.console import Console
from rich.segment import Segment
from rich.style import Style

from console.core.helper_pipe import READ_CHUNK, FrameReader, HelperProcess, pack
from console.tui.widgets.frozen_markdown import ChunkJob, render_chunk
from console.tui.widgets.streaming_answer import WARM_UP_TEXT

Rendered = tuple[list[list[Segment]], bool]  # a chunk's lines, and whether it ends with a rule
RESTARTS = 3  # helpers started again after one died; then the screen renders in process for good


def app_console(color_system: str | None) -> Console:
    """A console that renders as Textual's app console does (textual/app.py, pinned)."""
    return Console(color_system=color_system, file=io.StringIO(), markup=True, highlight=False, emoji=False,
                   legacy_windows=False, force_terminal=True, safe_box=False, soft_wrap=False)


# ----- the helper process --------------------------------------------------------------------------
def serve(read_fd: int, write_fd: int) -> None:
    """Render until the pipe closes. Out first: ``("ready", 0)``, once every kind of block has
    been rendered once (rich's first code block loads Pygments: 50 ms). Then in:
    ``("render", id, color_system, ChunkJob)``; out: ``("lines", id, lines, ends_with_rule)``
    or ``("error", id, message)``."""

    def send(message: tuple) -> None:
        data = pack(message)
        while data:
            data = data[os.write(write_fd, data):]

    consoles: dict[str | None, Console] = {}
    warm = app_console(None)
    render_chunk(ChunkJob(WARM_UP_TEXT, False, warm.options.update(width=80), Style(), None), warm)
    send(("ready", 0))
    frames = FrameReader()
    while data := os.read(read_fd, READ_CHUNK):
        for _, rid, color_system, job in frames.feed(data):
            try:
                console = consoles.get(color_system) or consoles.setdefault(color_system, app_console(color_system))
                send(("lines", rid, *render_chunk(job, console)))
            except Exception as exc:  # noqa: BLE001 - a chunk that fails is rendered by the screen instead
                send(("error", rid, f"{type(exc).__name__}: {exc}"))


def main() -> None:
    write_fd = os.dup(1)
    os.dup2(2, 1)  # a library's print goes to stderr, not into the frames
    try:
        serve(0, write_fd)
    except (BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        pass  # the console went away: so do we


# ----- the screen's side ---------------------------------------------------------------------------
class FrozenRenderer(HelperProcess):
    """One helper process and its pipe (start it early: it takes about a second to import)."""

    def __init__(self) -> None:
        super().__init__()
        self._waiting: dict[int, asyncio.Future[Rendered | None]] = {}
        self._ids = itertools.count(1)
        self._restart: asyncio.Task | None = None
        self._ready: asyncio.subprocess.Process | None = None  # the helper that said it is ready
        self.served = 0  # chunks the helpers have rendered
        self._restarts = 0

    @property
    def running(self) -> bool:
        """Whether the helper is up and has said it is ready (renders before that stay in process)."""
        return self.alive and self._process is self._ready

    async def start(self) -> None:
        """Start the helper unless one is alive (starting or running); a dead one is replaced."""
        async with self._starting:
            if self._process is not None and self._process.returncode is None:
                return
            waiting = self._waiting = {}  # a dead helper's pump only ever fails its own renders
            try:
                await self._spawn("console.tui.frozen_render", lambda process: self._pump(process, waiting))
            except OSError:
                self._process = None  # renders stay in process

    async def render(self, job: ChunkJob, color_system: str | None) -> Rendered | None:
        """``job``'s lines from the helper, or None when the helper cannot give them."""
        if not self.running:
            self._start_again()
            return None
        rid = next(self._ids)
        future: asyncio.Future[Rendered | None] = asyncio.get_running_loop().create_future()
        waiting = self._waiting
        waiting[rid] = future
        try:
            return await future if self.send(("render", rid, color_system, job)) else None
        finally:
            waiting.pop(rid, None)

    def _start_again(self) -> None:
        """After the helper died: start another in the background, at most
        :data:`RESTARTS` times (not while one is starting, nor after :meth:`stop`, which forgets
        the process)."""
        process = self._process
        if process is None or process.returncode is None or self._restarts >= RESTARTS \
                or (self._restart is not None and not self._restart.done()):
            return
        self._restarts += 1
        self._restart = asyncio.create_task(self.start())

    async def _pump(self, process: asyncio.subprocess.Process, waiting: dict[int, asyncio.Future[Rendered | None]]) -> None:
        assert process.stdout is not None
        frames = FrameReader()
        try:
            while data := await process.stdout.read(READ_CHUNK):
                for message in frames.feed(data):
                    if message[0] == "ready":
                        self._ready = process
                        continue
                    future = waiting.get(message[1])
                    if future is not None and not future.done():
                        future.set_result((message[2], message[3]) if message[0] == "lines" else None)
                        self.served += message[0] == "lines"
        finally:
            await process.wait()
            for future in list(waiting.values()):
                if not future.done():
                    future.set_result(None)


if __name__ == "__main__":
    main()
