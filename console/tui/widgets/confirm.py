"""Confirmation dialogs for destructive actions: a plan with yes/no buttons, type-the-name, plain yes/no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from console.core.teardown.run import confirmation_matches


class ConfirmScreen(ModalScreen[bool]):
    """Says exactly what will happen; only `y` or the button proceeds."""

    BINDINGS = [Binding("escape,n", "answer(False)", "Cancel"), Binding("y", "answer(True)", "Yes")]

    def __init__(self, title: str, plan: str, verb: str = "Proceed", markup: bool = True) -> None:
        super().__init__()
        self.title_text, self.plan, self.verb, self.markup = title, plan, verb, markup

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog danger"):
            yield Static(f"[b]{self.title_text}[/b]", classes="dialog-title")
            yield Static(self.plan, classes="dialog-body", markup=self.markup)
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.verb} (y)", variant="error", id="yes")
                yield Button("Cancel (n/esc)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


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
