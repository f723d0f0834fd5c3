"""Drive the real ChatScreen headless for the performance scripts (P1, P2)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

FOCUS_SETTLE_S = 0.3  # from pressing `i` to the prompt's Enter: faster than any person types


def chat_app(url: str, models: list[str], timeout_s: float = 60.0) -> Any:
    from console.core.config import Config
    from console.tui.app import TritonConsoleApp

    cfg = Config()
    cfg.triton.url = url
    cfg.triton.models = list(models)
    cfg.triton.timeout_s = timeout_s
    return TritonConsoleApp(cfg, start_place="chat")


async def wait_models(pilot: Any) -> None:
    """Until the models are listed, the screen's one-time Markdown warm-up is done and the panes'
    frozen-Markdown helpers are ready (a user who types the first prompt at once pays for the
    rest of it: rendering in process until then; the scripts measure steady state)."""
    screen = pilot.app.screen

    def ready() -> bool:
        return "models ready" in str(screen.query_one("#chat-status").render()) and screen.warmed_up.is_finished \
            and all(renderer.running for renderer in getattr(screen, "renderers", {}).values())

    while not ready():
        await pilot.pause(0.1)


async def ask_both(pilot: Any, prompt: str) -> None:
    """Focus the prompt box (``i``) if it is not, type the prompt, press Enter, return once both
    panes have finished.

    After focusing, the driver waits FOCUS_SETTLE_S, as a person typing does: a focus change makes
    the footer compose its keys again (twice, 13 and 22 ms later on this VM), and a driver that
    pressed Enter within a millisecond of it measured that redraw in the answers' opening, a
    moment no operator can produce (docs/benchmarks.md, "P2: the answers' opening"). Later prompts
    find the box focused (sending keeps the focus there) and go at once.

    The wait polls with ``asyncio.sleep``, not ``pilot.pause``: a pause posts a callback to every
    widget on the screen and waits for all of them (about 60 here), which at 100 polls a second
    cost the screen's loop a quarter of its time during P2, a load no terminal session has.
    """
    import asyncio

    from textual.widgets import Input

    screen = pilot.app.screen
    box = screen.query_one("#chat-prompt", Input)
    if screen.focused is not box:
        await pilot.press("i")  # the operator's key to the prompt box, as a person would
        await pilot.pause(FOCUS_SETTLE_S)
    box.value = prompt
    await pilot.press("enter")
    while not (screen.session.exchanges and len(screen.session.exchanges[-1].answers) == 2 and not screen.streaming):
        await asyncio.sleep(0.01)


@contextlib.contextmanager
def after_tail_appends(seen: Callable[[Any], None]) -> Iterator[None]:
    """Call ``seen(answer)`` each time a chat answer has taken new text (``AnswerEntry.set_tail``
    or ``freeze``, which every drain and an answer's first text end with): from then on the text
    is in the document, and the view renders it before the next frame draws it."""
    from console.tui.widgets.conversation_view import AnswerEntry

    set_tail, freeze = AnswerEntry.set_tail, AnswerEntry.freeze

    def seen_set_tail(self, text):  # noqa: ANN001, ANN202 - set_tail's own arguments
        set_tail(self, text)
        seen(self)

    async def seen_freeze(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202 - freeze's own
        await freeze(self, *args, **kwargs)
        seen(self)

    AnswerEntry.set_tail, AnswerEntry.freeze = seen_set_tail, seen_freeze
    try:
        yield
    finally:
        AnswerEntry.set_tail, AnswerEntry.freeze = set_tail, freeze


@contextlib.contextmanager
def painted_frames() -> Iterator[list[float]]:
    """The times (``time.monotonic``) at which the app hands a frame to the terminal
    (``App._display`` when no ``batch_update`` suppresses it; headless: composed, not written),
    appended to the list this yields."""
    import time

    from textual.app import App

    paints: list[float] = []
    original = App._display

    def display(self, screen, renderable):  # noqa: ANN001, ANN202 - App._display's own arguments
        if renderable is not None and not self._batch_count:  # what App._display does not skip
            paints.append(time.monotonic())
        return original(self, screen, renderable)

    App._display = display
    try:
        yield paints
    finally:
        App._display = original


@contextlib.asynccontextmanager
async def running_chat(url: str, models: list[str], size: tuple[int, int], seen: Callable[[Any], None]) -> AsyncIterator[Any]:
    """The chat screen headless over ``models``, ready to ask (``wait_models``), with ``seen``
    told of every append to an answer's live tail (``after_tail_appends``); yields the pilot."""
    with after_tail_appends(seen):
        app = chat_app(url, models)
        async with app.run_test(size=size) as pilot:
            await wait_models(pilot)
            yield pilot
