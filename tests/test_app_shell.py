"""The app shell opens, reaches every place, and lists the models a real tritonserver serves."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from console.core.config import Config
from console.tui.app import TritonConsoleApp
from console.tui.places import PLACES
from tests.pilot_helpers import wait_for


async def test_shell_lists_ready_models_from_real_server(echo_server):
    cfg = Config()
    cfg.triton.url = echo_server.grpc_url
    app = TritonConsoleApp(cfg)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.screen.query_one(DataTable)
        assert await wait_for(pilot, lambda: table.row_count == 1)
        assert "READY" in str(table.get_cell("echo", "state"))
        line = str(app.screen.query_one("#server-line", Static).render())
        assert "1/1 models ready" in line


async def test_shell_says_when_server_is_down():
    cfg = Config()
    cfg.triton.url = "localhost:1"  # nothing listens there
    app = TritonConsoleApp(cfg)
    async with app.run_test(size=(120, 30)) as pilot:
        line = app.screen.query_one("#server-line", Static)
        assert await wait_for(pilot, lambda: "unreachable" in str(line.render()))


async def test_every_place_is_reachable_by_key_and_command():
    app = TritonConsoleApp(Config())
    async with app.run_test(size=(120, 30)) as pilot:
        for place in PLACES:
            await pilot.press(place.key)
            assert app.current_mode == place.id
        await pilot.press("1", "colon")
        await pilot.press(*"cluster", "enter")
        assert app.current_mode == "cluster"
        await pilot.press("question_mark")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")
        assert type(app.screen).__name__ != "HelpScreen"


async def test_models_place_follows_the_configured_url_when_it_moves(echo_server):
    """A port-forward coming up changes config.triton.url; the next poll uses the new server."""
    cfg = Config()
    cfg.triton.url = "localhost:1"
    app = TritonConsoleApp(cfg)
    async with app.run_test(size=(120, 30)) as pilot:
        line = app.screen.query_one("#server-line", Static)
        assert await wait_for(pilot, lambda: "unreachable" in str(line.render()))
        app.config.triton.url = echo_server.grpc_url
        table = app.screen.query_one(DataTable)
        assert await wait_for(pilot, lambda: table.row_count == 1 and "1/1 models ready" in str(line.render()))
