"""The pipe to a helper process: length-prefixed pickles both ways, starting and stopping the
helper, and :class:`HelperProcess`, the screen's side that both helpers share.

Two helpers use it: the stream reader (console/core/stream_process.py) and the frozen-Markdown
renderer (console/tui/frozen_render.py). Each is ``python -m <module>`` with its stdin and
stdout as the pipe; the screen's side reads it on its own event loop (no thread).
"""

from __future__ import annotations

import asyncio
import os
import pickle
import struct
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

_LENGTH = struct.Struct("!I")
READ_CHUNK = 1 << 16


def pack(message: tuple) -> bytes:
    """One message as a frame: its length, then its pickle."""
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _LENGTH.pack(len(data)) + data


class FrameReader:
    """Splits bytes, as they come off a pipe, into messages."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple]:
        self._buffer += data
        messages = []
        start = 0
        while len(self._buffer) - start >= _LENGTH.size:
            (size,) = _LENGTH.unpack_from(self._buffer, start)
            end = start + _LENGTH.size + size
            if len(self._buffer) < end:
                break
            messages.append(pickle.loads(self._buffer[start + _LENGTH.size : end]))
            start = end
        del self._buffer[:start]
        return messages


async def start_helper(module: str) -> asyncio.subprocess.Process:
    """``python -m module`` with pipes on stdin and stdout (stderr discarded), able to import
    this package wherever the console runs from."""
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", module,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env=env, limit=READ_CHUNK,
    )


async def stop_helper(process: asyncio.subprocess.Process, grace_s: float = 5.0) -> None:
    """Close the helper's stdin (it exits when its pipe closes); kill it if it lingers."""
    if process.stdin is not None:
        process.stdin.close()
    try:
        await asyncio.wait_for(process.wait(), grace_s)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()


class HelperProcess:
    """One helper process on the screen's side: started under a lock (a start and a stop never
    interleave), its pipe read by a pump task, stopped with whoever owns it. Subclasses say what
    the pump does with the messages and what starting means to their callers."""

    def __init__(self) -> None:
        self._process: asyncio.subprocess.Process | None = None
        self._pump_task: asyncio.Task | None = None
        self._lock: asyncio.Lock | None = None  # made on first use, inside the running loop

    @property
    def _starting(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    @property
    def alive(self) -> bool:
        """The helper runs and its pipe is read."""
        return self._process is not None and self._process.returncode is None and self._pump_task is not None \
            and not self._pump_task.done()

    async def _spawn(self, module: str,
                     pump: Callable[[asyncio.subprocess.Process], Awaitable[None]]) -> asyncio.subprocess.Process:
        """Start ``python -m module`` and ``pump`` on its pipe (call under :attr:`_starting`)."""
        process = self._process = await start_helper(module)
        self._pump_task = asyncio.create_task(pump(process))
        return process

    def send(self, message: tuple) -> bool:
        """Write ``message`` to the helper; False when its pipe is gone (the pump reports the exit)."""
        process = self._process
        if process is None or process.stdin is None or process.stdin.is_closing():
            return False
        try:
            process.stdin.write(pack(message))
        except (BrokenPipeError, ConnectionResetError):
            return False
        return True

    async def stop(self) -> None:
        """Close the pipe (the helper exits); kill it if it lingers. A start still under way
        finishes first, so an owner closed at once leaves no helper."""
        async with self._starting:
            process, self._process = self._process, None
            if process is None:
                return
            await stop_helper(process)
            if self._pump_task is not None:
                await asyncio.gather(self._pump_task, return_exceptions=True)
