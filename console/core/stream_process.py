"""Streams read in a helper process, so that a busy screen never slows the network read.

The chat screen draws on the same event loop that would read the gRPC stream, and a frame of
two scrolling panes costs tens of milliseconds on a small machine: ``grpc.aio`` hands over one
response per loop iteration, so while the screen draws, the read falls behind and the answer
arrives at the reader's pace, not the model's (P2, docs/benchmarks.md). A reading thread does
not help: it waits for the GIL behind the drawing (tried; docs/decisions.md).

Here a helper process (``python -m console.core.stream_process``) runs
:class:`~console.core.streaming.TritonStreamClient` on a loop of its own and passes every event
over a pipe at once; the screen's side reads the pipe whenever its loop comes round and merges
the deltas that piled up meanwhile into one (:class:`ProcessStreamClient`, same interface as
``TritonStreamClient.stream``). Clock readings are ``time.monotonic()``, one clock for every
process on the machine: a delta's time is when the helper read it from the network, and a
stream's start is when the screen asked for it.

The helper exits when its pipe closes, so it never outlives the console; if it dies, the streams
it carried fail as ``broken`` and the next stream starts a new one.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import os
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

from console.core.helper_pipe import READ_CHUNK, FrameReader, HelperProcess, pack
from console.core.streaming import Delta, Final, StreamError, TritonStreamClient

__all__ = ["FrameReader", "ProcessStreamClient", "StreamProcess", "pack"]

# ----- the helper process --------------------------------------------------------------------------
async def _stdio() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """The pipe to the screen; anything else that writes to stdout (a library's print) goes to
    stderr instead of into the frames."""
    loop = asyncio.get_running_loop()
    pipe_out = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    reader = asyncio.StreamReader(limit=READ_CHUNK)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    transport, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, pipe_out)
    writer = asyncio.StreamWriter(transport, protocol, None, loop)
    return reader, writer


async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Run the streams the screen asks for until the pipe closes.

    In: ``("stream", id, url, timeout_s, model, prompt, sampling, stream, t_start)``,
    ``("cancel", id)``, ``("forget", url, timeout_s)`` (close that channel; the next stream
    connects again). Out: ``("delta", id, text, tokens, t)``, ``("final", id, Final)``,
    ``("error", id, kind, message)``, ``("cancelled", id)``.
    """
    clients: dict[tuple[str, float], TritonStreamClient] = {}
    tasks: dict[int, asyncio.Task] = {}

    def send(message: tuple) -> None:
        writer.write(pack(message))

    async def run(rid: int, url: str, timeout_s: float, model: str, prompt: Any, sampling: Any, stream: bool,
                  t_start: float) -> None:
        client = clients.get((url, timeout_s))
        if client is None:
            client = clients[(url, timeout_s)] = TritonStreamClient(url, timeout_s=timeout_s)
        try:
            async for event in client.stream(model, prompt, sampling, stream=stream):
                if isinstance(event, Delta):
                    send(("delta", rid, event.text, event.tokens, event.t))
                else:
                    send(("final", rid, replace(event, t_start=t_start)))  # the screen asked at t_start
        except StreamError as exc:
            send(("error", rid, exc.kind, exc.message))
        except asyncio.CancelledError:
            send(("cancelled", rid))
        except Exception as exc:  # noqa: BLE001 - any failure is this stream's, never the helper's
            send(("error", rid, "broken", f"{type(exc).__name__}: {exc}"))
        finally:
            tasks.pop(rid, None)

    frames = FrameReader()
    try:
        while data := await reader.read(READ_CHUNK):
            for message in frames.feed(data):
                kind = message[0]
                if kind == "stream":
                    rid = message[1]
                    tasks[rid] = asyncio.create_task(run(*message[1:]))
                elif kind == "cancel" and message[1] in tasks:
                    tasks[message[1]].cancel()
                elif kind == "forget":
                    client = clients.pop((message[1], message[2]), None)
                    if client is not None:
                        await client.close()
            await writer.drain()
    finally:
        for task in list(tasks.values()):
            task.cancel()
        await asyncio.gather(*tasks.values(), return_exceptions=True)
        for client in clients.values():
            await client.close()


def main() -> None:
    async def run() -> None:
        reader, writer = await _stdio()
        await serve(reader, writer)

    try:
        asyncio.run(run())
    except (BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        pass  # the console went away: so do we


# ----- the screen's side ---------------------------------------------------------------------------
class _Inbox:
    """One stream's messages, as the pump delivers them."""

    def __init__(self) -> None:
        self.messages: collections.deque[tuple] = collections.deque()
        self.ready = asyncio.Event()

    def put(self, message: tuple) -> None:
        self.messages.append(message)
        self.ready.set()

    async def take_all(self) -> list[tuple]:
        await self.ready.wait()
        self.ready.clear()
        messages = list(self.messages)
        self.messages.clear()
        return messages


class StreamProcess(HelperProcess):
    """The helper process and its pipe (start it early: it takes about a second to import)."""

    def __init__(self) -> None:
        super().__init__()
        self._inboxes: dict[int, _Inbox] = {}  # the running helper's streams
        self._ids = itertools.count(1)

    @property
    def running(self) -> bool:
        return self.alive

    async def start(self) -> None:
        """Start the helper unless it runs (a dead one is replaced)."""
        async with self._starting:
            if self.running:
                return
            inboxes = self._inboxes = {}  # a dead helper's pump only ever fails its own streams
            try:
                await self._spawn("console.core.stream_process", lambda process: self._pump(process, inboxes))
            except OSError as exc:
                raise StreamError("broken", f"could not start the stream reader process: {exc}") from None

    @staticmethod
    async def _pump(process: asyncio.subprocess.Process, inboxes: dict[int, _Inbox]) -> None:
        assert process.stdout is not None
        frames = FrameReader()
        try:
            while data := await process.stdout.read(READ_CHUNK):
                for message in frames.feed(data):
                    inbox = inboxes.get(message[1])
                    if inbox is not None:
                        inbox.put(message)
        finally:
            code = await process.wait()
            for rid, inbox in list(inboxes.items()):
                inbox.put(("error", rid, "broken", f"the stream reader process exited (status {code})"))

    def open(self) -> tuple[int, _Inbox]:
        """A new stream's id and inbox (the pump fails it if the helper dies from now on)."""
        if self._pump_task is None or self._pump_task.done():  # it died between start() and now
            raise StreamError("broken", "the stream reader process exited")
        rid = next(self._ids)
        inbox = self._inboxes[rid] = _Inbox()
        return rid, inbox

    def close_inbox(self, rid: int) -> None:
        self._inboxes.pop(rid, None)


class ProcessStreamClient:
    """:meth:`TritonStreamClient.stream` with the reading done by a :class:`StreamProcess`.

    Deltas that arrive while the caller is busy come as one :class:`Delta` (texts joined, tokens
    summed, the time of the first). ``close()`` forgets the channel (the next stream connects
    again, as with ``TritonStreamClient``); the process belongs to whoever made it.
    """

    def __init__(self, url: str, process: StreamProcess, timeout_s: float = 60.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self.process = process

    async def stream(
        self, model: str, prompt: str | list[dict], sampling: dict | None = None, *, stream: bool = True
    ) -> AsyncIterator[Delta | Final]:
        t_start = time.monotonic()
        await self.process.start()
        rid, inbox = self.process.open()
        self.process.send(("stream", rid, self.url, self.timeout_s, model, prompt, sampling, stream, t_start))
        finished = False
        try:
            while True:
                pending: Delta | None = None
                for message in await inbox.take_all():
                    kind = message[0]
                    if kind == "delta":
                        _, _, text, tokens, t = message
                        pending = Delta(text, tokens, t) if pending is None else \
                            Delta(pending.text + text, pending.tokens + tokens, pending.t)
                        continue
                    if pending is not None:
                        yield pending
                        pending = None
                    finished = True
                    if kind == "final":
                        yield message[2]
                        return
                    if kind == "error":
                        raise StreamError(message[2], message[3])
                    raise StreamError("broken", "the stream was cancelled in the reader process")
                if pending is not None:
                    yield pending
        finally:
            self.process.close_inbox(rid)
            if not finished:
                self.process.send(("cancel", rid))  # the helper cancels the gRPC call: Triton aborts

    async def close(self) -> None:
        self.process.send(("forget", self.url, self.timeout_s))


if __name__ == "__main__":
    main()
