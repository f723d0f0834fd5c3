"""The Cluster place: nodes, pods, HPA, events of the serving namespace, live, k9s-style.

A :class:`~console.core.kube.monitor.ClusterMonitor` (watch threads in the core) calls back on
every change; the screen coalesces those into one redraw message at a time and writes only the
cells that changed. Port-forwards to Triton gRPC/metrics start with the connection and point
the app's ``config.triton`` at them, so Chat, Bench and Metrics reach the cluster by themselves.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from console.core.kube.model import age
from console.core.kube.report import NODE_HEADERS, POD_HEADERS, money, node_cells, pod_cells
from console.tui.screens.cluster_dialogs import AskScreen, PickScreen, TextScreen
from console.tui.widgets.confirm import ConfirmScreen
from console.tui.widgets.fast_table import FastDataTable
from console.tui.widgets.table_sync import TableSync

NODE_COLUMNS = ["name", "status", "type", "capacity", "pool", "gpus", "cpu", "memory", "age", "price"]
POD_COLUMNS = ["name", "ready", "status", "restarts", "node", "gpus", "age", "models"]
EVENT_COLUMNS = ["type", "reason", "object", "count", "last", "message"]
MODEL_PROBE_S = 15.0
MODEL_PROBE_MAX_PODS = 16  # each probe is a short-lived forward; a big deployment shows the first 16
AGE_REFRESH_S = 5.0


class ClusterChanged(Message):
    """Something in the cluster moved (posted from watch threads, coalesced)."""


class ClusterScreen(Screen):
    """Live tables of one cluster; plain letters act on the selected row, ctrl+letter is destructive."""

    CSS_PATH = "cluster.tcss"
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("s", "sort", "Sort"),
        Binding("d", "describe", "Describe"),
        Binding("l", "logs", "Logs"),
        Binding("c", "switch", "Context"),
        Binding("r", "reconnect", "Reconnect"),
        Binding("ctrl+d", "delete_pod", "Delete pod"),
        Binding("ctrl+s", "scale", "Scale"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.connection: Any = None
        self.monitor: Any = None
        self.forwards: Any = None
        self.picture: Any = None
        self.error = ""
        self.filter_text = ""
        self.sort_column: dict[str, str] = {"nodes-table": "gpus", "pods-table": "name"}  # GPU nodes first
        self.models: dict[str, str] = {}
        self._pending = threading.Event()  # a redraw message is already on its way
        self._saved_urls: tuple[str, str] | None = None
        self.redraws = 0
        self.connect_started = 0.0  # perf_counter() when the connection began (bench/p5_cluster_view.py)

    # ---- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("connecting…", id="cluster-line")
        yield Input(placeholder="filter rows (esc clears)", id="cluster-filter", classes="hidden", disabled=True)
        with Vertical(id="cluster-body"):
            yield FastDataTable(id="nodes-table", cursor_type="row", zebra_stripes=True)
            yield FastDataTable(id="pods-table", cursor_type="row", zebra_stripes=True)
            with Horizontal(id="cluster-bottom"):
                yield Static("", id="hpa-panel")
                yield FastDataTable(id="events-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        for table_id, columns, headers in (("nodes-table", NODE_COLUMNS, NODE_HEADERS),
                                           ("pods-table", POD_COLUMNS, POD_HEADERS + ["MODELS"]),
                                           ("events-table", EVENT_COLUMNS, ["TYPE", "REASON", "OBJECT", "COUNT", "LAST", "MESSAGE"])):
            table = self.query_one(f"#{table_id}", DataTable)
            for key, label in zip(columns, headers):
                table.add_column(label, key=key)
        self.syncs = {table_id: TableSync(self.query_one(f"#{table_id}", DataTable), columns) for table_id, columns in
                      (("nodes-table", NODE_COLUMNS), ("pods-table", POD_COLUMNS), ("events-table", EVENT_COLUMNS))}
        self.query_one("#nodes-table", DataTable).border_title = "Nodes"
        self.query_one("#pods-table", DataTable).border_title = f"Pods ({self.app.config.kube.namespace})"
        self.query_one("#events-table", DataTable).border_title = "Events (warnings first)"
        self.query_one("#hpa-panel", Static).border_title = "HPA"
        self.query_one("#pods-table", DataTable).focus()
        self.connect_to(self._target_from_config())
        self.set_interval(AGE_REFRESH_S, self.redraw)
        self.set_interval(MODEL_PROBE_S, self.probe_models)

    def _target_from_config(self) -> Any:
        from console.core.kube.connection import Target

        cfg = self.app.config
        if cfg.kube.source == "eks":
            return Target(cluster=cfg.aws.cluster, region=cfg.aws.region, profile=cfg.aws.profile)
        return Target(kubeconfig=cfg.kube.kubeconfig, context=cfg.kube.context)

    # ---- connection ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="connect", exit_on_error=False)
    def connect_to(self, target: Any) -> None:
        from console.core.kube.connection import KubeConnectError, connect
        from console.core.kube.monitor import ClusterMonitor
        from console.core.kube.portforward import TritonForwards, ready_pod_picker

        self.connect_started = time.perf_counter()
        self.app.call_from_thread(self._show_line, f"connecting to {target.label()}…")
        self._disconnect()
        try:
            connection = connect(target)
        except KubeConnectError as exc:
            self.error = str(exc)
            self.app.call_from_thread(self._show_line, f"[b red]✗[/] {exc}")
            return
        cfg = self.app.config
        monitor = ClusterMonitor(connection, cfg.kube.namespace, on_change=self._on_cluster_change,
                                 region=target.region or cfg.aws.region)
        self.connection, self.monitor, self.error = connection, monitor, ""
        monitor.start()
        if cfg.kube.port_forward:
            self.forwards = TritonForwards(connection.api_client, cfg.kube.namespace, ready_pod_picker(monitor)).start()
            self.app.call_from_thread(self._use_forwards)
            self.app.call_from_thread(self.set_timer, 1.0, self.probe_models)  # first answer soon, then every 15 s
        self._on_cluster_change("connected")

    def _disconnect(self) -> None:
        if self.forwards is not None:
            self.forwards.stop()
            self.forwards = None
        if self.monitor is not None:
            self.monitor.stop()
            self.monitor = None
        if self.connection is not None:
            self.connection.close()
            self.connection = None
        if self._saved_urls is not None:
            self.app.call_from_thread(self._restore_urls)

    def _use_forwards(self) -> None:
        """Point Chat/Bench/Metrics at the forwarded ports while the Cluster place holds them."""
        triton = self.app.config.triton
        if self._saved_urls is None:
            self._saved_urls = (triton.url, triton.metrics_url)
        triton.url, triton.metrics_url = self.forwards.triton_url, self.forwards.metrics_url
        self.app.sub_title = f"{triton.url} (forwarded)"

    def _restore_urls(self) -> None:
        if self._saved_urls is not None:
            self.app.config.triton.url, self.app.config.triton.metrics_url = self._saved_urls
            self.app.sub_title = self.app.config.triton.url
            self._saved_urls = None

    def on_unmount(self) -> None:
        threading.Thread(target=self._disconnect_quietly, daemon=True).start()

    def _disconnect_quietly(self) -> None:
        for part in (self.monitor, self.forwards):
            if part is not None:
                try:
                    part.stop()
                except Exception:  # noqa: BLE001 - shutting down
                    pass

    def _on_cluster_change(self, _what: str) -> None:
        """Called from watch threads: one redraw message in flight at a time."""
        if not self._pending.is_set():
            self._pending.set()
            self.post_message(ClusterChanged())

    def on_cluster_changed(self, _message: ClusterChanged) -> None:
        self._pending.clear()
        self.redraw()

    # ---- drawing ---------------------------------------------------------------------------

    def _show_line(self, text: str) -> None:
        self.query_one("#cluster-line", Static).update(text)

    def _matches(self, *cells: object) -> bool:
        return not self.filter_text or any(self.filter_text in str(c).lower() for c in cells)

    def redraw(self) -> None:
        if self.monitor is None:
            return
        picture = self.monitor.picture()
        self.picture = picture
        self.redraws += 1
        gpus_alloc, gpus_req = picture.gpus
        watch_problems = [f"{k}: {v}" for k, v in picture.watches.items() if v.startswith("retrying")]
        line = (f"[b green]●[/] {picture.context}  ns [b]{picture.namespace}[/]  nodes {len(picture.nodes)}  "
                f"GPUs {gpus_req}/{gpus_alloc}  node cost [b]{money(picture.hourly_cost)}/h[/]"
                + (f" (+{picture.unpriced_nodes} unpriced)" if picture.unpriced_nodes else ""))
        if self.forwards is not None:
            line += f"  ⇄ grpc {self.forwards.grpc.address} {self.forwards.grpc.state.split(' ->')[0]}"
        if watch_problems:
            line = line.replace("[b green]●[/]", "[b yellow]●[/]") + "  [yellow]" + "; ".join(watch_problems)[:120] + "[/]"
        self._show_line(line)
        self._draw_nodes(picture)
        self._draw_pods(picture)
        self._draw_hpa(picture)
        self._draw_events(picture)

    def _draw_nodes(self, picture: Any) -> None:
        rows = {}
        for n in picture.nodes:
            cells = node_cells(n)
            if not self._matches(*cells):
                continue
            if n.ready != "Ready":
                cells[1] = f"[red]{cells[1]}[/]"
            if n.capacity_type == "spot":
                cells[3] = f"[cyan]{cells[3]}[/]"
            rows[n.name] = cells
        self._sync("nodes-table", rows, NODE_COLUMNS)

    def _draw_pods(self, picture: Any) -> None:
        rows = {}
        for p in picture.pods:
            cells = pod_cells(p) + [self.models.get(p.name, "")]
            if not self._matches(*cells):
                continue
            if not p.is_ready:
                cells[2] = f"[{'red' if p.status not in ('Pending', 'ContainerCreating') else 'yellow'}]{cells[2]}[/]"
            rows[p.name] = cells
        self._sync("pods-table", rows, POD_COLUMNS)

    def _draw_events(self, picture: Any) -> None:
        rows = {}
        for e in picture.events[:200]:
            cells = [f"[yellow]{e.type}[/]" if e.type == "Warning" else e.type, e.reason, e.object, str(e.count),
                     age(e.last_seen), e.message[:160]]
            if self._matches(e.type, e.reason, e.object, e.message):
                rows[e.key] = cells
        result = self.syncs["events-table"].update(rows)
        if result.reshaped or result.columns_changed & {"type", "last"}:
            self.syncs["events-table"].table.sort(
                "type", "last", key=lambda cells: ("Warning" not in str(cells[0]), _age_seconds(str(cells[1]))))

    def _sync(self, table_id: str, rows: dict[str, list], columns: list[str]) -> None:
        sync = self.syncs[table_id]
        result = sync.update(rows)
        column = self.sort_column.get(table_id, "name")
        if result.reshaped or column in result.columns_changed:
            sync.table.sort(column, key=_sort_key)

    def _draw_hpa(self, picture: Any) -> None:
        panel = self.query_one("#hpa-panel", Static)
        lines = []
        for d in picture.deployments:
            lines.append(f"deploy [b]{d.name}[/] {d.ready}/{d.replicas} ready")
        for h in picture.hpas:
            style = "b red" if h.at_max else "b"
            lines.append(f"[{style}]{h.name}[/] replicas {h.current}→{h.desired} (min {h.min} max {h.max})"
                         + ("  [b red]AT MAX[/]" if h.at_max else ""))
            lines += [f"  {m.name}: [b]{m.current}[/] / {m.target}" for m in h.metrics]
            for c in h.conditions:
                mark = "[green]✓[/]" if c.status == "True" else "[dim]·[/]"
                if c.type == "ScalingLimited" and c.status == "True":
                    mark = "[red]![/]"
                lines.append(f"  {mark} {c.type} {c.reason}")
        if picture.karpenter:
            for pool in picture.nodepools:
                lines.append(f"pool [b]{pool.name}[/] using {pool.usage.get('nvidia.com/gpu', pool.usage.get('cpu', '0'))}"
                             f" of {pool.limits.get('nvidia.com/gpu', pool.limits.get('cpu', '∞'))}")
        panel.update("\n".join(lines) or "[dim]no HPA in this namespace[/dim]")

    # ---- model readiness per pod (through short-lived forwards) ------------------------------

    @work(thread=True, exclusive=True, group="models", exit_on_error=False)
    def probe_models(self) -> None:
        from console.core.kube.portforward import pod_models

        if self.monitor is None or self.picture is None or not self.app.config.kube.port_forward:
            return
        found: dict[str, str] = {}
        for pod in [p for p in self.picture.pods if p.is_ready][:MODEL_PROBE_MAX_PODS]:
            monitor, connection = self.monitor, self.connection
            if monitor is None or connection is None:
                return  # disconnected meanwhile
            answer = pod_models(connection.api_client, monitor.namespace, pod.name, timeout_s=3.0)
            found[pod.name] = ",".join(answer) if isinstance(answer, list) else "unreachable"
        self.models = found
        self._on_cluster_change("models")

    # ---- keys ------------------------------------------------------------------------------

    def _focused_table(self) -> DataTable:
        focused = self.focused
        return focused if isinstance(focused, DataTable) else self.query_one("#pods-table", DataTable)

    def _selected(self, table_id: str | None = None) -> str | None:
        table = self.query_one(f"#{table_id}", DataTable) if table_id else self._focused_table()
        if not table.row_count:
            return None
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value

    def action_filter(self) -> None:
        box = self.query_one("#cluster-filter", Input)
        box.disabled = False
        box.remove_class("hidden")
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "cluster-filter":
            self.filter_text = event.value.strip().lower()
            self.redraw()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "cluster-filter":
            self.query_one("#pods-table", DataTable).focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#cluster-filter", Input)
        box.value = ""
        box.add_class("hidden")
        box.disabled = True
        self.filter_text = ""
        self.query_one("#pods-table", DataTable).focus()
        self.redraw()

    def action_sort(self) -> None:
        table = self._focused_table()
        columns = [str(c.value) for c in table.columns]
        current = self.sort_column.get(table.id or "", columns[0])
        following = columns[(columns.index(current) + 1) % len(columns)] if current in columns else columns[0]
        self.sort_column[table.id or ""] = following
        table.sort(following, key=_sort_key)
        self.notify(f"sorted by {following}", timeout=2)

    def action_reconnect(self) -> None:
        target = self.connection.target if self.connection is not None else self._target_from_config()
        self.connect_to(target)

    def _kind_of_focus(self) -> str:
        return {"nodes-table": "nodes", "pods-table": "pods", "events-table": "events"}.get(self._focused_table().id or "", "pods")

    def action_describe(self) -> None:
        kind = self._kind_of_focus()
        name = self._selected()
        if not name or self.connection is None:
            return
        namespace = self.app.config.kube.namespace
        if kind == "events":
            namespace, name = name.split("/", 1)
        self.describe(kind, name, namespace)

    @work(thread=True, exit_on_error=False)
    def describe(self, kind: str, name: str, namespace: str) -> None:
        from console.core.kube.actions import ActionError, describe

        try:
            text = describe(self.connection.api_client, kind, name, namespace)
        except ActionError as exc:
            self.app.call_from_thread(self.notify, f"describe {name}: {exc}", severity="error")
            return
        self.app.call_from_thread(self.app.push_screen, TextScreen(f"{kind[:-1]} {name}", text))

    def action_logs(self) -> None:
        name = self._selected("pods-table")
        if name and self.connection is not None:
            screen = TextScreen(f"logs {name} (following)")
            self.app.push_screen(screen)
            self.follow_logs(name, screen)

    @work(thread=True, exit_on_error=False)
    def follow_logs(self, name: str, screen: TextScreen) -> None:
        from console.core.kube.actions import ActionError, LogTail

        try:
            tail = LogTail(self.connection.api_client, name, self.app.config.kube.namespace, tail_lines=200, follow=True)
        except ActionError as exc:
            self.app.call_from_thread(screen.write, f"[cannot read logs: {exc}]")
            return
        screen.on_close.append(tail.close)  # unblocks the read when the view closes
        if screen.closed:
            tail.close()
        try:
            for line in tail.lines():
                if screen.closed:
                    break
                self.app.call_from_thread(screen.write, line)
        finally:
            tail.close()

    def action_delete_pod(self) -> None:
        from console.core.kube.actions import plan_delete_pod

        name = self._selected("pods-table")
        if not name or self.connection is None:
            self.notify("select a pod first", severity="warning")
            return
        namespace = self.app.config.kube.namespace

        def done(yes: bool | None) -> None:
            if yes:
                from console.core.kube.actions import delete_pod

                self.run_action(f"delete pod {name}", lambda client: delete_pod(client, name, namespace))

        self.app.push_screen(ConfirmScreen(f"Delete pod {name}?", plan_delete_pod(name, namespace), "Delete"), done)

    def action_scale(self) -> None:
        from console.core.kube.actions import plan_scale

        if self.picture is None or not self.picture.deployments or self.connection is None:
            self.notify("no deployment in this namespace", severity="warning")
            return
        deployment = next((d for d in self.picture.deployments if d.name == self.app.config.kube.release),
                          self.picture.deployments[0])
        namespace = self.app.config.kube.namespace

        def asked(value: str | None) -> None:
            if value is None:
                return
            if not value.isdigit():
                self.notify(f"not a replica count: {value!r}", severity="error")
                return
            replicas = int(value)
            # The HPA as the latest picture has it: the one the operator saw while typing.
            hpa = next((h for h in self.picture.hpas if h.target.endswith(f"/{deployment.name}")), None)
            plan = plan_scale(deployment.name, namespace, deployment.replicas, replicas,
                              hpa.min if hpa else None, hpa.max if hpa else None)

            def confirmed(yes: bool | None) -> None:
                if yes:
                    from console.core.kube.actions import scale_deployment

                    self.run_action(f"scale to {replicas}", lambda c: scale_deployment(c, deployment.name, namespace, replicas))

            self.app.push_screen(ConfirmScreen(f"Scale {deployment.name}?", plan, "Scale"), confirmed)

        self.app.push_screen(AskScreen(f"Replicas for {deployment.name} (now {deployment.replicas})", str(deployment.replicas)), asked)

    @work(thread=True, exit_on_error=False)
    def run_action(self, what: str, call: Any) -> None:
        from console.core.kube.actions import ActionError

        try:
            call(self.connection.api_client)
        except ActionError as exc:
            self.app.call_from_thread(self.notify, f"{what} failed: {exc}", severity="error")
            return
        self.app.call_from_thread(self.notify, f"{what}: done")

    def action_switch(self) -> None:
        from console.core.kube.connection import Target, kubeconfig_contexts

        cfg = self.app.config
        contexts, current = kubeconfig_contexts(cfg.kube.kubeconfig)
        eks = f"eks:{cfg.aws.cluster}@{cfg.aws.region}"
        options = [f"context:{c}" + ("  (current)" if c == current else "") for c in contexts] + [eks, "eks:…  (type a name)"]

        def picked(choice: str | None) -> None:
            if not choice:
                return
            if choice.startswith("context:"):
                cfg.kube.source, cfg.kube.context = "kubeconfig", choice.split(":", 1)[1].split("  ")[0]
                self.connect_to(Target(kubeconfig=cfg.kube.kubeconfig, context=cfg.kube.context))
            elif choice.startswith("eks:…"):
                self.app.push_screen(AskScreen("EKS cluster as name@region", f"{cfg.aws.cluster}@{cfg.aws.region}"), typed)
            else:
                typed(choice[4:])

        def typed(text: str | None) -> None:
            if not text:
                return
            name, _, region = text.partition("@")
            cfg.kube.source, cfg.aws.cluster, cfg.aws.region = "eks", name.strip(), region.strip() or cfg.aws.region
            self.connect_to(Target(cluster=cfg.aws.cluster, region=cfg.aws.region, profile=cfg.aws.profile))

        self.app.push_screen(PickScreen("Switch cluster", options), picked)


def _sort_key(value: object) -> tuple:
    text = str(value)
    plain = text.split("]", 1)[-1].split("[", 1)[0] if text.startswith("[") else text
    head = plain.split("/")[0].lstrip("$").replace(",", "").rstrip("Gi")
    try:
        return (0, float(head), plain)
    except ValueError:
        return (1, 0.0, plain)


def _age_seconds(text: str) -> float:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        return float(text[:-1]) * units[text[-1]]
    except (ValueError, KeyError, IndexError):
        return float("inf")


SCREEN = ClusterScreen
