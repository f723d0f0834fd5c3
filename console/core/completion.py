"""One generation as data: the prompt goes out as chat messages, the answer comes back timed.

Chat, batch and bench all run requests through :func:`complete`, so a failure is always a
:class:`Completion` with ``error`` set (never an exception into a worker or a sweep), and the
timings always come from the streaming client's own clock readings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import Any, Awaitable, Callable

from console.core.latency import RequestTiming


@dataclass(frozen=True)
class Sampling:
    """What the operator sets; ``None`` leaves the model's own default (config.pbtxt)."""

    system_prompt: str = ""
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None

    def parameters(self) -> dict[str, Any]:
        """The ``sampling_parameters`` JSON object (the system prompt travels as a message)."""
        params = {"temperature": self.temperature, "top_p": self.top_p, "max_tokens": self.max_tokens}
        return {k: v for k, v in params.items() if v is not None}

    def merged(self, override: Sampling | None) -> Sampling:
        """This (shared) sampling with a pane's override on top: set fields win."""
        if override is None:
            return self
        changes = {k: v for k, v in asdict(override).items() if v not in (None, "")}
        return replace(self, **changes)

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in self.parameters().items()]
        if self.system_prompt:
            parts.append("system prompt")
        return ", ".join(parts) or "model defaults"

    @classmethod
    def parse(cls, system_prompt: str = "", temperature: str = "", top_p: str = "", max_tokens: str = "") -> Sampling:
        """From text fields; raises ValueError naming the field that is not a valid number."""

        def number(name: str, text: str, kind: type, low: float, high: float | None) -> Any:
            text = text.strip()
            if not text:
                return None
            try:
                value = kind(text)
            except ValueError:
                raise ValueError(f"{name}: {text!r} is not a {'whole ' if kind is int else ''}number") from None
            if value < low or (high is not None and value > high):
                raise ValueError(f"{name}: {value} is outside {low}..{high if high is not None else '∞'}")
            return value

        return cls(
            system_prompt=system_prompt.strip(),
            temperature=number("temperature", temperature, float, 0.0, 2.0),
            top_p=number("top_p", top_p, float, 0.0, 1.0),
            max_tokens=number("max_tokens", max_tokens, int, 1, None),
        )


def chat_messages(prompt: str, sampling: Sampling, history: list[tuple[str, str]] = ()) -> list[dict]:
    """The request's messages: system prompt, earlier turns, the new prompt.

    The server renders them with the model's own chat template (no client-side [INST]).
    """
    messages: list[dict] = []
    if sampling.system_prompt:
        messages.append({"role": "system", "content": sampling.system_prompt})
    for user, assistant in history:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": assistant})
    messages.append({"role": "user", "content": prompt})
    return messages


@dataclass
class Completion:
    """A finished (or failed, or stopped) generation."""

    model: str
    text: str = ""
    finish_reason: str | None = None
    input_tokens: int | None = None
    timing: RequestTiming | None = None
    error: str | None = None
    error_kind: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    def as_dict(self) -> dict:
        timing = self.timing
        return {
            "model": self.model,
            "text": self.text,
            "finish_reason": self.finish_reason,
            "input_tokens": self.input_tokens,
            "output_tokens": timing.output_tokens if timing else 0,
            "ttft_s": timing.ttft if timing else None,
            "e2e_s": timing.e2e if timing else None,
            "itl_s": timing.itl if timing else None,
            "tokens_per_s": timing.tokens_per_s if timing else None,
            "error": self.error,
            "error_kind": self.error_kind,
        }


OnDelta = Callable[[Any], Awaitable[None] | None]


async def complete(
    client: Any,
    model: str,
    messages: str | list[dict],
    sampling: dict | None = None,
    *,
    stream: bool = True,
    on_event: OnDelta | None = None,
    clock: Callable[[], float] | None = None,
) -> Completion:
    """Run one request to the end. ``on_event`` sees every Delta (and the Final) as it arrives.

    Cancellation (Esc in the chat, Ctrl-C in a script) propagates: the caller decides what a
    stopped generation means.
    """
    import inspect
    import time

    from console.core.streaming import Delta, Final, StreamError

    now = clock or time.monotonic
    t_start = now()
    pieces: list[str] = []
    tokens = 0
    t_first: float | None = None
    kwargs = {} if stream else {"stream": False}
    events = client.stream(model, messages, sampling, **kwargs)
    try:
        async for event in events:
            if on_event is not None:
                result = on_event(event)
                if inspect.isawaitable(result):
                    await result
            if isinstance(event, Delta):
                pieces.append(event.text)
                tokens += event.tokens
                if t_first is None and event.text:
                    t_first = event.t
            elif isinstance(event, Final):
                timing = RequestTiming(event.t_start, event.t_first, event.t_end, event.output_tokens)
                return Completion(model, event.text, event.finish_reason, event.input_tokens, timing)
    except StreamError as exc:
        timing = RequestTiming(t_start, t_first, now(), tokens, error=str(exc))
        return Completion(model, "".join(pieces), "error", None, timing, error=exc.message, error_kind=exc.kind)
    finally:
        # Closing the generator now (not at garbage collection) cancels the gRPC call at once
        # when we stop early: Esc, Ctrl-C, a cancelled sweep.
        await events.aclose()
    timing = RequestTiming(t_start, t_first, now(), tokens, error="no final response")
    return Completion(model, "".join(pieces), None, None, timing, error="the stream ended without a final response", error_kind="broken")
