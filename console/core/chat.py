"""The side-by-side chat as data: two panes, each with its model, history and sampling.

The chat screen only renders this and runs :func:`console.core.completion.complete` per pane;
everything that decides what is sent (history as chat messages, shared sampling with a pane's
override) and what is kept (answers, timings, marks) lives here, so transcripts, tests and the
screen agree on one model of a conversation.
"""

from __future__ import annotations

import datetime as _dt
import time
import uuid
from dataclasses import dataclass, field

from console.core.completion import Completion, Sampling, chat_messages

PANES = ("A", "B")
MARKS = {"A": "A is better", "B": "B is better", "tie": "tie", "both-bad": "both bad"}


def _now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


@dataclass
class Answer:
    """One pane's answer to one prompt, with the sampling it was asked with."""

    completion: Completion
    sampling: Sampling
    stopped: bool = False  # the operator pressed Esc

    @property
    def usable_as_history(self) -> bool:
        return bool(self.completion.text) and self.completion.ok


@dataclass
class Exchange:
    prompt: str
    answers: dict[str, Answer] = field(default_factory=dict)
    mark: str | None = None
    at: str = field(default_factory=_now_iso)


@dataclass
class Pane:
    id: str
    model: str
    override: Sampling | None = None  # None: the shared sampling applies


@dataclass
class ChatSession:
    url: str
    panes: dict[str, Pane]
    shared: Sampling = field(default_factory=Sampling)
    exchanges: list[Exchange] = field(default_factory=list)
    id: str = field(default_factory=lambda: _dt.datetime.now().strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6])
    created: str = field(default_factory=_now_iso)

    @classmethod
    def new(cls, url: str, model_a: str, model_b: str, shared: Sampling | None = None) -> ChatSession:
        return cls(url=url, panes={"A": Pane("A", model_a), "B": Pane("B", model_b)}, shared=shared or Sampling())

    @property
    def title(self) -> str:
        return self.exchanges[0].prompt[:60] if self.exchanges else "(empty)"

    def sampling_for(self, pane: str) -> Sampling:
        return self.shared.merged(self.panes[pane].override)

    def history(self, pane: str, before: int | None = None) -> list[tuple[str, str]]:
        """(prompt, answer) pairs this pane's model saw, skipping failed or empty answers."""
        stop = len(self.exchanges) if before is None else before
        pairs = []
        for exchange in self.exchanges[:stop]:
            answer = exchange.answers.get(pane)
            if answer is not None and answer.usable_as_history:
                pairs.append((exchange.prompt, answer.completion.text))
        return pairs

    def messages(self, pane: str, index: int) -> list[dict]:
        """What pane ``pane`` sends for exchange ``index``: its own history, then that prompt."""
        return chat_messages(self.exchanges[index].prompt, self.sampling_for(pane), self.history(pane, before=index))

    def ask(self, prompt: str) -> int:
        """A new exchange for both panes; returns its index."""
        prompt = prompt.strip()
        if not prompt:
            raise ValueError("empty prompt")
        self.exchanges.append(Exchange(prompt))
        return len(self.exchanges) - 1

    def record(self, index: int, pane: str, completion: Completion, stopped: bool = False) -> Answer:
        """Store (or, on regenerate, replace) a pane's answer; the mark no longer applies."""
        exchange = self.exchanges[index]
        if pane in exchange.answers:
            exchange.mark = None
        answer = Answer(completion, self.sampling_for(pane), stopped)
        exchange.answers[pane] = answer
        return answer

    def set_mark(self, mark: str | None, index: int | None = None) -> Exchange:
        if mark is not None and mark not in MARKS:
            raise ValueError(f"unknown mark {mark!r} (one of {', '.join(MARKS)})")
        if not self.exchanges:
            raise ValueError("nothing to mark yet")
        exchange = self.exchanges[-1 if index is None else index]
        exchange.mark = mark
        return exchange

    def last_answer(self, pane: str) -> Answer | None:
        for exchange in reversed(self.exchanges):
            if pane in exchange.answers:
                return exchange.answers[pane]
        return None


@dataclass
class LiveStats:
    """A pane's numbers while it streams: TTFT, tokens, tokens/s, elapsed, finish reason."""

    t_start: float = field(default_factory=time.monotonic)
    t_first: float | None = None
    t_end: float | None = None
    tokens: int = 0
    deltas: int = 0
    finish_reason: str | None = None
    error: str | None = None

    def on_delta(self, text: str, tokens: int, t: float) -> None:
        if self.t_first is None and text:
            self.t_first = t
        self.tokens += tokens
        self.deltas += 1

    def finish(self, completion: Completion, stopped: bool = False) -> None:
        timing = completion.timing
        if timing is not None:  # the client's own clock readings are the truth
            self.t_start, self.t_first, self.t_end = timing.t_start, timing.t_first, timing.t_end
            self.tokens = timing.output_tokens
        else:
            self.t_end = time.monotonic()
        self.finish_reason = "stopped" if stopped else completion.finish_reason
        self.error = completion.error

    def elapsed(self, now: float | None = None) -> float:
        end = self.t_end if self.t_end is not None else (now if now is not None else time.monotonic())
        return max(0.0, end - self.t_start)

    @property
    def ttft(self) -> float | None:
        return None if self.t_first is None else self.t_first - self.t_start

    def tokens_per_s(self, now: float | None = None) -> float | None:
        """Generation rate after the first token (what a reader feels), None before two tokens."""
        if self.t_first is None or self.tokens < 2:
            return None
        span = self.elapsed(now) - (self.ttft or 0.0)
        return (self.tokens - 1) / span if span > 0 else None

    def line(self, now: float | None = None) -> str:
        ttft = "—" if self.ttft is None else f"{self.ttft * 1000:.0f} ms"
        rate = self.tokens_per_s(now)
        parts = [
            f"TTFT {ttft}",
            f"{'—' if rate is None else f'{rate:.1f}'} tok/s",
            f"{self.tokens} tokens",
            f"{self.elapsed(now):.1f} s",
        ]
        if self.finish_reason:
            parts.append(self.finish_reason)
        return " · ".join(parts)
