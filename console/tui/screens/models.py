"""The Models place: which models the Triton server has ready, and each one's config."""

from __future__ import annotations

import json

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from console.core.server_info import ServerStatus, TritonAdmin, config_parameters

POLL_SECONDS = 2.0


class ModelsScreen(Screen):
    """Polls the server (never two polls at once) and updates only the rows that changed."""

    BINDINGS = [
        Binding("r", "refresh", "Refresh"),
        Binding("enter", "show_config", "Config", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.admin: TritonAdmin | None = None
        self.status: ServerStatus | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("connecting…", id="server-line")
        with Horizontal(id="models-body"):
            yield DataTable(id="models-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="model-config"):
                yield Static("Select a model to see its config.", id="config-text")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("model", key="model")
        table.add_column("version", key="version")
        table.add_column("state", key="state")
        table.add_column("reason", key="reason")
        self.admin = TritonAdmin(self.app.config.triton.url)
        self.poll()
        self.set_interval(POLL_SECONDS, self.poll)

    async def on_unmount(self) -> None:
        if self.admin is not None:
            await self.admin.close()

    def action_refresh(self) -> None:
        self.poll()

    @work(exclusive=True, group="poll", exit_on_error=False)
    async def poll(self) -> None:
        assert self.admin is not None
        url = self.app.config.triton.url
        if self.admin.url != url:  # the Cluster place (port-forwards) or --url moved the server
            await self.admin.close()
            self.admin = TritonAdmin(url)
        status = await self.admin.status()
        self.render_status(status)

    def render_status(self, status: ServerStatus) -> None:
        self.status = status
        line = self.query_one("#server-line", Static)
        if status.error:
            line.update(f"[b red]✗[/] {status.url}: {status.error}")
        else:
            ready = len(status.ready_models)
            line.update(
                f"[b green]●[/] {status.url}  Triton {status.version}  "
                f"server {'ready' if status.ready else 'not ready'}  {ready}/{len(status.models)} models ready"
            )
        table = self.query_one(DataTable)
        seen = set()
        for model in status.models:
            key = model.name
            seen.add(key)
            state = f"[green]{model.state}[/]" if model.ready else f"[yellow]{model.state or '—'}[/]"
            cells = {"model": model.name, "version": model.version or "—", "state": state, "reason": model.reason}
            if key in table.rows:
                for column, value in cells.items():
                    if table.get_cell(key, column) != value:  # touch only what changed
                        table.update_cell(key, column, value)
            else:
                table.add_row(*cells.values(), key=key)
        for key in [k.value for k in table.rows if k.value not in seen]:
            table.remove_row(key)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value:
            self.load_config(event.row_key.value)

    def action_show_config(self) -> None:
        table = self.query_one(DataTable)
        if table.row_count:
            self.load_config(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)

    @work(exclusive=True, group="config", exit_on_error=False)
    async def load_config(self, name: str) -> None:
        text = self.query_one("#config-text", Static)
        assert self.admin is not None
        try:
            cfg = await self.admin.model_config(name)
        except Exception as exc:  # noqa: BLE001 - shown, never raised into the app
            text.update(f"[red]{name}: config unavailable: {exc}[/]")
            return
        params = config_parameters(cfg)
        lines = [f"[b]{name}[/b]", f"backend: {cfg.get('backend', '?')}"]
        decoupled = cfg.get("model_transaction_policy", {}).get("decoupled", False)
        lines.append(f"decoupled: {decoupled}")
        lines.append("inputs: " + ", ".join(i.get("name", "?") for i in cfg.get("input", [])))
        lines.append("outputs: " + ", ".join(o.get("name", "?") for o in cfg.get("output", [])))
        lines.append("")
        lines.append("[b]parameters[/b]")
        lines.extend(f"  {k} = {v}" for k, v in sorted(params.items()))
        lines.append("")
        lines.append("[dim]" + json.dumps(cfg.get("instance_group", []))[:200] + "[/dim]")
        text.update("\n".join(lines))


SCREEN = ModelsScreen
