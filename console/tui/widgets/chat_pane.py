"""One side of the chat: a model picker, live stats, and the conversation as streamed Markdown.

The pane renders; it never talks to a server. The chat screen's worker feeds it text through
the :class:`~console.tui.widgets.streaming_answer.AnswerStream` that :meth:`ChatPane.open_answer`
returns. The conversation is one :class:`~console.tui.widgets.conversation_view.ConversationView`
(console/tui/widgets/conversation_view.py), anchored to the bottom (Textual's ``anchor()``): it
follows new output only while the reader is at the bottom, picks up following again when they
scroll back down, and, like a messenger, keeps a short conversation sitting at the bottom of the
pane. Sending a prompt mounts nothing: a prompt, an answer and a note are entries of the view.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Label, Select, Static

from console.core.chat import Answer, LiveStats
from console.tui.frozen_render import FrozenRenderer
from console.tui.widgets.conversation_view import ANSWER, ERROR, NOTE, PROMPT, AnswerEntry, ConversationView
from console.tui.widgets.streaming_answer import AnswerStream


class ChatPane(Vertical, can_focus=False):
    """Pane ``A`` or ``B``."""

    def __init__(self, pane_id: str) -> None:
        super().__init__(id=f"pane-{pane_id}", classes="chat-pane")
        self.pane_id = pane_id
        self.stats: LiveStats | None = None
        self.streaming = False
        self.answer_widget: AnswerEntry | None = None  # the answer streaming or streamed last
        self.model_names: list[str] = []
        self.renderer: FrozenRenderer | None = None  # the screen's helper for frozen Markdown, if any

    def compose(self) -> ComposeResult:
        with Horizontal(classes="pane-head"):
            yield Label(f" {self.pane_id} ", classes="pane-label")
            yield Select([], id=f"model-{self.pane_id}", prompt="model", classes="pane-model")
        yield Static("—", id=f"stats-{self.pane_id}", classes="pane-stats")
        yield ConversationView(id=f"log-{self.pane_id}", classes="pane-log")

    def on_mount(self) -> None:
        self.log_view.anchor()

    @property
    def log_view(self) -> ConversationView:
        return self.query_one(f"#log-{self.pane_id}", ConversationView)

    @property
    def model_select(self) -> Select:
        return self.query_one(f"#model-{self.pane_id}", Select)

    @property
    def stats_line(self) -> Static:
        return self.query_one(f"#stats-{self.pane_id}", Static)

    @property
    def model(self) -> str:
        value = self.model_select.value
        return value if isinstance(value, str) else ""

    def set_models(self, names: list[str], current: str) -> None:
        select = self.model_select
        options = list(dict.fromkeys([*names, current] if current else names))
        self.model_names = options
        select.set_options([(name, name) for name in options])
        if current:
            select.value = current

    def clear(self) -> None:
        self.log_view.clear()
        self.answer_widget = None
        self.stats = None
        self.stats_line.update("—")
        self.log_view.anchor()

    def add_prompt(self, prompt: str) -> None:
        self.log_view.add_text(PROMPT, prompt)

    def start_streaming(self) -> LiveStats:
        """Live stats for an answer that is starting now (before it is shown)."""
        self.stats = LiveStats()
        self.streaming = True
        self.refresh_stats()
        return self.stats

    def open_answer(self, prompt: str | None, replace: bool = False) -> AnswerStream:
        """Show (the prompt and) a fresh answer; returns the stream that appends to it.

        ``replace`` (regenerate) first drops the last answer and its notes, keeping the prompt.
        """
        if replace:
            self.log_view.drop_last_answer()
        elif prompt is not None:
            self.add_prompt(prompt)
        self.answer_widget = self.log_view.add_answer()
        return AnswerStream(self.answer_widget, self.renderer)

    def shown_answer(self) -> str:
        """The Markdown source of the last answer on screen ("" when there is none)."""
        answers = self.log_view.texts(ANSWER)
        return answers[-1] if answers else ""

    def add_note(self, text: str, error: bool = False) -> None:
        self.log_view.add_text(ERROR if error else NOTE, text)

    def add_answer(self, answer: Answer) -> None:
        """A finished answer (from a reopened transcript): no streaming, drawn as a streamed
        answer is (frozen, by rich), so a reopened conversation looks as it did live."""
        self.answer_widget = self.log_view.add_answer()
        self.answer_widget.add(answer.completion.text or "")
        if not answer.completion.ok:
            self.add_note(f"✗ {answer.completion.error_kind}: {answer.completion.error}", error=True)
        stats = LiveStats(t_start=0.0)
        stats.finish(answer.completion, stopped=answer.stopped)
        self.stats = stats
        self.refresh_stats()

    def refresh_stats(self) -> None:
        """Show the stats (ten times a second while streaming). The line is one row of a fixed
        width: no layout, which would arrange the whole screen again (P2, docs/benchmarks.md)."""
        if self.stats is None:
            self.stats_line.update("—", layout=False)
            return
        text = self.stats.line()
        if self.streaming:
            text = "● " + text
        self.stats_line.update(text, layout=False)

    def finish(self, stats: LiveStats) -> None:
        self.streaming = False
        self.stats = stats
        self.refresh_stats()
