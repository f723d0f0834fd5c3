"""The Chat place against a real tritonserver serving two pacer entries (fixed text and rate)."""

from __future__ import annotations

import json

from textual.widgets import Input

from bench.pacer import expected_text, make_repository
from console.core import transcripts
from console.core.config import Config
from console.core.tritonserver import Ports, TritonServer, free_ports
from console.tui.app import TritonConsoleApp
from tests.conftest import PACER_MODELS
from tests.pilot_helpers import screen_layouts
from tests.test_app_shell import wait_for

TIMEOUT = 60.0


def chat_app(url: str, models=("pacer-a", "pacer-b")) -> TritonConsoleApp:
    cfg = Config()
    cfg.triton.url = url
    cfg.triton.models = list(models)
    cfg.triton.timeout_s = 30.0
    return TritonConsoleApp(cfg, start_place="chat")


async def models_loaded(pilot, app) -> bool:
    return await wait_for(pilot, lambda: "models ready" in str(app.screen.query_one("#chat-status").render()), TIMEOUT)


async def send(pilot, app, prompt: str) -> None:
    box = app.screen.query_one("#chat-prompt", Input)
    box.focus()
    box.value = prompt
    await pilot.press("enter")


async def answered(pilot, app, exchanges: int) -> bool:
    screen = app.screen

    def done() -> bool:
        s = screen.session
        return (
            len(s.exchanges) == exchanges
            and all(p in s.exchanges[-1].answers for p in ("A", "B"))
            and not screen.streaming
        )

    return await wait_for(pilot, done, TIMEOUT)


def pane_markdown(app, pane_id: str) -> str:
    return app.screen.pane(pane_id).shown_answer()


async def test_prompt_goes_to_both_panes_and_streams_fixed_text(pacer_server):
    app = chat_app(pacer_server.grpc_url)
    async with app.run_test(size=(140, 40)) as pilot:
        assert await models_loaded(pilot, app)
        screen = app.screen
        assert screen.session.panes["A"].model == "pacer-a"
        assert screen.session.panes["B"].model == "pacer-b"
        renderers = list(screen.renderers.values())
        assert await wait_for(pilot, lambda: all(r.running for r in renderers), TIMEOUT)
        helpers = [r._process for r in renderers]
        await send(pilot, app, "hello both")
        assert await answered(pilot, app, 1)
        # each pane freezes finished blocks through its own helper process (those frozen before
        # the answer's first layout, when the width is not known yet, render in process later;
        # tests/test_frozen_render.py: what the helper renders)
        for pane_id in ("A", "B"):
            assert screen.pane(pane_id).renderer is screen.renderers[pane_id]
            assert screen.renderers[pane_id].served <= len(screen.pane(pane_id).answer_widget.markdown.chunks)
        for pane_id, model in (("A", "pacer-a"), ("B", "pacer-b")):
            tokens = PACER_MODELS[model]["max_tokens"]
            answer = screen.session.exchanges[0].answers[pane_id]
            assert answer.completion.ok, answer.completion.error
            assert answer.completion.text == expected_text(tokens)
            assert answer.completion.finish_reason == "length"
            assert answer.completion.timing.output_tokens == tokens
            assert await wait_for(pilot, lambda p=pane_id, t=tokens: pane_markdown(app, p) == expected_text(t))
            stats = str(screen.query_one(f"#stats-{pane_id}").render())
            assert f"{tokens} tokens" in stats and "length" in stats and "TTFT" in stats
        # multi-turn: each pane sends its own history as chat messages
        await send(pilot, app, "and again")
        assert await answered(pilot, app, 2)
        messages = screen.session.messages("B", 1)
        assert [m["role"] for m in messages] == ["user", "assistant", "user"]
        assert messages[1]["content"] == expected_text(PACER_MODELS["pacer-b"]["max_tokens"])
        # every finished exchange is saved
        saved = transcripts.list_transcripts()
        assert len(saved) == 1 and saved[0].exchanges == 2 and saved[0].models == "pacer-a | pacer-b"
    assert all(helper.returncode is not None for helper in helpers)  # gone with the screen


async def test_repaints_wait_for_the_first_text_and_no_longer(pacer_server, monkeypatch):
    """Between Enter and an answer's first text the screen repaints nothing (P1: the prompt's
    layout and render would delay the first response); the first text ends the hold, and
    without one it ends after QUIET_UNTIL_FIRST_TEXT_S."""
    from console.tui.screens import chat

    app = chat_app(pacer_server.grpc_url)
    async with app.run_test(size=(140, 40)) as pilot:
        assert await models_loaded(pilot, app)
        screen = app.screen
        monkeypatch.setattr(chat, "QUIET_UNTIL_FIRST_TEXT_S", 600.0)  # only a first text can end it
        await send(pilot, app, "hello both")
        assert await answered(pilot, app, 1)
        assert screen.first_text.is_set()
        assert await wait_for(pilot, lambda: app._batch_count == 0, TIMEOUT)
        monkeypatch.setattr(chat, "QUIET_UNTIL_FIRST_TEXT_S", 0.05)
        screen.quiet_until_first_text()  # no request follows: no text will come
        await pilot.pause()
        assert await wait_for(pilot, lambda: app._batch_count == 0, TIMEOUT)
        assert not screen.first_text.is_set()


async def test_escape_cancels_both_streams_on_the_server(pacer_server):
    app = chat_app(pacer_server.grpc_url)
    async with app.run_test(size=(140, 40)) as pilot:
        assert await models_loaded(pilot, app)
        screen = app.screen
        from console.core.completion import Sampling

        screen.session.shared = Sampling(max_tokens=200_000)  # minutes of output at 200-400 tok/s
        before = pacer_server.log_text().count("pacer: request cancelled")
        await send(pilot, app, "a very long answer please")
        assert await wait_for(pilot, lambda: all(len(pane_markdown(app, p)) > 20 for p in "AB"), TIMEOUT)
        await pilot.press("escape")
        assert await answered(pilot, app, 1)
        for pane_id in "AB":
            answer = screen.session.exchanges[0].answers[pane_id]
            assert answer.stopped and answer.completion.finish_reason == "cancelled"
            assert 0 < answer.completion.timing.output_tokens < 200_000
            assert "stopped" in str(screen.query_one(f"#stats-{pane_id}").render())
        # the server saw both requests cancelled and stopped generating
        assert await wait_for(pilot, lambda: pacer_server.log_text().count("pacer: request cancelled") >= before + 2, TIMEOUT)
        # and the next prompt works normally
        screen.session.shared = Sampling()
        await send(pilot, app, "short one")
        assert await answered(pilot, app, 2)
        assert all(screen.session.exchanges[1].answers[p].completion.ok for p in "AB")


async def test_nothing_lays_out_the_screen_while_an_answer_streams(pacer_server):
    """From Enter to the last token the screen is not laid out (P2, docs/benchmarks.md): the
    prompt box empties, both answers grow past their pane's bottom, pane A finishes while B
    still streams; the status line is updated (a layout) only once neither pane streams."""
    from console.core.completion import Sampling

    app = chat_app(pacer_server.grpc_url)
    async with app.run_test(size=(140, 40)) as pilot:
        assert await models_loaded(pilot, app)
        screen = app.screen
        screen.session.shared = Sampling(max_tokens=500)  # A: 1.3 s at 400 tok/s, B: 2.5 s at 200
        box = screen.query_one("#chat-prompt", Input)
        box.focus()
        await pilot.pause(0.3)  # a focus change composes the footer again: before Enter, as a person types
        box.value = "a long one"
        with screen_layouts(probe=lambda: [p for p in ("A", "B") if screen.pane(p).streaming]) as layouts:
            await pilot.press("enter")
            assert await answered(pilot, app, 1)
            await pilot.pause()
        assert [streaming for streaming in layouts if streaming] == []
        assert layouts, "the status line was not updated after the answers"
        answers = screen.session.exchanges[0].answers
        assert answers["B"].completion.timing.t_end - answers["A"].completion.timing.t_end > 0.5  # B streamed on alone
        for pane_id in ("A", "B"):
            assert answers[pane_id].completion.timing.output_tokens == 500
            view = screen.pane(pane_id).log_view
            assert view.max_scroll_y > 0 and view.scroll_y == view.max_scroll_y  # overflowed, followed


async def test_one_pane_failing_leaves_the_other_streaming(pacer_server):
    app = chat_app(pacer_server.grpc_url, models=("pacer-a", "no-such-model"))
    async with app.run_test(size=(140, 40)) as pilot:
        assert await models_loaded(pilot, app)
        screen = app.screen
        # the operator picks a model the server does not serve (as after a typo in the config)
        screen.pane("B").set_models(["pacer-a", "pacer-b", "no-such-model"], "no-such-model")
        assert await wait_for(pilot, lambda: screen.session.panes["B"].model == "no-such-model")
        await send(pilot, app, "who answers?")
        assert await answered(pilot, app, 1)
        a, b = (screen.session.exchanges[0].answers[p].completion for p in "AB")
        assert a.ok and a.text == expected_text(PACER_MODELS["pacer-a"]["max_tokens"])
        assert not b.ok and b.error_kind == "not_ready" and "no-such-model" in b.error
        log_b = screen.query_one("#log-B")
        assert any("not_ready" in text for text in log_b.texts("error"))
        # pick a served model in pane B: the next prompt works in both panes
        screen.pane("B").model_select.value = "pacer-b"
        await pilot.pause()
        await send(pilot, app, "now both?")
        assert await answered(pilot, app, 2)
        for pane_id in "AB":
            answer = screen.session.exchanges[1].answers[pane_id].completion
            assert answer.ok, (pane_id, answer.model, answer.error)


async def test_server_down_then_back(triton_server_factory, tmp_path):
    """Server stops: both panes say so; it comes back on the same ports: the next prompt works."""
    repo = make_repository(tmp_path / "repo", PACER_MODELS)
    ports = Ports(*free_ports(3))
    server = TritonServer(repo, ports, log_file=tmp_path / "triton.log", extra_args=["--exit-timeout-secs=5"])
    server.start()
    try:
        server.wait_ready(300)
        app = chat_app(server.grpc_url)
        async with app.run_test(size=(140, 40)) as pilot:
            assert await models_loaded(pilot, app)
            await send(pilot, app, "first")
            assert await answered(pilot, app, 1)
            server.stop()
            await send(pilot, app, "while down")
            assert await answered(pilot, app, 2)
            for pane_id in "AB":
                failed = app.screen.session.exchanges[1].answers[pane_id].completion
                assert not failed.ok and failed.error_kind in ("unavailable", "broken"), failed.error
            server = TritonServer(repo, ports, log_file=tmp_path / "triton2.log", extra_args=["--exit-timeout-secs=5"])
            server.start()
            server.wait_ready(300)
            await send(pilot, app, "back again")
            assert await answered(pilot, app, 3)
            for pane_id in "AB":
                answer = app.screen.session.exchanges[2].answers[pane_id].completion
                assert answer.ok, answer.error
    finally:
        server.stop()


async def test_mark_export_and_reopen(pacer_server):
    app = chat_app(pacer_server.grpc_url)
    async with app.run_test(size=(140, 40)) as pilot:
        assert await models_loaded(pilot, app)
        screen = app.screen
        await send(pilot, app, "compare yourselves")
        assert await answered(pilot, app, 1)
        screen.pane("A").log_view.focus()
        await pilot.press("a")  # A is better
        await pilot.press("ctrl+s")
        session_id = screen.session.id
        json_path = transcripts.transcripts_dir() / f"{session_id}.json"
        md_path = json_path.with_suffix(".md")
        data = json.loads(json_path.read_text())
        assert data["models"] == {"A": "pacer-a", "B": "pacer-b"}
        assert data["exchanges"][0]["mark"] == "A"
        answer_b = data["exchanges"][0]["answers"]["B"]
        assert answer_b["output_tokens"] == PACER_MODELS["pacer-b"]["max_tokens"]
        assert answer_b["timings"]["ttft_s"] > 0 and answer_b["timings"]["e2e_s"] >= answer_b["timings"]["ttft_s"]
        markdown = md_path.read_text()
        assert "**Mark:** A is better" in markdown and "### B: pacer-b" in markdown
        # a new conversation, then reopen the saved one
        await pilot.press("ctrl+n")
        assert await wait_for(pilot, lambda: not screen.session.exchanges)
        await pilot.press("ctrl+o")
        assert await wait_for(pilot, lambda: type(app.screen).__name__ == "OpenTranscriptScreen")
        await pilot.press("enter")
        assert await wait_for(pilot, lambda: len(screen.session.exchanges) == 1 and screen.session.id == session_id)
        assert screen.session.exchanges[0].mark == "A"
        assert pane_markdown(app, "B") == expected_text(PACER_MODELS["pacer-b"]["max_tokens"])
        # a reopened conversation continues with its history
        await send(pilot, app, "continue")
        assert await answered(pilot, app, 2)
        assert len(screen.session.messages("A", 1)) == 3


async def test_pane_follows_output_only_while_the_reader_is_at_the_bottom(pacer_server):
    app = chat_app(pacer_server.grpc_url)
    async with app.run_test(size=(140, 30)) as pilot:
        assert await models_loaded(pilot, app)
        screen = app.screen
        from console.core.completion import Sampling

        screen.session.shared = Sampling(max_tokens=200_000)
        await send(pilot, app, "stream a lot")
        log = screen.query_one("#log-A")
        assert await wait_for(pilot, lambda: log.max_scroll_y > 10, TIMEOUT)
        assert await wait_for(pilot, lambda: log.scroll_y >= log.max_scroll_y - 1)  # following
        log.focus()
        await pilot.press("pageup", "pageup")
        height = log.max_scroll_y
        assert await wait_for(pilot, lambda: log.max_scroll_y > height + 5, TIMEOUT)
        assert log.scroll_y < log.max_scroll_y - 5  # the reader scrolled up: the pane stays put
        await pilot.press("end")
        height = log.max_scroll_y
        assert await wait_for(pilot, lambda: log.max_scroll_y > height + 5, TIMEOUT)
        assert await wait_for(pilot, lambda: log.scroll_y >= log.max_scroll_y - 1)  # following again
        await pilot.press("escape")
        assert await answered(pilot, app, 1)
