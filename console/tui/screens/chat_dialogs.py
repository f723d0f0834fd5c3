"""The chat place's dialogs: sampling settings and reopening a saved conversation."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from console.core.completion import Sampling
from console.core.transcripts import TranscriptInfo


def _text(value: object) -> str:
    return "" if value is None else str(value)


class SamplingScreen(ModalScreen["Sampling | None"]):
    """Edit the shared sampling, or one pane's override (empty fields = use the shared value).

    Dismisses with the new Sampling (Enter), or None when cancelled (Esc).
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, current: Sampling, override: bool) -> None:
        super().__init__()
        self.title_text = title
        self.current = current
        self.override = override

    def compose(self) -> ComposeResult:
        hint = "empty = use the shared value" if self.override else "empty = the model's default"
        with Vertical(id="sampling-box"):
            yield Label(f"[b]{self.title_text}[/b]  ({hint}; Enter applies, Esc cancels)")
            yield Input(self.current.system_prompt, placeholder="system prompt", id="f-system")
            yield Input(_text(self.current.temperature), placeholder="temperature 0..2", id="f-temperature")
            yield Input(_text(self.current.top_p), placeholder="top_p 0..1", id="f-top_p")
            yield Input(_text(self.current.max_tokens), placeholder="max_tokens", id="f-max_tokens")
            yield Static("", id="sampling-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        values = {name: self.query_one(f"#f-{name}", Input).value for name in ("system", "temperature", "top_p", "max_tokens")}
        try:
            sampling = Sampling.parse(values["system"], values["temperature"], values["top_p"], values["max_tokens"])
        except ValueError as exc:
            self.query_one("#sampling-error", Static).update(f"[red]{exc}[/]")
            return
        self.dismiss(sampling)

    def action_cancel(self) -> None:
        self.dismiss(None)


class OpenTranscriptScreen(ModalScreen["TranscriptInfo | None"]):
    """Pick a saved conversation (newest first)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, transcripts: list[TranscriptInfo]) -> None:
        super().__init__()
        self.transcripts = transcripts

    def compose(self) -> ComposeResult:
        with Vertical(id="open-box"):
            yield Label("[b]Reopen a conversation[/b]  (Enter opens, Esc cancels)")
            if not self.transcripts:
                yield Static("No saved conversations yet.")
            options = [
                Option(f"{t.created[:16]}  {t.models}  ({t.exchanges})  {t.title}", id=str(i))
                for i, t in enumerate(self.transcripts)
            ]
            yield OptionList(*options, id="open-list")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.transcripts[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)
