"""List + watch one Kubernetes resource in a background thread, forever, without ever hanging.

The official client's ``Watch.stream`` gives up after one 410 and waits forever on a dead
connection, so this speaks the protocol itself over the client's HTTP layer (raw JSON, no model
classes): LIST for the full state and its ``resourceVersion``, then WATCH from that version with
bookmarks and a server-side timeout; a cut connection resumes from the last version seen; a 410
Gone relists (replacing the store, so rows are neither lost nor duplicated); other failures
retry with exponential backoff. Every request has a read timeout, so a silent server ends in a
retry rather than a hang. A resource the server does not have (a CRD not installed) is
``absent`` and is probed again now and then.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Resource:
    """One kind of object to watch: where it lives in the API."""

    key: str  # short name used by the app: "nodes", "pods", ...
    group: str
    version: str
    plural: str
    namespaced: bool
    label_selector: str = ""

    def path(self, namespace: str | None) -> str:
        base = f"/api/{self.version}" if not self.group else f"/apis/{self.group}/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"


NODES = Resource("nodes", "", "v1", "nodes", False)
PODS = Resource("pods", "", "v1", "pods", True)
EVENTS = Resource("events", "", "v1", "events", True)
DEPLOYMENTS = Resource("deployments", "apps", "v1", "deployments", True)
REPLICASETS = Resource("replicasets", "apps", "v1", "replicasets", True)
HPAS = Resource("hpas", "autoscaling", "v2", "horizontalpodautoscalers", True)
NODEPOOLS = Resource("nodepools", "karpenter.sh", "v1", "nodepools", False)
NODECLAIMS = Resource("nodeclaims", "karpenter.sh", "v1", "nodeclaims", False)


class Gone(Exception):
    """The resourceVersion is too old (HTTP 410): only a fresh LIST helps."""


class Absent(Exception):
    """The server does not serve this resource (404 on the collection): e.g. a CRD not installed."""


@dataclass
class WatchStatus:
    state: str = "connecting"  # connecting | listing | watching | retrying | absent | stopped
    detail: str = ""
    resource_version: str = ""
    relists: int = 0
    reconnects: int = 0
    since: float = 0.0

    def text(self) -> str:
        return f"{self.state}{': ' + self.detail if self.detail else ''}"


Listener = Callable[["ResourceWatcher", str, dict | None], None]  # (watcher, "ADDED"/"MODIFIED"/"DELETED"/"SYNC", obj)


class ResourceWatcher:
    """Keeps ``objects`` ({(namespace, name): dict}) in step with the server for one resource."""

    def __init__(
        self,
        api_client: Any,
        resource: Resource,
        namespace: str | None = None,
        on_change: Listener | None = None,
        watch_timeout_s: int = 240,
        request_timeout_s: float = 30.0,
        backoff_s: tuple[float, float] = (0.5, 30.0),
        absent_retry_s: float = 60.0,
    ) -> None:
        self.api_client = api_client
        self.resource = resource
        self.namespace = namespace if resource.namespaced else None
        self.on_change = on_change
        self.watch_timeout_s = watch_timeout_s
        self.request_timeout_s = request_timeout_s
        self.backoff_s = backoff_s
        self.absent_retry_s = absent_retry_s
        self.objects: dict[tuple[str, str], dict] = {}
        self.lock = threading.Lock()
        self.status = WatchStatus(since=time.monotonic())
        self.synced = threading.Event()  # set after the first successful LIST (or when absent)
        self._stop = threading.Event()
        self._response: Any = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> ResourceWatcher:
        self._thread = threading.Thread(target=self._run, name=f"watch-{self.resource.key}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        response = self._response
        if response is not None:
            try:
                response.shutdown()  # unblocks a read in progress (urllib3 >= 2.3)
            except Exception:  # noqa: BLE001 - best effort; the read timeout ends it anyway
                pass
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self._set("stopped")

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def snapshot(self) -> list[dict]:
        with self.lock:
            return list(self.objects.values())

    # ---- the loop ------------------------------------------------------------------------------

    def _run(self) -> None:
        delay = self.backoff_s[0]
        version = ""
        while not self._stop.is_set():
            try:
                if not version:
                    version = self._list()
                    delay = self.backoff_s[0]
                version = self._watch(version)
                delay = self.backoff_s[0]  # a watch that ended normally (server timeout): resume at once
            except Gone:
                self.status.relists += 1
                version = ""
            except Absent as exc:
                self._set("absent", str(exc))
                self.synced.set()
                self._clear()
                version = ""
                self._stop.wait(self.absent_retry_s)
            except Exception as exc:  # noqa: BLE001 - any failure is a retry, never a dead console
                if self._stop.is_set():
                    break
                self.status.reconnects += 1
                self._set("retrying", f"{_describe(exc)} (next try in {delay:.1f} s)")
                log.debug("watch %s failed: %s", self.resource.key, exc)
                self._stop.wait(delay * (0.8 + 0.4 * random.random()))
                delay = min(delay * 2, self.backoff_s[1])
        self._set("stopped")

    def _request(self, query: list[tuple[str, str]], read_timeout: float) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            response = self.api_client.call_api(
                self.resource.path(self.namespace), "GET", query_params=query,
                header_params={"Accept": "application/json"}, auth_settings=["BearerToken"],
                _preload_content=False, _return_http_data_only=True,
                _request_timeout=(min(10.0, self.request_timeout_s), read_timeout))
        except ApiException as exc:
            if exc.status == 404:
                raise Absent(f"{self.resource.group or 'core'}/{self.resource.version} {self.resource.plural} not served") from None
            if exc.status == 410:
                raise Gone() from None
            raise
        return response

    def _query(self) -> list[tuple[str, str]]:
        return [("labelSelector", self.resource.label_selector)] if self.resource.label_selector else []

    def _list(self) -> str:
        self._set("listing")
        response = self._request(self._query(), self.request_timeout_s)
        try:
            body = json.loads(response.data)
        finally:
            response.release_conn()
        fresh = {_key(obj): obj for obj in body.get("items") or []}
        with self.lock:
            self.objects = fresh
        version = (body.get("metadata") or {}).get("resourceVersion", "")
        self.status.resource_version = version
        self.synced.set()
        self._emit("SYNC", None)
        return version

    def _watch(self, version: str) -> str:
        query = self._query() + [("watch", "true"), ("allowWatchBookmarks", "true"),
                                 ("timeoutSeconds", str(self.watch_timeout_s))]
        if version:
            query.append(("resourceVersion", version))
        response = self._request(query, self.watch_timeout_s + 15)
        self._response = response
        self._set("watching")
        try:
            for line in _lines(response):
                if self._stop.is_set():
                    break
                event = json.loads(line)
                kind, obj = event.get("type"), event.get("object") or {}
                if kind == "ERROR":
                    if obj.get("code") == 410:
                        raise Gone()
                    raise RuntimeError(f"watch error {obj.get('code')}: {obj.get('message')}")
                new_version = (obj.get("metadata") or {}).get("resourceVersion")
                if kind in ("ADDED", "MODIFIED"):
                    with self.lock:
                        self.objects[_key(obj)] = obj
                elif kind == "DELETED":
                    with self.lock:
                        self.objects.pop(_key(obj), None)
                if new_version:
                    version = new_version
                    self.status.resource_version = version
                if kind != "BOOKMARK":
                    self._emit(kind, obj)
        finally:
            self._response = None
            response.close()  # a watch may end mid-stream: never hand a half-read connection back to the pool
            response.release_conn()
        return version

    # ---- helpers -------------------------------------------------------------------------------

    def _clear(self) -> None:
        with self.lock:
            had = bool(self.objects)
            self.objects = {}
        if had:
            self._emit("SYNC", None)

    def _emit(self, kind: str, obj: dict | None) -> None:
        if self.on_change is not None:
            try:
                self.on_change(self, kind, obj)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the watch
                log.exception("listener failed for %s", self.resource.key)

    def _set(self, state: str, detail: str = "") -> None:
        if (self.status.state, self.status.detail) != (state, detail):
            self.status.state, self.status.detail, self.status.since = state, detail, time.monotonic()
            self._emit("STATUS", None)


def _key(obj: dict) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


def _lines(response: Any):
    """Newline-delimited JSON from a streaming urllib3 response."""
    buffer = b""
    for chunk in response.stream(amt=None, decode_content=False):
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            if line.strip():
                yield line
    if buffer.strip():
        yield buffer


def _describe(exc: BaseException) -> str:
    status = getattr(exc, "status", None)
    if status in (401, 403):
        return f"HTTP {status}: not allowed (check credentials / RBAC)"
    if status:
        return f"HTTP {status}: {getattr(exc, 'reason', '')}".strip()
    text = str(exc) or type(exc).__name__
    if "Read timed out" in text:
        return "the API server went silent (read timeout)"
    if "Connection refused" in text or "NewConnectionError" in text or "Max retries exceeded" in text:
        return "cannot reach the API server"
    return text.splitlines()[0][:160]
