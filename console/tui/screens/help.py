"""`?` help and the k9s-style `:` command prompt."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from console.tui.places import PLACES, by_id

KEYS_TEXT = """\
[b]Global keys[/b]
  1-6          go to a place (when no input has focus)
  :            command prompt (`:chat`, `:cluster`, `:q` …)
  ctrl+p       command palette (places, themes, …)
  ?            this help          esc   back / close
  ctrl+q       quit

[b]Conventions (k9s)[/b]
  /            filter the table      plain letters act on the selected row
  ctrl+letter  destructive or global actions, always confirmed
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        places = "\n".join(f"  {p.key}  :{p.id:<10} {p.summary}" for p in PLACES)
        with Vertical(id="help-box"):
            yield Static(KEYS_TEXT + "\n[b]Places[/b]\n" + places, id="help-text")

    def action_dismiss(self) -> None:
        self.dismiss(None)


class CommandScreen(ModalScreen[str | None]):
    """A one-line prompt; returns the command typed, or None on Esc."""

    BINDINGS = [Binding("escape", "cancel", "Back")]

    def compose(self) -> ComposeResult:
        with Vertical(id="command-box"):
            yield Input(placeholder=": " + " ".join(p.id for p in PLACES) + " q", id="command-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


def resolve_command(text: str) -> str | None:
    """Map what was typed at `:` to a place id, or 'quit'."""
    word = text.strip().lstrip(":").lower()
    if word in ("q", "q!", "quit", "exit"):
        return "quit"
    place = by_id(word) if word else None
    return place.id if place else None
