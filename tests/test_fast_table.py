"""FastDataTable: a column that widens after its cells were drawn shows the whole new value."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region

from console.tui.widgets.fast_table import FastDataTable


class TableHost(App):
    def compose(self) -> ComposeResult:
        yield FastDataTable(id="t")


async def test_a_late_wider_value_is_not_drawn_cut():
    app = TableHost()
    async with app.run_test(size=(60, 8)) as pilot:
        table = app.query_one(FastDataTable)
        table.add_column("NAME", key="name")
        table.add_column("$/h", key="price")
        table.add_row("node-a", "?", key="a")
        await pilot.pause()
        table.update_cell("a", "price", "$1.212", update_width=True)
        table.render_lines(Region(0, 0, 60, 3))  # drawn before the idle pass widens the column
        await pilot.pause()
        await pilot.pause()
        shown = "\n".join(strip.text for strip in table.render_lines(Region(0, 0, 60, 3)))
        assert "$1.212" in shown, shown
