"""The live cluster picture: one watcher per resource, combined into rows the screen and CLI show.

:class:`ClusterMonitor` starts the watchers (nodes; pods, deployments, replicasets, HPAs and
events of the serving namespace; Karpenter NodePools/NodeClaims when those CRDs exist) and calls
``on_change`` (coalesced by the caller) when anything moved. :meth:`ClusterMonitor.picture`
builds a :class:`ClusterPicture` snapshot: the same picture for the Cluster screen,
``triton-console status`` and ``status --json``.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from console.core.kube import model
from console.core.kube.watch import (DEPLOYMENTS, EVENTS, HPAS, NODECLAIMS, NODEPOOLS, NODES, PODS, REPLICASETS,
                                     Resource, ResourceWatcher)

PRICE_LOOKUP_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class ClusterPicture:
    context: str
    namespace: str
    taken_at: str
    nodes: tuple[model.NodeRow, ...] = ()
    pods: tuple[model.PodRow, ...] = ()
    deployments: tuple[model.DeploymentView, ...] = ()
    hpas: tuple[model.HpaView, ...] = ()
    events: tuple[model.EventRow, ...] = ()
    nodepools: tuple[model.NodePoolView, ...] = ()
    nodeclaims: tuple[model.NodeClaimView, ...] = ()
    watches: dict[str, str] = field(default_factory=dict)  # resource -> state text
    karpenter: bool = False

    @property
    def hourly_cost(self) -> float:
        return round(sum(n.price_per_hour or 0.0 for n in self.nodes), 3)

    @property
    def unpriced_nodes(self) -> int:
        return sum(1 for n in self.nodes if n.price_per_hour is None)

    @property
    def gpus(self) -> tuple[int, int]:
        """(allocatable, requested) over all nodes."""
        return sum(n.gpus_allocatable for n in self.nodes), sum(n.gpus_requested for n in self.nodes)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hourly_cost_usd"] = self.hourly_cost
        data["gpus_allocatable"], data["gpus_requested"] = self.gpus
        for hpa, view in zip(data["hpas"], self.hpas):
            hpa["at_max"] = view.at_max
        return data


class PriceBook:
    """$/h per (instance type, region, capacity type), looked up once, off the caller's thread."""

    def __init__(self, region: str, lookup: Callable[..., float | None] | None = None) -> None:
        if lookup is None:
            from console.core.pricing import hourly_price as lookup
        self.region, self.lookup = region, lookup
        self.prices: dict[tuple[str, str], float | None] = {}
        self._pending: dict[tuple[str, str], Any] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prices")
        self.on_priced: Callable[[], None] | None = None

    def price(self, instance_type: str, capacity_type: str) -> float | None:
        key = (instance_type, capacity_type)
        if key in self.prices:
            return self.prices[key]
        if key not in self._pending and instance_type not in ("", "?"):
            self._pending[key] = self._pool.submit(self._fetch, key)
        return None

    def wait(self, timeout: float = PRICE_LOOKUP_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout
        for future in list(self._pending.values()):
            try:
                future.result(max(0.0, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001 - an unpriced node shows "?", never an error
                pass

    def _fetch(self, key: tuple[str, str]) -> None:
        try:
            value = self.lookup(key[0], self.region, "spot" if key[1] == "spot" else "on-demand")
        except Exception:  # noqa: BLE001 - pricing is best effort
            value = None
        self.prices[key] = value
        if self.on_priced:
            self.on_priced()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


class ClusterMonitor:
    """Watches one cluster's serving namespace; ``picture()`` is safe to call from any thread."""

    def __init__(self, connection: Any, namespace: str, on_change: Callable[[str], None] | None = None,
                 region: str = "us-east-1", watch_timeout_s: int = 240, request_timeout_s: float = 30.0,
                 prices: PriceBook | None = None) -> None:
        self.connection = connection
        self.namespace = namespace
        self.on_change = on_change
        self.prices = prices or PriceBook(region)
        self.prices.on_priced = lambda: self._changed("prices")
        resources: tuple[Resource, ...] = (NODES, PODS, DEPLOYMENTS, REPLICASETS, HPAS, EVENTS, NODEPOOLS, NODECLAIMS)
        self.watchers: dict[str, ResourceWatcher] = {
            r.key: ResourceWatcher(connection.api_client, r, namespace, self._on_event,
                                   watch_timeout_s=watch_timeout_s, request_timeout_s=request_timeout_s)
            for r in resources}
        self.changes = 0
        self._lock = threading.Lock()
        self._rows: dict[tuple[str, str, str], tuple[str, Any]] = {}  # (kind, ns, name) -> (resourceVersion, row)

    def start(self) -> ClusterMonitor:
        for watcher in self.watchers.values():
            watcher.start()
        return self

    def stop(self) -> None:
        for watcher in self.watchers.values():
            watcher._stop.set()
        for watcher in self.watchers.values():
            watcher.stop(timeout=2.0)
        self.prices.close()

    def wait_synced(self, timeout: float = 30.0) -> bool:
        """True once every resource has listed (or is known absent) within ``timeout``."""
        deadline = time.monotonic() + timeout
        return all(w.synced.wait(max(0.0, deadline - time.monotonic())) for w in self.watchers.values())

    def _on_event(self, watcher: ResourceWatcher, kind: str, obj: dict | None) -> None:
        self._changed(watcher.resource.key)

    def _changed(self, what: str) -> None:
        with self._lock:
            self.changes += 1
        if self.on_change is not None:
            self.on_change(what)

    def objects(self, key: str) -> list[dict]:
        return self.watchers[key].snapshot()

    def _rows_of(self, kind: str, objects: list[dict], build: Callable[[dict], Any]) -> list[Any]:
        """Rows for objects, rebuilt only when an object's resourceVersion moved (1,000 pods stay cheap)."""
        rows, cache, seen = [], self._rows, set()
        for obj in objects:
            meta = obj.get("metadata") or {}
            key = (kind, meta.get("namespace") or "", meta.get("name") or "")
            version = meta.get("resourceVersion") or ""
            cached = cache.get(key)
            if cached is None or cached[0] != version or not version:
                cached = (version, build(obj))
                cache[key] = cached
            rows.append(cached[1])
            seen.add(key)
        for key in [k for k in cache if k[0] == kind and k not in seen]:
            del cache[key]
        return rows

    def picture(self) -> ClusterPicture:
        pods = self._rows_of("pods", self.objects("pods"), model.pod_row)
        gpus_by_node: dict[str, int] = {}
        for pod in pods:
            if pod.node and pod.phase not in ("Succeeded", "Failed"):
                gpus_by_node[pod.node] = gpus_by_node.get(pod.node, 0) + pod.gpus
        nodes = []
        for row in self._rows_of("nodes", self.objects("nodes"), model.node_row):
            gpus, price = gpus_by_node.get(row.name, 0), self.prices.price(row.instance_type, row.capacity_type)
            if (gpus, price) != (row.gpus_requested, row.price_per_hour):
                row = replace(row, gpus_requested=gpus, price_per_hour=price)
            nodes.append(row)
        karpenter = self.watchers["nodepools"].status.state != "absent"
        return ClusterPicture(
            context=self.connection.label, namespace=self.namespace,
            taken_at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            nodes=tuple(sorted(nodes, key=lambda n: (not n.is_gpu, n.name))),
            pods=tuple(sorted(pods, key=lambda p: p.name)),
            deployments=tuple(sorted((model.deployment_view(d) for d in self.objects("deployments")), key=lambda d: d.name)),
            hpas=tuple(sorted((model.hpa_view(h) for h in self.objects("hpas")), key=lambda h: h.name)),
            events=tuple(model.events_in_order([model.event_row(e) for e in self.objects("events")])),
            nodepools=tuple(sorted((model.nodepool_view(p) for p in self.objects("nodepools")), key=lambda p: p.name)),
            nodeclaims=tuple(sorted((model.nodeclaim_view(c) for c in self.objects("nodeclaims")), key=lambda c: c.name)),
            watches={k: w.status.text() for k, w in self.watchers.items()},
            karpenter=karpenter,
        )
