"""The pipe to a helper process: length-prefixed pickles both ways, and starting the helper.

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
