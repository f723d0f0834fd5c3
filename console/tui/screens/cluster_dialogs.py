"""Modal screens the Cluster place uses: ask for a value, pick a target, read text (describe/logs).

Confirmation is the shared :class:`console.tui.widgets.confirm.ConfirmScreen`.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, RichLog, Static


class AskScreen(ModalScreen[str | None]):
    """One line of input (replica count, cluster name); Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.title_text, self.value, self.placeholder = title, value, placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"[b]{self.title_text}[/b]", classes="dialog-title")
            yield Input(value=self.value, placeholder=self.placeholder, id="ask-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class PickScreen(ModalScreen[str | None]):
    """Choose one of a few options (kubeconfig contexts, EKS cluster)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, options: list[str]) -> None:
        super().__init__()
        self.title_text, self.options = title, options

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"[b]{self.title_text}[/b]", classes="dialog-title")
            yield OptionList(*self.options, id="pick-list")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.options[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)


class TextScreen(ModalScreen[None]):
    """Describe output or a log tail; lines can keep arriving (follow). Esc closes and stops the follow."""

    BINDINGS = [Binding("escape,q", "close", "Back"), Binding("end", "follow", "Follow end")]

    def __init__(self, title: str, text: str = "") -> None:
        super().__init__()
        self.title_text, self.initial = title, text
        self.closed = False
        self.on_close: list = []  # callables run when the view goes away (stop a log follow)

    def compose(self) -> ComposeResult:
        with Vertical(classes="text-view"):
            yield Static(f"[b]{self.title_text}[/b]  [dim](esc to close)[/dim]", classes="dialog-title")
            yield RichLog(id="text-log", highlight=False, markup=False, wrap=False, max_lines=5000)

    def on_mount(self) -> None:
        if self.initial:
            self.write(self.initial)

    def write(self, text: str) -> None:
        log = self.query_one(RichLog)
        log.write(text, scroll_end=log.is_vertical_scroll_end)  # follow only when at the bottom

    def action_follow(self) -> None:
        self.query_one(RichLog).scroll_end(animate=False)

    def _run_on_close(self) -> None:
        self.closed = True
        for callback in self.on_close:
            callback()
        self.on_close = []

    def on_unmount(self) -> None:
        self._run_on_close()

    def action_close(self) -> None:
        self._run_on_close()
        self.dismiss(None)
