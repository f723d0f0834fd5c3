"""Confirmation dialogs for destructive actions: type-the-name, and a plain yes/no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.core.teardown.run import confirmation_matches


class TypedConfirmScreen(ModalScreen[bool]):
    """Returns True only once the operator has typed ``name`` exactly; Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    CSS_PATH = "confirm.tcss"

    def __init__(self, name: str, warning: str) -> None:
        super().__init__()
        self.expected = name
        self.warning = warning

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="danger"):
            yield Static(self.warning, id="confirm-warning")
            yield Static(f"Type [b]{self.expected}[/b] to confirm, Esc to cancel:", id="confirm-prompt")
            yield Input(placeholder=self.expected, id="confirm-name")
            yield Static("", id="confirm-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if confirmation_matches(event.value, self.expected):
            self.dismiss(True)
        else:
            self.query_one("#confirm-error", Static).update(f"“{event.value}” is not “{self.expected}”. Nothing was changed.")

    def action_cancel(self) -> None:
        self.dismiss(False)


class YesNoScreen(ModalScreen[bool]):
    """``y`` confirms, ``n``/Esc cancels."""

    BINDINGS = [Binding("y", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]
    CSS_PATH = "confirm.tcss"

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(self.text, id="confirm-warning")
            yield Static("[b]y[/b] yes   [b]n[/b] no", id="confirm-prompt")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
