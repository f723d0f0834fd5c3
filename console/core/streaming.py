"""Stream one generation from a decoupled Triton model over gRPC (``tritonclient.grpc.aio``).

The chat screen, the batch client and the benchmarks all build on :class:`TritonStreamClient`.
It speaks the model wire protocol of ``model_repository/`` (``text_input``, ``stream``,
``sampling_parameters`` in; ``text_output`` deltas, ``finish_reason``, ``num_input_tokens``,
``num_output_tokens`` out) and times everything with ``time.monotonic()``.

Cancelling the consuming task, or closing the iterator (``aclose()``), cancels the gRPC call;
Triton then marks the request cancelled and the model aborts the generation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import struct
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import numpy as np
from tritonclient.grpc import InferInput
from tritonclient.grpc._infer_result import InferResult
from tritonclient.grpc._utils import _get_inference_request

from console.core.triton_channel import LazyTritonChannel

# Server messages that mean "the model is not there (yet)", not "your request is wrong".
_NOT_READY_HINTS = ("unknown model", "is not found", "not ready", "no available versions", "is not available")


@dataclass(frozen=True)
class Delta:
    """A piece of new text (never cumulative) and how many tokens it holds."""

    text: str
    tokens: int
    t: float  # time.monotonic() when it arrived


class StreamTimes:
    """TTFT and end-to-end latency from ``t_start``/``t_first``/``t_end`` (genai-perf's definitions)."""

    t_start: float
    t_first: float | None
    t_end: float

    @property
    def ttft(self) -> float | None:
        return None if self.t_first is None else self.t_first - self.t_start

    @property
    def e2e(self) -> float:
        return self.t_end - self.t_start


@dataclass(frozen=True)
class Final(StreamTimes):
    """The end of a stream: the whole answer, why it ended, token counts and timings."""

    text: str
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int
    t_start: float  # just before the request was sent
    t_first: float | None  # first non-empty delta
    t_end: float


class StreamError(Exception):
    """A stream that could not start or did not finish; ``kind`` says which way it failed.

    ``unavailable``: server unreachable; ``not_ready``: model unknown or not loaded;
    ``bad_request``: the model refused the input (message says why); ``broken``: the stream
    failed or ended without a final response; ``timeout``: no response for ``timeout_s``.
    """

    KINDS = ("unavailable", "not_ready", "bad_request", "broken", "timeout")

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


def prompt_text(prompt: str | list[dict]) -> str:
    """What goes into ``text_input``: plain text as is, chat messages as a JSON list."""
    if isinstance(prompt, str):
        return prompt
    return json.dumps(list(prompt), ensure_ascii=False)


def build_inputs(prompt: str | list[dict], sampling: dict | None, stream: bool = True) -> list[InferInput]:
    text = InferInput("text_input", [1], "BYTES")
    text.set_data_from_numpy(np.array([prompt_text(prompt).encode("utf-8")], dtype=np.object_))
    flag = InferInput("stream", [1], "BOOL")
    flag.set_data_from_numpy(np.array([stream], dtype=bool))
    inputs = [text, flag]
    if sampling:
        params = InferInput("sampling_parameters", [1], "BYTES")
        params.set_data_from_numpy(np.array([json.dumps(sampling).encode("utf-8")], dtype=np.object_))
        inputs.append(params)
    return inputs


def stream_request(model: str, inputs: list[InferInput]) -> Any:
    """A ModelInferRequest asking for an empty final response, so the end is explicit.

    (``tritonclient.grpc.aio.stream_infer`` cannot set ``triton_enable_empty_final_response``:
    it refuses reserved parameters, so we build the request and call the stub ourselves.)
    """
    request = _get_inference_request(
        model_name=model,
        inputs=inputs,
        model_version="",
        request_id=uuid.uuid4().hex[:16],
        outputs=None,
        sequence_id=0,
        sequence_start=False,
        sequence_end=False,
        priority=0,
        timeout=None,
        parameters=None,
    )
    request.parameters["triton_enable_empty_final_response"].bool_param = True
    return request


# Fixed-size datatypes a first element is read from directly: their struct format, little-endian.
_SCALARS = {"BOOL": "<?", "INT8": "<b", "UINT8": "<B", "INT16": "<h", "UINT16": "<H",
            "INT32": "<i", "UINT32": "<I", "INT64": "<q", "UINT64": "<Q", "FP32": "<f", "FP64": "<d"}


def first_values(infer_response: Any) -> dict[str, Any]:
    """The first element of every output of a ``ModelInferResponse``, by name (None if empty).

    Read straight from the raw output bytes: a stream reader gets one response per token, and
    building ``InferResult`` and a numpy array per output took 10–20 µs of the 80–97 µs its thread
    spent per response on the 2-core VM (bench/reader_cost.py). Anything not in raw bytes goes
    through ``InferResult`` as before; an output that cannot be read is None, as it was (a bad
    response never ends the stream here). tests/test_streaming.py compares both on a real
    server's responses.
    """
    raw = infer_response.raw_output_contents
    values: dict[str, Any] = {}
    fallback = None
    for index, output in enumerate(infer_response.outputs):
        data = raw[index] if index < len(raw) else None
        kind = output.datatype
        try:
            if data is not None and (kind == "BYTES" or kind in _SCALARS):
                if not data or 0 in output.shape:
                    values[output.name] = None
                elif kind == "BYTES":
                    size = int.from_bytes(data[:4], "little")
                    values[output.name] = bytes(data[4:4 + size])
                else:
                    values[output.name] = struct.unpack_from(_SCALARS[kind], data)[0]
                continue
            fallback = fallback or InferResult(infer_response)
            array = fallback.as_numpy(output.name)
            values[output.name] = None if array is None or array.size == 0 else array.reshape(-1)[0]
        except Exception:  # noqa: BLE001 - a tensor that does not match its shape or type
            values[output.name] = None
    return values


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _is_final(infer_response: Any) -> bool:
    params = infer_response.parameters
    return "triton_final_response" in params and params["triton_final_response"].bool_param


def classify(message: str, before_first: bool) -> str:
    low = message.lower()
    if any(hint in low for hint in _NOT_READY_HINTS):
        return "not_ready"
    return "bad_request" if before_first else "broken"


def _rpc_error(exc: grpc.RpcError) -> StreamError:
    code = exc.code() if hasattr(exc, "code") else None
    details = (exc.details() if hasattr(exc, "details") else "") or str(code)
    if code == grpc.StatusCode.UNAVAILABLE:
        return StreamError("unavailable", f"server unreachable: {details}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return StreamError("timeout", details)
    return StreamError("broken", f"{code.name if code else 'gRPC error'}: {details}")


async def _read(call: Any, timeout_s: float) -> Any:
    """``call.read()`` bounded by ``timeout_s``; cancelling the caller cancels the call at once.

    The read is awaited in the caller's task, and a timer cancels the call if no response comes
    in time (``asyncio.wait_for`` waits for a cancelled read to finish, and a gRPC read did not
    always finish on its own, so a stopped chat pane could hang forever; a task and a wait per
    response, as before, took 10–20 µs of the 80–97 µs a stream reader's thread spent per
    response on the 2-core VM: bench/reader_cost.py).
    grpc's own read cancels the call when the caller is cancelled.
    """
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        call.cancel()

    timer = asyncio.get_running_loop().call_later(timeout_s, expire)
    try:
        return await call.read()
    except asyncio.CancelledError:
        if expired:
            raise asyncio.TimeoutError from None
        call.cancel()
        raise
    finally:
        timer.cancel()


class _Answer:
    """One request's responses turned into events, whichever stream carried them."""

    def __init__(self, t_start: float) -> None:
        self.t_start = t_start
        self.pieces: list[str] = []
        self.output_tokens = 0
        self.input_tokens: int | None = None
        self.finish_reason: str | None = None
        self.t_first: float | None = None

    def events(self, response: Any, now: float) -> list[Delta | Final]:
        """The events one response makes (a Delta, the Final, both or none); raises StreamError."""
        if response is grpc.aio.EOF:
            raise StreamError("broken", "the stream ended before the final response")
        if response.error_message:
            message = response.error_message
            raise StreamError(classify(message, self.t_first is None and not self.pieces), message)
        infer = response.infer_response
        values = first_values(infer)
        text = _text(values.get("text_output"))
        tokens = values.get("num_output_tokens")
        count = int(tokens) if tokens is not None else (1 if text else 0)
        if self.input_tokens is None and values.get("num_input_tokens") is not None:
            self.input_tokens = int(values["num_input_tokens"])
        reason = values.get("finish_reason")
        if reason is not None:
            self.finish_reason = _text(reason) or None
        events: list[Delta | Final] = []
        if text or count:
            if text and self.t_first is None:
                self.t_first = now
            self.pieces.append(text)
            self.output_tokens += count
            events.append(Delta(text=text, tokens=count, t=now))
        if _is_final(infer):
            events.append(
                Final(
                    text="".join(self.pieces),
                    finish_reason=self.finish_reason,
                    input_tokens=self.input_tokens,
                    output_tokens=self.output_tokens,
                    t_start=self.t_start,
                    t_first=self.t_first,
                    t_end=time.monotonic(),
                )
            )
        return events


RECONNECT_WAIT_S = 5.0  # over the channel's longest reconnect backoff (2 s + jitter, triton_channel.py)


class TritonStreamClient(LazyTritonChannel):
    """One gRPC channel to a Triton server; any number of concurrent streams over it.

    ``timeout_s`` bounds the wait for each response (the first one included), not the whole
    generation: a long answer that keeps streaming never times out, a stalled one does.
    """

    def __init__(self, url: str, timeout_s: float = 60.0) -> None:
        super().__init__(url, timeout_s)

    async def stream(
        self, model: str, prompt: str | list[dict], sampling: dict | None = None, *, stream: bool = True
    ) -> AsyncIterator[Delta | Final]:
        """Yield :class:`Delta` events, then exactly one :class:`Final`; raise :class:`StreamError`.

        The request gets a gRPC stream of its own, closed after its final response.
        ``stream=False`` asks the model for the whole answer in one response (the batch client's
        ``--no-stream``); the events are the same, TTFT then equals the end-to-end latency.
        """
        request = stream_request(model, build_inputs(prompt, sampling, stream=stream))

        def open_call() -> Any:
            async def requests() -> AsyncIterator[Any]:
                yield request  # one request, then half-close: Triton ends the stream after its final response

            return self.open_stream(requests())

        async with contextlib.aclosing(self.events(model, open_call, lambda call: call.cancel())) as events:
            async for event in events:
                yield event  # closing this iterator closes ``events`` at once, which cancels the call

    def open_stream(self, requests: AsyncIterator[Any]) -> Any:
        """A ModelStreamInfer call that sends what ``requests`` yields."""
        client = self._get()
        return client._client_stub.ModelStreamInfer(requests, metadata=client._get_metadata(None))

    async def events(
        self, model: str, open_call: Callable[[], Any], drop: Callable[[Any], None]
    ) -> AsyncIterator[Delta | Final]:
        """Read one request's responses as events from the call ``open_call()`` sends it on.

        ``drop(call)`` runs when the request ends without its final response (an error, a
        timeout, the consumer stopped): the call is cancelled, so Triton cancels the request.
        """
        answer = _Answer(time.monotonic())  # just before the request is sent
        call = open_call()
        answered = retried = done = False
        try:
            while True:
                try:
                    response = await _read(call, self.timeout_s)
                except asyncio.TimeoutError:
                    raise StreamError("timeout", f"no response from {model} for {self.timeout_s:.0f}s") from None
                except grpc.RpcError as exc:
                    error = _rpc_error(exc)
                    if error.kind == "unavailable" and not answered and not retried:
                        # Refused before any answer: the channel may still be backing off from
                        # before a server restart and fails fast meanwhile. Other streams share
                        # the channel, so it is not closed: if it connects, retry once.
                        retried = True
                        drop(call)
                        if await self.reconnected(RECONNECT_WAIT_S):
                            call = open_call()
                            continue
                    raise error from None
                answered = True
                for event in answer.events(response, time.monotonic()):
                    done = isinstance(event, Final)
                    yield event
                if done:
                    return
        finally:
            if not done:
                drop(call)  # Triton sees the stream go away and cancels the request

    def lane(self) -> StreamLane:
        """A stream for one request after another (a closed-loop worker's; see StreamLane)."""
        return StreamLane(self)

    async def complete(self, model: str, prompt: str | list[dict], sampling: dict | None = None) -> Final:
        """The whole generation, streamed and collected (for scripts and tests)."""
        final: Final | None = None
        async for event in self.stream(model, prompt, sampling):
            if isinstance(event, Final):
                final = event
        assert final is not None
        return final


class StreamLane:
    """One long-lived gRPC stream that carries one request after another.

    A closed-loop worker (``bench``, the batch client) sends its next request on the stream its
    last one used, as perf_analyzer does in streaming mode, instead of opening a stream per
    request: opening one costs the client and tritonserver about a millisecond, which TTFT
    would otherwise count. ``stream()`` has :meth:`TritonStreamClient.stream`'s contract; a
    request that ends without its final response (error, timeout, consumer stopped) cancels
    the stream, and the next request opens a new one. One request at a time per lane.
    """

    def __init__(self, client: TritonStreamClient) -> None:
        self.client = client
        self._call: Any = None
        self._queue: asyncio.Queue | None = None

    async def stream(
        self, model: str, prompt: str | list[dict], sampling: dict | None = None, *, stream: bool = True
    ) -> AsyncIterator[Delta | Final]:
        request = stream_request(model, build_inputs(prompt, sampling, stream=stream))

        def send() -> Any:
            if self._call is None:
                self._open()
            self._queue.put_nowait(request)
            return self._call

        async with contextlib.aclosing(self.client.events(model, send, self._drop)) as events:
            async for event in events:
                yield event

    def _open(self) -> None:
        queue: asyncio.Queue = asyncio.Queue()

        async def requests() -> AsyncIterator[Any]:
            while (request := await queue.get()) is not None:
                yield request

        self._call, self._queue = self.client.open_stream(requests()), queue

    def _drop(self, call: Any) -> None:
        call.cancel()
        if call is self._call:
            self._call = self._queue = None

    async def close(self, timeout_s: float = 5.0) -> None:
        """End the stream the way a finished request's stream ends: half-close, then the server
        closes it. Nothing is in flight, so nothing needs cancelling, and tritonserver 2.51's
        gRPC cancellation path has a known race that can crash it (docs/decisions.md); the call
        is cancelled only if the server does not close it within ``timeout_s``."""
        call = self._call
        if call is None:
            return
        self._queue.put_nowait(None)  # the request generator ends: gRPC half-closes the stream
        self._call = self._queue = None
        try:
            await asyncio.wait_for(call.code(), timeout_s)
        except (asyncio.TimeoutError, grpc.RpcError):
            call.cancel()

    async def __aenter__(self) -> StreamLane:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
