"""Snapshots of the Chat place. Deterministic: no live server (its URL refuses connections)
and a reopened transcript with fixed text, timings and marks."""

from __future__ import annotations

from bench.pacer import expected_text
from console.core import transcripts
from console.core.chat import ChatSession
from console.core.completion import Completion, Sampling
from console.core.config import Config
from console.core.latency import RequestTiming
from console.tui.app import TritonConsoleApp
from tests.test_app_shell import wait_for

SIZE = (140, 36)


def offline_app() -> TritonConsoleApp:
    cfg = Config()
    cfg.triton.url = "localhost:1"  # nothing listens: the screen says so, deterministically
    cfg.triton.models = ["pacer-a", "pacer-b"]
    return TritonConsoleApp(cfg, start_place="chat")


def fixed_session() -> ChatSession:
    session = ChatSession.new("localhost:1", "pacer-a", "pacer-b", shared=Sampling(temperature=0.2, max_tokens=24))
    session.id, session.created = "20261124-120000-abcdef", "2026-11-24T12:00:00+00:00"
    first = session.ask("Describe the pacer.")
    session.record(first, "A", Completion("pacer-a", expected_text(24), "length", 3, RequestTiming(0.0, 0.021, 0.0785, 24)))
    session.record(first, "B", Completion("pacer-b", expected_text(16), "length", 3, RequestTiming(0.0, 0.041, 0.1165, 16)))
    session.set_mark("A", first)
    second = session.ask("And now?")
    session.record(second, "A", Completion("pacer-a", expected_text(6), "cancelled", None, RequestTiming(0.0, 0.020, 0.034, 6)), stopped=True)
    failed = Completion("pacer-b", "", "error", None, RequestTiming(0.0, None, 0.002, 0), error="server unreachable: connection refused", error_kind="unavailable")
    session.record(second, "B", failed)
    for exchange in session.exchanges:
        exchange.at = "2026-11-24T12:00:00+00:00"
    return session


async def _settled(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: "unreachable" in str(app.screen.query_one("#chat-status").render()))
    await pilot.pause()


def test_chat_screen_offline(snap_compare):
    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=_settled)


def test_chat_screen_reopened_transcript(snap_compare, tmp_path):
    json_path, _ = transcripts.save(fixed_session(), tmp_path)

    async def reopen(pilot) -> None:
        await _settled(pilot)
        await pilot.app.screen.reopen(json_path, announce=False)
        await pilot.pause()

    assert snap_compare(offline_app(), terminal_size=SIZE, run_before=reopen)
