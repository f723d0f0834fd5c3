"""The Textual application: places as modes, k9s-style keys, a command palette."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.app import App
from textual.binding import Binding
from textual.command import Hit, Hits, Provider

from console.core.config import Config
from console.tui.burn_rate import BurnRateTicker
from console.tui.places import PLACES, Place
from console.tui.quiet_gc import COLLECT_EVERY_S, QuietCollector
from console.tui.screens.help import CommandScreen, HelpScreen, resolve_command


class PlacesProvider(Provider):
    """Command palette entries: one per place."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for place in PLACES:
            text = f"Go to {place.title}"
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), partial(self.app.switch_mode, place.id), help=place.summary)


class TritonConsoleApp(App):
    """The operator's console. Each place is a mode with its own screen stack."""

    TITLE = "triton-console"
    CSS_PATH = "app.tcss"
    COMMANDS = App.COMMANDS | {PlacesProvider}
    MODES = {place.id: place.make_screen for place in PLACES}  # type: ignore[dict-item]
    BINDINGS = [
        *(Binding(p.key, f"goto('{p.id}')", p.title, show=False) for p in PLACES),
        Binding("colon", "command", ":cmd", key_display=":"),
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def __init__(self, config: Config | None = None, start_place: str = "models") -> None:
        super().__init__()
        self.config = config or Config()
        self.start_place = start_place
        self.theme = self.config.ui.theme if self.config.ui.theme in self.available_themes else "textual-dark"
        self.quiet_gc = QuietCollector()

    def on_mount(self) -> None:
        self.sub_title = self.config.triton.url
        self.burn_rate = BurnRateTicker(self, self.config.triton.url)
        self.burn_rate.start()
        self.switch_mode(self.start_place)
        self.call_after_refresh(self._take_over_gc)  # start-up's objects exist by the first frame
        self.set_interval(COLLECT_EVERY_S, self.quiet_gc.tick)

    def _take_over_gc(self) -> None:
        if self.is_running:  # not once the app is leaving: nothing would give collection back
            self.quiet_gc.install()

    def on_unmount(self) -> None:
        self.quiet_gc.uninstall()

    def action_goto(self, place_id: str) -> None:
        if self.current_mode != place_id:
            self.switch_mode(place_id)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_command(self) -> None:
        def done(text: str | None) -> None:
            if not text:
                return
            target = resolve_command(text)
            if target == "quit":
                self.exit()
            elif target:
                self.action_goto(target)
            else:
                self.notify(f"unknown command: {text}", severity="warning")

        self.push_screen(CommandScreen(), done)

    @staticmethod
    def places() -> tuple[Place, ...]:
        return PLACES


def run_app(config: Config, on_app: Callable[[TritonConsoleApp], None] | None = None) -> int:
    """Run the app until it exits; ``on_app`` gets it first (to send it notifications)."""
    app = TritonConsoleApp(config)
    if on_app is not None:
        on_app(app)
    app.run()
    return 0
