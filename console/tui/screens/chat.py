"""The Chat place: one prompt, two models, two live streams side by side.

Enter sends the prompt to both panes; each pane streams in its own worker over its own client,
so one pane failing (server down, model not ready, stream broken) never stops the other. Esc
cancels both streams (the gRPC call is cancelled, so the server aborts the generation). Every
finished exchange is saved as a transcript (JSON + Markdown) under the data dir.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Select, Static
from textual.worker import Worker

from console.core import transcripts
from console.core.chat import MARKS, PANES, ChatSession
from console.core.completion import Completion, Sampling, complete
from console.core.latency import RequestTiming
from console.core.server_info import TritonAdmin
from console.core.stream_process import ProcessStreamClient, StreamProcess
from console.core.streaming import Delta
from console.tui import quiet_gc
from console.tui.frozen_render import FrozenRenderer
from console.tui.screens.chat_dialogs import OpenTranscriptScreen, SamplingScreen
from console.tui.widgets.chat_pane import ChatPane
from console.tui.widgets.prompt_box import PromptBox
from console.tui.widgets.streaming_answer import warm_up

STATS_REFRESH_S = 0.1
# Between Enter and the first text, the screen repaints nothing for at most this long: the
# layout and render of the shown prompt would otherwise run while the first response arrives.
QUIET_UNTIL_FIRST_TEXT_S = 0.05
# Failures after which a pane starts a fresh channel for its next request.
RECONNECT_KINDS = ("unavailable", "broken", "timeout")


def default_models(available: list[str], configured: list[str]) -> tuple[str, str]:
    """Configured models the server has, else the server's first two, else the configured ones."""
    picks = [m for m in configured if m in available] or list(available) or list(configured)
    picks = [*picks, *[m for m in available if m not in picks]]
    if not picks:
        return "", ""
    return picks[0], picks[1] if len(picks) > 1 else picks[0]


class ChatScreen(Screen):
    """Side-by-side chat. Keys follow k9s: letters act on the focused pane, ctrl+letter is global."""

    CSS_PATH = ["chat.tcss", "../widgets/chat_pane.tcss"]
    BINDINGS = [
        Binding("escape", "stop", "Stop / focus"),
        Binding("ctrl+r", "regenerate('both')", "Regen both"),
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+o", "open", "Open"),
        Binding("ctrl+n", "new", "New"),
        Binding("r", "regenerate('focused')", "Regen pane"),
        Binding("a", "mark('A')", "A better"),
        Binding("b", "mark('B')", "B better"),
        Binding("t", "mark('tie')", "Tie"),
        Binding("x", "mark('both-bad')", "Both bad"),
        Binding("c", "copy", "Copy"),
        Binding("s", "sampling", "Sampling"),
        Binding("o", "override", "Pane sampling"),
        Binding("i", "focus_prompt", "Prompt"),
        Binding("enter", "focus_prompt", "Prompt", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.session: ChatSession | None = None
        self.clients: dict[str, ProcessStreamClient] = {}
        # Each pane's stream is read by a helper process of its own, so drawing never slows the
        # read (console/core/stream_process.py); started with the screen, stopped with it.
        self.readers = {pane_id: StreamProcess() for pane_id in PANES}
        # And rich renders each pane's finished blocks in a helper process of its own, off the
        # screen's loop (console/tui/frozen_render.py).
        self.renderers = {pane_id: FrozenRenderer() for pane_id in PANES}
        self.pane_workers: dict[str, Worker] = {}
        self.server_note = "connecting…"
        self.saved_note = ""
        self.first_text = asyncio.Event()  # set when an answer shows its first text
        self.status_text = ""  # what the status line shows

    # ----- layout and lifecycle -------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="chat-panes"):
            for pane_id in PANES:
                yield ChatPane(pane_id)
        yield Static("", id="chat-status")
        yield PromptBox(placeholder="Ask both models…  (Enter sends, Esc stops)", id="chat-prompt")
        yield Footer()

    def on_mount(self) -> None:
        cfg = self.app.config
        configured = list(cfg.triton.models)
        a, b = default_models([], configured)
        self.session = ChatSession.new(cfg.triton.url, a, b)
        for pane_id, model in zip(PANES, (a, b)):
            self.pane(pane_id).set_models(configured, model)
        self.update_status()
        # Focus starts on a pane, not the prompt box: the app's digit keys keep switching places
        # (k9s style); `i` or Enter goes to the prompt.
        self.pane("A").log_view.focus()
        self.set_interval(STATS_REFRESH_S, self.refresh_live_stats)
        for reader in self.readers.values():
            self.run_worker(reader.start(), group="readers", exit_on_error=False)
        for pane_id, renderer in self.renderers.items():
            self.pane(pane_id).renderer = renderer
            self.run_worker(renderer.start(), group="renderers", exit_on_error=False)
        self.warmed_up = self.run_worker(self._warm_up(), group="warm-up", exit_on_error=False)
        self.load_models()

    async def _warm_up(self) -> None:
        await warm_up(self.pane("A").log_view)
        quiet_gc.settle(self.app)  # the styles and highlighters it loaded stay for good

    async def on_unmount(self) -> None:
        for worker in list(self.pane_workers.values()):
            worker.cancel()
        for reader in self.readers.values():
            await reader.stop()
        for renderer in self.renderers.values():
            await renderer.stop()

    def pane(self, pane_id: str) -> ChatPane:
        return self.query_one(f"#pane-{pane_id}", ChatPane)

    def client(self, pane_id: str) -> ProcessStreamClient:
        cfg = self.app.config
        client = self.clients.get(pane_id)
        if client is not None and client.url != cfg.triton.url:  # forwards came up or went away
            self.run_worker(client.close(), exit_on_error=False)
            client = None
        if client is None:
            client = self.clients[pane_id] = ProcessStreamClient(
                cfg.triton.url, self.readers[pane_id], timeout_s=cfg.triton.timeout_s
            )
        return client

    async def reset_client(self, pane_id: str) -> None:
        client = self.clients.pop(pane_id, None)
        if client is not None:
            await client.close()

    @property
    def streaming(self) -> bool:
        return any(w.is_running for w in self.pane_workers.values())

    # ----- models -----------------------------------------------------------------------------
    def load_models(self) -> None:
        self.run_worker(self._load_models(), group="models", exclusive=True, exit_on_error=False)

    async def _load_models(self) -> None:
        cfg = self.app.config
        admin = TritonAdmin(cfg.triton.url, timeout_s=min(cfg.triton.timeout_s, 5.0))
        try:
            status = await admin.status()
        finally:
            await admin.close()
        if status.error:
            self.server_note = f"[red]✗ {status.error}[/]"
            self.update_status()
            return
        ready = status.ready_models
        names = [*ready, *[m.name for m in status.models if m.name not in ready]]
        a, b = default_models(names, list(cfg.triton.models))
        assert self.session is not None
        if not self.session.exchanges:  # never switch models under an ongoing conversation
            self.session.panes["A"].model, self.session.panes["B"].model = a, b
        for pane_id in PANES:
            self.pane(pane_id).set_models(names, self.session.panes[pane_id].model)
        self.server_note = f"[green]●[/] {len(ready)}/{len(status.models)} models ready"
        self.update_status()

    def on_select_changed(self, event: Select.Changed) -> None:
        if self.session is None or not isinstance(event.value, str):
            return
        pane_id = (event.select.id or "-").split("-")[-1]
        if pane_id in self.session.panes:
            self.session.panes[pane_id].model = event.value
            self.update_status()

    # ----- sending and streaming ----------------------------------------------------------------
    async def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "chat-prompt":
            return
        event.stop()
        prompt = event.value.strip()
        if not prompt:
            return
        if self.streaming:
            self.notify("Still streaming: Esc stops both panes first.", severity="warning")
            return
        assert self.session is not None
        missing = [p for p in PANES if not self.session.panes[p].model]
        if missing:
            self.notify(f"Pick a model for pane {', '.join(missing)} first.", severity="warning")
            return
        event.input.value = ""
        index = self.session.ask(prompt)
        self.quiet_until_first_text()
        for pane_id in PANES:
            self.start_answer(pane_id, index, regenerate=False)

    def quiet_until_first_text(self) -> None:
        """Hold repaints until a pane shows its first text, or QUIET_UNTIL_FIRST_TEXT_S: the
        prompt then appears with the first token, and neither the pane's clock (its TTFT) nor
        the first text waits behind a frame being drawn (P1, docs/benchmarks.md)."""
        self.first_text = asyncio.Event()

        async def hold(first_text: asyncio.Event) -> None:
            with self.app.batch_update(), contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(first_text.wait(), QUIET_UNTIL_FIRST_TEXT_S)

        self.run_worker(hold(self.first_text), group="quiet", exit_on_error=False)

    def start_answer(self, pane_id: str, index: int, regenerate: bool) -> None:
        self.pane_workers[pane_id] = self.run_worker(
            self._answer(pane_id, index, regenerate), group=f"pane-{pane_id}", exclusive=True, exit_on_error=False
        )

    async def _answer(self, pane_id: str, index: int, regenerate: bool) -> None:
        with quiet_gc.busy(self.app):  # no full garbage collection while an answer streams
            await self._stream_answer(pane_id, index, regenerate)

    async def _stream_answer(self, pane_id: str, index: int, regenerate: bool) -> None:
        assert self.session is not None
        pane = self.pane(pane_id)
        stats = pane.start_streaming()
        model = self.session.panes[pane_id].model
        pieces: list[str] = []
        # The answer's entry first, then the request: the client's clock (the TTFT the pane
        # shows) starts after it, so the UI's own work never inflates the model's numbers; an
        # entry mounts nothing, so this costs next to nothing (bench/p1_ttft_overhead.py).
        prompt = None if regenerate else self.session.exchanges[index].prompt
        stream = pane.open_answer(prompt, replace=regenerate)

        async def on_event(event: object) -> None:
            if isinstance(event, Delta):
                stats.on_delta(event.text, event.tokens, event.t)
                pieces.append(event.text)
                await stream.write(event.text)
                self.first_text.set()

        stopped = False
        try:
            completion = await complete(
                self.client(pane_id), model, self.session.messages(pane_id, index),
                self.session.sampling_for(pane_id).parameters(), on_event=on_event,
            )
        except asyncio.CancelledError:
            stopped = True
            timing = RequestTiming(stats.t_start, stats.t_first, time.monotonic(), stats.tokens)
            completion = Completion(model, "".join(pieces), "cancelled", None, timing)
        finally:
            await stream.stop()
        self.session.record(index, pane_id, completion, stopped=stopped)
        stats.finish(completion, stopped=stopped)
        pane.finish(stats)
        if stopped:
            pane.add_note("■ stopped")
        elif not completion.ok:
            pane.add_note(f"✗ {completion.error_kind}: {completion.error}", error=True)
            if completion.error_kind in RECONNECT_KINDS:
                await self.reset_client(pane_id)
        self.after_answer()

    def after_answer(self) -> None:
        """Once neither pane streams, save and update the status line (which lays out the
        screen: not while the other pane's answer still streams)."""
        if not any(self.pane(p).streaming for p in PANES):
            self.autosave()
            self.update_status()

    def refresh_live_stats(self) -> None:
        for pane_id in PANES:
            pane = self.pane(pane_id)
            if pane.streaming:
                pane.refresh_stats()

    # ----- actions ------------------------------------------------------------------------------
    def focused_pane(self, then: str) -> ChatPane | None:
        """The pane holding the focus; without one, tells the user to focus one ``then``."""
        node = self.focused
        while node is not None:
            if isinstance(node, ChatPane):
                return node
            node = node.parent
        self.notify(f"Focus a pane first (Tab){then}.", severity="warning")
        return None

    def action_stop(self) -> None:
        if self.streaming:
            for worker in self.pane_workers.values():
                worker.cancel()
            self.notify("Stopped both streams.")
            return
        prompt = self.query_one("#chat-prompt", Input)
        if self.focused is prompt:
            self.pane("A").log_view.focus()
        else:
            prompt.focus()

    def action_focus_prompt(self) -> None:
        self.query_one("#chat-prompt", Input).focus()

    def action_regenerate(self, which: str) -> None:
        assert self.session is not None
        if not self.session.exchanges:
            self.notify("Nothing to regenerate yet.", severity="warning")
            return
        if which == "focused":
            pane = self.focused_pane(", or ctrl+r for both")
            if pane is None:
                return
            targets = [pane.pane_id]
        else:
            targets = list(PANES)
        busy = [p for p in targets if self.pane(p).streaming]
        if busy:
            self.notify(f"Pane {', '.join(busy)} is still streaming.", severity="warning")
            return
        index = len(self.session.exchanges) - 1
        self.quiet_until_first_text()
        for pane_id in targets:
            self.start_answer(pane_id, index, regenerate=pane_id in self.session.exchanges[index].answers)

    def action_mark(self, mark: str) -> None:
        assert self.session is not None
        if self.streaming:
            self.notify("Wait for both answers before marking.", severity="warning")
            return
        try:
            self.session.set_mark(mark)
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify(f"Marked: {MARKS[mark]}")
        self.autosave()
        self.update_status()

    def action_copy(self) -> None:
        assert self.session is not None
        pane = self.focused_pane(" to copy its answer")
        if pane is None:
            return
        answer = self.session.last_answer(pane.pane_id)
        if answer is None or not answer.completion.text:
            self.notify("Nothing to copy in this pane.", severity="warning")
            return
        self.app.copy_to_clipboard(answer.completion.text)
        self.notify(f"Copied pane {pane.pane_id}'s answer ({len(answer.completion.text)} characters).")

    def action_sampling(self) -> None:
        assert self.session is not None

        def done(sampling: Sampling | None) -> None:
            if sampling is not None and self.session is not None:
                self.session.shared = sampling
                self.update_status()

        self.app.push_screen(SamplingScreen("Sampling for both panes", self.session.shared, override=False), done)

    def action_override(self) -> None:
        assert self.session is not None
        pane = self.focused_pane(" to set its own sampling")
        if pane is None:
            return
        pane_id = pane.pane_id
        current = self.session.panes[pane_id].override or Sampling()

        def done(sampling: Sampling | None) -> None:
            if sampling is not None and self.session is not None:
                self.session.panes[pane_id].override = None if sampling == Sampling() else sampling
                self.update_status()

        self.app.push_screen(SamplingScreen(f"Sampling override for pane {pane_id}", current, override=True), done)

    def autosave(self, announce: bool = False) -> None:
        """Save the transcript (JSON + Markdown); ``announce`` says where (ctrl+s)."""
        if self.session is None or not self.session.exchanges:
            if announce:
                self.notify("Nothing to save yet.", severity="warning")
            return
        try:
            json_path, md_path = transcripts.save(self.session)
        except OSError as exc:
            self.notify(f"Could not save the transcript: {exc}", severity="error")
            return
        self.saved_note = f"saved {json_path.stem}"
        if announce:
            self.notify(f"Saved {md_path} and {json_path.name}")
            self.update_status()

    def action_save(self) -> None:
        self.autosave(announce=True)

    def action_open(self) -> None:
        if self.streaming:
            self.notify("Stop the streams (Esc) before opening another conversation.", severity="warning")
            return

        def done(info: transcripts.TranscriptInfo | None) -> None:
            if info is not None:
                self.run_worker(self.reopen(info.path), group="reopen", exclusive=True, exit_on_error=False)

        self.app.push_screen(OpenTranscriptScreen(transcripts.list_transcripts()), done)

    async def reopen(self, path, announce: bool = True) -> None:  # noqa: ANN001 - a Path
        try:
            session = transcripts.load(path)
        except transcripts.TranscriptError as exc:
            self.notify(str(exc), severity="error")
            return
        session.url = self.app.config.triton.url
        await self.show_session(session)
        if announce:
            self.notify(f"Reopened {session.id}: {len(session.exchanges)} exchanges; new prompts continue it.")

    async def show_session(self, session: ChatSession) -> None:
        self.session = session
        for pane_id in PANES:
            pane = self.pane(pane_id)
            pane.clear()
            pane.set_models(pane.model_names, session.panes[pane_id].model)
            for exchange in session.exchanges:
                pane.add_prompt(exchange.prompt)
                answer = exchange.answers.get(pane_id)
                if answer is not None:
                    pane.add_answer(answer)
        self.saved_note = ""
        self.update_status()

    async def action_new(self) -> None:
        if self.streaming:
            self.notify("Stop the streams (Esc) first.", severity="warning")
            return
        assert self.session is not None
        a, b = self.session.panes["A"].model, self.session.panes["B"].model
        session = ChatSession.new(self.app.config.triton.url, a, b, shared=self.session.shared)
        await self.show_session(session)

    # ----- status line --------------------------------------------------------------------------
    def update_status(self) -> None:
        if self.session is None:
            return
        parts = [self.server_note, f"shared: {self.session.shared.describe()}"]
        for pane_id in PANES:
            override = self.session.panes[pane_id].override
            if override is not None:
                parts.append(f"{pane_id}: {override.describe()}")
        if self.session.exchanges:
            mark = self.session.exchanges[-1].mark
            parts.append(f"mark: {MARKS[mark] if mark else '—'}")
        if self.saved_note:
            parts.append(self.saved_note)
        text = "  ·  ".join(parts)
        if text != self.status_text:  # an update lays out the screen (the line may wrap)
            self.status_text = text
            self.query_one("#chat-status", Static).update(text)


SCREEN = ChatScreen
