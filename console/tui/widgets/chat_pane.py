"""One side of the chat: a model picker, live stats, and the conversation as streamed Markdown.

The pane renders; it never talks to a server. The chat screen's worker feeds it text through
the :class:`~console.tui.widgets.streaming_answer.AnswerStream` that :meth:`ChatPane.open_answer`
returns (console/tui/widgets/streaming_answer.py). The log is anchored to the bottom (Textual's ``anchor()``): it follows new output
only while the reader is at the bottom, picks up following again when they scroll back down,
and, like a messenger, keeps a short conversation sitting at the bottom of the pane.

Sending a prompt mounts nothing: the pane keeps the next prompt and answer widgets mounted but
hidden at the end of the log (the *spare*), and ``open_answer`` only fills and shows them, so the
request leaves at once; mounting (CSS, compose) the next spare happens after the answer, while the
reader reads (P1, docs/benchmarks.md).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label, Select, Static

from console.core.chat import Answer, LiveStats
from console.tui.frozen_render import FrozenRenderer
from console.tui.widgets.conversation_log import ConversationLog
from console.tui.widgets.streaming_answer import AnswerStream, StreamingAnswer


class ChatPane(Vertical, can_focus=False):
    """Pane ``A`` or ``B``."""

    def __init__(self, pane_id: str) -> None:
        super().__init__(id=f"pane-{pane_id}", classes="chat-pane")
        self.pane_id = pane_id
        self.stats: LiveStats | None = None
        self.streaming = False
        self.answer_widget: StreamingAnswer | None = None
        self.model_names: list[str] = []
        self._spare: tuple[Static, StreamingAnswer] | None = None
        self.renderer: FrozenRenderer | None = None  # the screen's helper for frozen Markdown, if any

    def compose(self) -> ComposeResult:
        with Horizontal(classes="pane-head"):
            yield Label(f" {self.pane_id} ", classes="pane-label")
            yield Select([], id=f"model-{self.pane_id}", prompt="model", classes="pane-model")
        yield Static("—", id=f"stats-{self.pane_id}", classes="pane-stats")
        yield ConversationLog(id=f"log-{self.pane_id}", classes="pane-log", can_focus=True)

    async def on_mount(self) -> None:
        self.log_view.anchor()
        await self.prepare_spare()

    @property
    def log_view(self) -> ConversationLog:
        return self.query_one(f"#log-{self.pane_id}", ConversationLog)

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

    async def clear(self) -> None:
        self._spare = None
        await self.log_view.remove_children()
        self.stats = None
        self.stats_line.update("—")
        self.log_view.anchor()
        await self.prepare_spare()

    @staticmethod
    def prompt_widget(prompt: str) -> Static:
        return Static(prompt, classes="msg-user", markup=False)

    async def prepare_spare(self) -> None:
        """Mount the next prompt and answer widgets, hidden, if they are not there yet."""
        if self._spare is not None:
            return
        prompt, answer = self.prompt_widget(""), StreamingAnswer(classes="msg-answer")
        prompt.display = answer.display = False
        self._spare = (prompt, answer)
        await self.log_view.mount_all([prompt, answer])

    async def _append(self, *widgets: Widget) -> None:
        """Mount at the end of the conversation (above the hidden spare)."""
        before = self._spare[0] if self._spare is not None else None
        await self.log_view.mount_all(widgets, before=before)

    def _shown(self) -> list[Widget]:
        """The log's widgets, without the hidden spare."""
        spare = self._spare or ()
        return [w for w in self.log_view.children if w not in spare]

    async def add_prompt(self, prompt: str) -> None:
        await self._append(self.prompt_widget(prompt))

    def start_streaming(self) -> LiveStats:
        """Live stats for an answer that is starting now (before its widgets exist)."""
        self.stats = LiveStats()
        self.streaming = True
        self.refresh_stats()
        return self.stats

    async def open_answer(self, prompt: str | None, replace: bool = False) -> AnswerStream:
        """Show (the prompt and) a fresh answer block; returns the stream that appends to it.

        The widgets are the spare's, already mounted: nothing is mounted here (the request
        waits for this call). ``replace`` (regenerate) first drops the last answer and its
        notes, keeping the prompt.
        """
        if replace:
            for widget in reversed(self._shown()):
                if widget.has_class("msg-user"):
                    break
                await widget.remove()
        await self.prepare_spare()  # only if the last answer's spare is missing
        assert self._spare is not None
        prompt_widget, self.answer_widget = self._spare
        self._spare = None
        if prompt is None:
            await prompt_widget.remove()
        else:
            prompt_widget.update(prompt)
            prompt_widget.display = True
        self.answer_widget.display = True
        return self.answer_widget.get_stream(self.renderer)

    def shown_answer(self) -> str:
        """The Markdown source of the last answer on screen ("" when there is none)."""
        answers = [w for w in self._shown() if isinstance(w, StreamingAnswer)]
        return answers[-1].source if answers else ""

    async def add_note(self, text: str, error: bool = False) -> None:
        await self._append(Static(text, classes="msg-error" if error else "msg-note", markup=False))

    async def add_answer(self, answer: Answer) -> None:
        """A finished answer (from a reopened transcript): no streaming, drawn as a streamed
        answer is (frozen, by rich), so a reopened conversation looks as it did live."""
        widget = StreamingAnswer(classes="msg-answer")
        await self._append(widget)
        widget.add(answer.completion.text or "")
        if not answer.completion.ok:
            await self.add_note(f"✗ {answer.completion.error_kind}: {answer.completion.error}", error=True)
        stats = LiveStats(t_start=0.0)
        stats.finish(answer.completion, stopped=answer.stopped)
        self.stats = stats
        self.refresh_stats()

    def refresh_stats(self) -> None:
        if self.stats is None:
            self.stats_line.update("—")
            return
        text = self.stats.line()
        if self.streaming:
            text = "● " + text
        self.stats_line.update(text)

    def finish(self, stats: LiveStats) -> None:
        self.streaming = False
        self.stats = stats
        self.refresh_stats()
