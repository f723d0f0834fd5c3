"""The screen a place shows until its job is built: it says so and pretends nothing."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Footer, Header, Static


class NotBuiltScreen(Screen):
    """Placeholder for a place whose job is not built yet."""

    PLACE_TITLE = "?"
    WHAT = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Middle(), Center():
            yield Static(
                f"[b]{self.PLACE_TITLE}[/b] is not built yet.\n\n{self.WHAT}\n\n"
                "Nothing here talks to a server or a cluster yet.",
                classes="not-built",
            )
        yield Footer()
