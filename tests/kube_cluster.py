"""A Kubernetes API server for tests: kmock's emulator on loopback, made realistic enough to watch.

kmock 0.8 stores objects and serves discovery, LIST, GET and WATCH over real HTTP, but its watch
replays everything as ADDED and ignores ``resourceVersion``; there are no bookmarks, no 410 Gone,
no label selectors, no pod logs and no port-forward. :class:`ClusterEmulator` extends it here
(rather than mocking the HTTP path) with:

* a global ``resourceVersion`` stamped on every object and an event log, so a watch resumes from
  a version, and a version older than the log answers a 410 ``ERROR`` event (``compact()``);
* ``allowWatchBookmarks`` (BOOKMARK events), ``timeoutSeconds``, ``labelSelector``;
* ``drop_watches()``: every open watch connection is cut (as a load balancer does);
* pod logs (``follow`` streams lines appended with ``append_log``);
* ``portforward`` over WebSocket (``v4.channel.k8s.io``), relayed to a real local TCP port
  registered with ``forward_target``.

:class:`KubeCluster` runs it in a background thread with its own event loop and offers
synchronous helpers (``add``, ``patch``, ``delete``, ...) plus realistic fixtures: m5 core nodes
of a managed node group, g5 GPU nodes from Karpenter, Triton pods of our chart, a Deployment and
ReplicaSet, an ``autoscaling/v2`` HPA with custom-metric status, warning events, Karpenter
NodePool/NodeClaim objects.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import aiohttp.web
import kmock
from kmock._internal import enums  # the action enum (LIST, WATCH, ...) parsed for each request

NAMESPACE = "triton-vllm"
RELEASE = "triton-vllm"
APP_LABELS = {"app.kubernetes.io/name": "triton-vllm", "app.kubernetes.io/instance": RELEASE}

# resource keys: (group, version, plural)
NODES = ("", "v1", "nodes")
PODS = ("", "v1", "pods")
EVENTS = ("", "v1", "events")
SERVICES = ("", "v1", "services")
NAMESPACES = ("", "v1", "namespaces")
DEPLOYMENTS = ("apps", "v1", "deployments")
REPLICASETS = ("apps", "v1", "replicasets")
HPAS = ("autoscaling", "v2", "horizontalpodautoscalers")
NODEPOOLS = ("karpenter.sh", "v1", "nodepools")
NODECLAIMS = ("karpenter.sh", "v1", "nodeclaims")

KINDS = {
    NODES: ("Node", False), PODS: ("Pod", True), EVENTS: ("Event", True), SERVICES: ("Service", True),
    NAMESPACES: ("Namespace", False), DEPLOYMENTS: ("Deployment", True), REPLICASETS: ("ReplicaSet", True),
    HPAS: ("HorizontalPodAutoscaler", True), NODEPOOLS: ("NodePool", False), NODECLAIMS: ("NodeClaim", False),
}


FROZEN_NOW: dt.datetime | None = None  # set by realistic_objects(now=...) so every stamp shares one base


def _now() -> dt.datetime:
    return FROZEN_NOW or dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def stamp(ago_s: float = 0) -> str:
    """An RFC 3339 timestamp ``ago_s`` seconds in the past, as the API server writes them."""
    return (_now() - dt.timedelta(seconds=ago_s)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _api_version(res: tuple[str, str, str]) -> str:
    return res[1] if not res[0] else f"{res[0]}/{res[1]}"


def _matches_labels(selector: str, labels: dict[str, str]) -> bool:
    """Equality-based label selectors (``a=b``, ``a==b``, ``a!=b``, ``a``, ``!a``), comma-joined."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if labels.get(key.strip()) == value.strip():
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if labels.get(key.strip()) != value.strip():
                return False
        elif term.startswith("!"):
            if term[1:] in labels:
                return False
        elif term not in labels:
            return False
    return True


def _matches_fields(selector: str, obj: dict) -> bool:
    """Field selectors on dotted paths (``type=Warning``, ``involvedObject.name=x``, ``!=``)."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        negate = "!=" in term
        key, value = term.split("!=" if negate else "=", 1)
        node: Any = obj
        for part in key.strip().lstrip("=").split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if (str(node) == value.strip()) == negate:
            return False
    return True


def _merge(target: dict, patch: dict) -> None:
    """JSON merge patch (RFC 7386): dicts merge, ``None`` deletes, everything else replaces."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


@dataclass(eq=False)
class _Watch:
    response: aiohttp.web.StreamResponse
    transport: Any


@dataclass
class _LogStream:
    lines: list[str] = field(default_factory=list)
    changed: asyncio.Event | None = None


class ClusterEmulator(kmock.KubernetesEmulator):
    """kmock's emulator with resource versions, watch semantics, logs and port-forward (see module doc)."""

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self.rv = 1000
        self.compacted_rv = 1000  # versions at or below this are gone (410) once compaction ran
        self.log: list[tuple[int, tuple, str | None, dict, str]] = []  # (rv, res, ns, raw, type)
        self.store: dict[tuple, dict] = {}  # (res, ns, name) -> current object
        self.changed = asyncio.Condition()
        self.watches: set[_Watch] = set()
        self.bookmark_interval_s = 1.0
        self.log_streams: dict[tuple[str, str], _LogStream] = {}
        self.forward_targets: dict[tuple[str, str, int], tuple[str, int]] = {}
        self.requests_seen: list[tuple[str, str]] = []  # (method, path) of every request, for assertions

    # ---- state ---------------------------------------------------------------------------------

    def _record(self, res: tuple, ns: str | None, obj: dict, kind: str) -> None:
        self.rv += 1
        obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
        self.log.append((self.rv, res, ns, copy.deepcopy(obj), kind))
        if len(self.log) > 20000:  # the API server keeps a bounded window too
            self.compacted_rv = self.log[9999][0]
            del self.log[:10000]

    async def apply(self, change: str, res: tuple, ns: str | None, name: str, body: dict | None = None) -> dict:
        """Create, patch (merge), replace or delete one object; records a watch event. Raises KeyError/ValueError."""
        key = (tuple(res), ns, name)
        kind, namespaced = KINDS.get(key[0], (res[2].rstrip("s").capitalize(), ns is not None))
        async with self.changed:
            current = self.store.get(key)
            if change == "create":
                if current is not None:
                    raise ValueError(f"{name} already exists")
                obj = copy.deepcopy(body or {})
                obj.setdefault("apiVersion", _api_version(key[0]))
                obj.setdefault("kind", kind)
                meta = obj.setdefault("metadata", {})
                meta["name"] = name
                if ns is not None:
                    meta["namespace"] = ns
                meta.setdefault("uid", str(uuid.uuid4()))
                meta.setdefault("creationTimestamp", stamp())
                self._record(key[0], ns, obj, "ADDED")
                self.store[key] = obj
            elif current is None:
                raise KeyError(name)
            elif change in ("patch", "replace"):
                if change == "patch":
                    obj = copy.deepcopy(current)
                    _merge(obj, body or {})
                else:
                    obj = copy.deepcopy(body or {})
                    obj["metadata"] = {**current["metadata"], **obj.get("metadata", {})}
                obj["metadata"].pop("resourceVersion", None)
                self._record(key[0], ns, obj, "MODIFIED")
                self.store[key] = obj
            elif change == "delete":
                obj = self.store.pop(key)
                self._record(key[0], ns, obj, "DELETED")
                stream = self.log_streams.get((ns or "", name))
                if stream and stream.changed:
                    stream.changed.set()
            else:
                raise ValueError(change)
            self.changed.notify_all()
            return copy.deepcopy(obj)

    def _selected(self, request: kmock.Request, res: tuple, ns: str | None, obj: dict) -> bool:
        if _res_key(request.resource) != res:
            return False
        if request.namespace is not None and request.namespace != ns:
            return False
        if request.name is not None and request.name != obj["metadata"]["name"]:
            return False
        labels = request.params.get("labelSelector")
        if labels and not _matches_labels(labels, obj["metadata"].get("labels") or {}):
            return False
        fields_ = request.params.get("fieldSelector")
        return not fields_ or _matches_fields(fields_, obj)

    # ---- HTTP ----------------------------------------------------------------------------------

    async def _handle(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        self.requests_seen.append((request.method.value if request.method else "", request.url.path))
        if request.resource is None or _res_key(request.resource) not in self._known():
            return await super()._handle(request)  # discovery, /version, unknown resources (404)
        if request.subresource == "log":
            return await self._serve_log(request)
        if request.subresource == "portforward":
            return await self._serve_portforward(request)
        res = _res_key(request.resource)
        action = request.action
        try:
            if action == enums.action.LIST:
                return self._json(self._list(request, res))
            if action == enums.action.WATCH:
                return await self._watch(request, res)
            if action == enums.action.FETCH:
                obj = self.store.get((res, request.namespace, request.name))
                if obj is None:
                    return self._status(404, "NotFound", f'{res[2]} "{request.name}" not found')
                if request.subresource == "scale":
                    return self._json(_scale_of(obj))
                return self._json(obj)
            if action == enums.action.CREATE:
                body = request.data or {}
                name = body.get("metadata", {}).get("name")
                if not name:
                    return self._status(422, "Invalid", "metadata.name: Required value")
                return self._json(await self.apply("create", res, request.namespace or body["metadata"].get("namespace"), name, body), 201)
            if action == enums.action.UPDATE:
                body = request.data or {}
                if request.subresource == "scale":
                    body = {"spec": {"replicas": (body.get("spec") or {}).get("replicas")}}
                    obj = await self.apply("patch", res, request.namespace, request.name, body)
                    return self._json(_scale_of(obj))
                change = "replace" if request.method == enums.method.PUT else "patch"
                return self._json(await self.apply(change, res, request.namespace, request.name, body))
            if action == enums.action.DELETE:
                return self._json(await self.apply("delete", res, request.namespace, request.name))
        except KeyError:
            return self._status(404, "NotFound", f'{res[2]} "{request.name}" not found')
        except ValueError as exc:
            return self._status(409, "AlreadyExists", str(exc))
        return await super()._handle(request)

    def _known(self) -> set[tuple]:
        return {_res_key(r) for r in self._get_resources()}

    @staticmethod
    def _json(data: Any, status: int = 200) -> aiohttp.web.Response:
        return aiohttp.web.json_response(data, status=status)

    @staticmethod
    def _status(code: int, reason: str, message: str) -> aiohttp.web.Response:
        return aiohttp.web.json_response(
            {"apiVersion": "v1", "kind": "Status", "metadata": {}, "status": "Failure", "message": message,
             "reason": reason, "code": code}, status=code)

    def _list(self, request: kmock.Request, res: tuple) -> dict:
        # stored objects are never mutated in place (apply() replaces them), so no copies here
        items = [obj for (r, ns, _), obj in self.store.items() if r == res and self._selected(request, r, ns, obj)]
        kind = KINDS.get(res, (res[2].capitalize(), True))[0]
        return {"apiVersion": _api_version(res), "kind": f"{kind}List", "metadata": {"resourceVersion": str(self.rv)}, "items": items}

    async def _watch(self, request: kmock.Request, res: tuple) -> aiohttp.web.StreamResponse:
        raw = request._raw_request
        response = aiohttp.web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(raw)
        watch = _Watch(response, raw.transport)
        self.watches.add(watch)
        loop = asyncio.get_running_loop()
        timeout = float(request.params.get("timeoutSeconds") or 1800)
        deadline = loop.time() + timeout
        bookmarks = request.params.get("allowWatchBookmarks") in ("true", "1")
        kind = KINDS.get(res, (res[2].capitalize(), True))[0]

        async def send(event: dict) -> None:
            await response.write(json.dumps(event).encode() + b"\n")

        try:
            since = request.params.get("resourceVersion") or ""
            async with self.changed:
                if since and since != "0" and int(since) < self.compacted_rv:
                    gone = {"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                                       "message": f"too old resource version: {since} ({self.compacted_rv})",
                                                       "reason": "Expired", "code": 410}}
                    await send(gone)
                    return response
                if since and since != "0":
                    position = int(since)
                    backlog = [e for e in self.log if e[0] > position]
                else:
                    position = self.rv
                    backlog = [(self.rv, r, ns, obj, "ADDED") for (r, ns, _), obj in list(self.store.items())]
            for rv_, r, ns, obj, kind_ in backlog:
                if r == res and self._selected(request, r, ns, obj):
                    await send({"type": kind_, "object": obj})
                position = max(position, rv_)
            last_bookmark = loop.time()
            while loop.time() < deadline and watch in self.watches:
                async with self.changed:
                    wait = min(deadline - loop.time(), self.bookmark_interval_s if bookmarks else 0.5)
                    try:
                        await asyncio.wait_for(self.changed.wait_for(lambda: self.rv > position or watch not in self.watches), max(wait, 0.01))
                    except asyncio.TimeoutError:
                        pass
                    fresh = [e for e in self.log if e[0] > position]
                    if fresh and fresh[0][0] <= self.compacted_rv and position < self.compacted_rv:
                        fresh = []
                if watch not in self.watches:
                    break
                for rv_, r, ns, obj, kind_ in fresh:
                    if r == res and self._selected(request, r, ns, obj):
                        await send({"type": kind_, "object": obj})
                    position = rv_
                if bookmarks and loop.time() - last_bookmark >= self.bookmark_interval_s:
                    await send({"type": "BOOKMARK", "object": {"kind": kind, "apiVersion": _api_version(res),
                                                              "metadata": {"resourceVersion": str(max(position, self.rv))}}})
                    last_bookmark = loop.time()
            if watch not in self.watches and raw.transport is not None:
                raw.transport.abort()  # a dropped connection: no clean end of the stream
                return response
            await response.write_eof()
        except (ConnectionResetError, asyncio.CancelledError, RuntimeError):
            pass
        finally:
            self.watches.discard(watch)
        return response

    async def drop_watches(self) -> int:
        """Cut every open watch connection mid-stream; returns how many were open."""
        async with self.changed:
            count = len(self.watches)
            self.watches.clear()
            self.changed.notify_all()
        return count

    async def compact(self) -> None:
        """Forget the event log: every resourceVersion seen so far now answers 410 Gone."""
        async with self.changed:
            self.rv += 1
            self.compacted_rv = self.rv
            self.log.clear()

    # ---- pod logs ------------------------------------------------------------------------------

    async def append_log(self, ns: str, pod: str, lines: Iterable[str]) -> None:
        stream = self.log_streams.setdefault((ns, pod), _LogStream())
        stream.lines.extend(lines)
        if stream.changed:
            stream.changed.set()

    async def _serve_log(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        key = (request.namespace or "", request.name or "")
        if (_res_key(request.resource), request.namespace, request.name) not in self.store:
            return self._status(404, "NotFound", f'pods "{request.name}" not found')
        stream = self.log_streams.setdefault(key, _LogStream())
        tail = request.params.get("tailLines")
        lines = stream.lines[-int(tail):] if tail else list(stream.lines)
        if request.params.get("follow") not in ("true", "1"):
            return aiohttp.web.Response(text="".join(line + "\n" for line in lines), content_type="text/plain")
        response = aiohttp.web.StreamResponse(status=200, headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request._raw_request)
        sent = len(stream.lines)
        try:
            await response.write("".join(line + "\n" for line in lines).encode())
            while (_res_key(request.resource), request.namespace, request.name) in self.store:
                stream.changed = stream.changed or asyncio.Event()
                try:
                    await asyncio.wait_for(stream.changed.wait(), 0.5)
                except asyncio.TimeoutError:
                    continue
                stream.changed.clear()
                fresh, sent = stream.lines[sent:], len(stream.lines)
                if fresh:
                    await response.write("".join(line + "\n" for line in fresh).encode())
            await response.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    # ---- port-forward (WebSocket, v4.channel.k8s.io) ------------------------------------------

    async def _serve_portforward(self, request: kmock.Request) -> aiohttp.web.StreamResponse:
        ns, pod = request.namespace or "", request.name or ""
        if (PODS, ns, pod) not in self.store:
            return self._status(404, "NotFound", f'pods "{pod}" not found')
        port = int(request.params.get("ports", "0").split(",")[0])
        ws = aiohttp.web.WebSocketResponse(protocols=("v4.channel.k8s.io", "channel.k8s.io"))
        await ws.prepare(request._raw_request)
        header = port.to_bytes(2, "little")
        await ws.send_bytes(b"\x00" + header)
        await ws.send_bytes(b"\x01" + header)
        target = self.forward_targets.get((ns, pod, port))
        try:
            if target is None:
                await ws.send_bytes(b"\x01" + f"error forwarding port {port} to pod {pod}: connection refused".encode())
                return ws
            reader, writer = await asyncio.open_connection(*target)
        except OSError as exc:
            await ws.send_bytes(b"\x01" + f"error forwarding port {port} to pod {pod}: {exc}".encode())
            await ws.close()
            return ws

        async def upstream() -> None:
            async for msg in ws:
                if msg.type == aiohttp.WSMsgType.BINARY and msg.data[:1] == b"\x00" and len(msg.data) > 1:
                    writer.write(msg.data[1:])
                    await writer.drain()
            writer.close()

        async def downstream() -> None:
            while data := await reader.read(65536):
                await ws.send_bytes(b"\x00" + data)
            await ws.close()

        async def pod_alive() -> None:
            while (PODS, ns, pod) in self.store:
                await asyncio.sleep(0.2)
            await ws.close()  # the pod went away: so does its forward

        tasks = [asyncio.ensure_future(t()) for t in (upstream, downstream, pod_alive)]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            writer.close()
            await ws.close()
        return ws


def _res_key(resource: Any) -> tuple[str, str, str]:
    return (resource.group or "", resource.version or "", resource.plural or "")


def _scale_of(deployment: dict) -> dict:
    meta = deployment["metadata"]
    return {"apiVersion": "autoscaling/v1", "kind": "Scale",
            "metadata": {"name": meta["name"], "namespace": meta.get("namespace"), "resourceVersion": meta.get("resourceVersion")},
            "spec": {"replicas": deployment.get("spec", {}).get("replicas", 0)},
            "status": {"replicas": deployment.get("status", {}).get("replicas", 0)}}


# ---- realistic objects ----------------------------------------------------------------------


NODE_INFO = {"architecture": "amd64", "bootID": "b1c2", "containerRuntimeVersion": "containerd://1.7.22",
             "kernelVersion": "5.10.226-214.880.amzn2.x86_64", "kubeProxyVersion": "v1.30.4-eks-a737599",
             "kubeletVersion": "v1.30.4-eks-a737599", "machineID": "ec2a", "operatingSystem": "linux",
             "osImage": "Amazon Linux 2", "systemUUID": "ec2b"}


def core_node(name: str, zone: str = "us-west-2a", age_s: float = 86400 * 3) -> dict:
    """An m5.xlarge of the EKS managed node group ``core-node-group``."""
    return {
        "metadata": {"name": name, "creationTimestamp": stamp(age_s), "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "node.kubernetes.io/instance-type": "m5.xlarge", "topology.kubernetes.io/zone": zone,
            "topology.kubernetes.io/region": "us-west-2", "eks.amazonaws.com/nodegroup": "core-node-group",
            "eks.amazonaws.com/capacityType": "ON_DEMAND"}},
        "spec": {"providerID": f"aws:///{zone}/i-0{uuid.uuid4().hex[:16]}"},
        "status": {
            "capacity": {"cpu": "4", "memory": "15896704Ki", "pods": "58", "ephemeral-storage": "104845292Ki"},
            "allocatable": {"cpu": "3920m", "memory": "14879872Ki", "pods": "58", "ephemeral-storage": "95551679124"},
            "conditions": [_ready_condition(True)],
            "nodeInfo": NODE_INFO,
        },
    }


def gpu_node(name: str, instance_type: str = "g5.24xlarge", gpus: int = 4, capacity_type: str = "on-demand",
             zone: str = "us-west-2b", age_s: float = 3600 * 5, ready: bool = True) -> dict:
    """A g5 node launched by Karpenter's ``gpu`` NodePool, tainted for GPU work."""
    cpus, mem = {"g5.xlarge": (4, "16080800Ki"), "g5.2xlarge": (8, "32499168Ki"), "g5.12xlarge": (48, "195807636Ki"),
                 "g5.24xlarge": (96, "391640244Ki"), "g5.48xlarge": (192, "783285836Ki")}.get(instance_type, (8, "32499168Ki"))
    return {
        "metadata": {"name": name, "creationTimestamp": stamp(age_s), "labels": {
            "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
            "node.kubernetes.io/instance-type": instance_type, "topology.kubernetes.io/zone": zone,
            "topology.kubernetes.io/region": "us-west-2", "karpenter.sh/nodepool": "gpu",
            "karpenter.sh/capacity-type": capacity_type, "karpenter.k8s.aws/instance-gpu-count": str(gpus),
            "karpenter.k8s.aws/instance-gpu-name": "a10g", "nvidia.com/gpu.present": "true"}},
        "spec": {"providerID": f"aws:///{zone}/i-0{uuid.uuid4().hex[:16]}",
                 "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}]},
        "status": {
            "capacity": {"cpu": str(cpus), "memory": mem, "pods": "737", "nvidia.com/gpu": str(gpus)},
            "allocatable": {"cpu": f"{cpus * 1000 - 80}m", "memory": mem, "pods": "737", "nvidia.com/gpu": str(gpus)},
            "conditions": [_ready_condition(ready)],
            "nodeInfo": NODE_INFO,
        },
    }


def _ready_condition(ready: bool) -> dict:
    return {"type": "Ready", "status": "True" if ready else "False",
            "reason": "KubeletReady" if ready else "KubeletNotReady", "lastTransitionTime": stamp(600)}


def triton_pod(name: str, node: str | None, ready: bool = True, phase: str = "Running", restarts: int = 0,
               gpus: int = 1, waiting_reason: str | None = None, age_s: float = 1800, namespace: str = NAMESPACE,
               pod_ip: str = "10.0.12.34", rs: str = f"{RELEASE}-5d9c7b8f6d") -> dict:
    """A pod of our chart's Deployment (labels per the chart contract) requesting ``gpus`` GPUs."""
    container_state: dict = {"running": {"startedAt": stamp(age_s - 30)}}
    if waiting_reason:
        container_state = {"waiting": {"reason": waiting_reason, "message": f"{waiting_reason} for container triton"}}
    status: dict = {"phase": phase, "startTime": stamp(age_s), "conditions": [
        {"type": "PodScheduled", "status": "True" if node else "False",
         **({} if node else {"reason": "Unschedulable", "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."})},
        {"type": "Ready", "status": "True" if ready else "False"}]}
    if node:
        status.update(hostIP="10.0.1.10", podIP=pod_ip, containerStatuses=[{
            "name": "triton", "ready": ready, "restartCount": restarts, "image": "nvcr.io/nvidia/tritonserver:24.08-vllm-python-py3",
            "imageID": "nvcr.io/nvidia/tritonserver@sha256:4b2c0d5e8f7a9c1b3d5e7f9a1c3e5b7d9f1a3c5e7b9d1f3a5c7e9b1d3f5a7c9e",
            "state": container_state, "started": ready}])
    return {
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": stamp(age_s),
                     "labels": {**APP_LABELS, "pod-template-hash": rs.rsplit("-", 1)[-1]},
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs, "controller": True,
                                          "uid": "00000000-0000-0000-0000-000000000001"}]},
        "spec": {"nodeName": node, "containers": [{
            "name": "triton", "image": "nvcr.io/nvidia/tritonserver:24.08-vllm-python-py3",
            "ports": [{"name": "http", "containerPort": 8000}, {"name": "grpc", "containerPort": 8001},
                      {"name": "metrics", "containerPort": 8002}],
            "resources": {"requests": {"cpu": "4", "memory": "24Gi", "nvidia.com/gpu": str(gpus)},
                          "limits": {"nvidia.com/gpu": str(gpus)}}}],
            "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]},
        "status": status,
    }


def deployment(replicas: int = 2, ready: int = 2) -> dict:
    return {
        "metadata": {"name": RELEASE, "namespace": NAMESPACE, "labels": dict(APP_LABELS), "generation": 3,
                     "creationTimestamp": stamp(86400)},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(APP_LABELS)},
                 "template": {"metadata": {"labels": dict(APP_LABELS)}}},
        "status": {"observedGeneration": 3, "replicas": replicas, "readyReplicas": ready, "updatedReplicas": replicas,
                   "availableReplicas": ready, "unavailableReplicas": max(replicas - ready, 0)},
    }


def replicaset(name: str = f"{RELEASE}-5d9c7b8f6d", replicas: int = 2, ready: int = 2) -> dict:
    return {
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {**APP_LABELS, "pod-template-hash": name.rsplit("-", 1)[-1]},
                     "creationTimestamp": stamp(86400),
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": RELEASE, "controller": True,
                                          "uid": "00000000-0000-0000-0000-000000000002"}]},
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(APP_LABELS)}},
        "status": {"replicas": replicas, "readyReplicas": ready, "availableReplicas": ready},
    }


def hpa(current: int = 2, desired: int = 2, min_replicas: int = 1, max_replicas: int = 4,
        queue_ms: str = "1250m", limited: bool = False) -> dict:
    """An autoscaling/v2 HPA on the chart's custom pods metric (queue time per request)."""
    return {
        "metadata": {"name": RELEASE, "namespace": NAMESPACE, "labels": dict(APP_LABELS), "creationTimestamp": stamp(86400)},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": RELEASE},
            "minReplicas": min_replicas, "maxReplicas": max_replicas,
            "metrics": [
                {"type": "Pods", "pods": {"metric": {"name": "avg_time_queue_ms"},
                                          "target": {"type": "AverageValue", "averageValue": "50"}}},
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 80}}},
            ],
        },
        "status": {
            "currentReplicas": current, "desiredReplicas": desired, "lastScaleTime": stamp(900),
            "currentMetrics": [
                {"type": "Pods", "pods": {"metric": {"name": "avg_time_queue_ms"}, "current": {"averageValue": queue_ms}}},
                {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 37, "averageValue": "1480m"}}},
            ],
            "conditions": [
                {"type": "AbleToScale", "status": "True", "reason": "ReadyForNewScale",
                 "message": "recommended size matches current size", "lastTransitionTime": stamp(900)},
                {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound",
                 "message": "the HPA was able to successfully calculate a replica count from pods metric avg_time_queue_ms",
                 "lastTransitionTime": stamp(3600)},
                {"type": "ScalingLimited", "status": "True" if limited else "False",
                 "reason": "TooManyReplicas" if limited else "DesiredWithinRange",
                 "message": "the desired replica count is more than the maximum replica count" if limited
                 else "the desired count is within the acceptable range", "lastTransitionTime": stamp(900)},
            ],
        },
    }


def event(name: str, reason: str, message: str, obj_kind: str, obj_name: str, type_: str = "Normal",
          ago_s: float = 60, count: int = 1, namespace: str = NAMESPACE) -> dict:
    return {
        "metadata": {"name": name, "namespace": namespace, "creationTimestamp": stamp(ago_s)},
        "involvedObject": {"kind": obj_kind, "name": obj_name, "namespace": namespace},
        "reason": reason, "message": message, "type": type_, "count": count,
        "firstTimestamp": stamp(ago_s + 300), "lastTimestamp": stamp(ago_s),
        "source": {"component": "kubelet" if obj_kind == "Pod" else "horizontal-pod-autoscaler"},
    }


def nodepool(name: str = "gpu", gpu: bool = True) -> dict:
    return {
        "metadata": {"name": name, "creationTimestamp": stamp(86400)},
        "spec": {"template": {"spec": {
            "requirements": [{"key": "node.kubernetes.io/instance-type", "operator": "In",
                              "values": ["g5.xlarge", "g5.2xlarge", "g5.12xlarge", "g5.24xlarge"] if gpu else ["m5.large", "m5.xlarge"]},
                             {"key": "karpenter.sh/capacity-type", "operator": "In", "values": ["spot", "on-demand"]}],
            "taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule"}] if gpu else [],
            "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": name}}},
            "limits": {"cpu": "1000", "nvidia.com/gpu": "8"} if gpu else {"cpu": "100"},
            "disruption": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "300s"}},
        "status": {"resources": {"cpu": "96", "nvidia.com/gpu": "4"} if gpu else {"cpu": "0"},
                   "conditions": [{"type": "Ready", "status": "True", "reason": "Ready", "lastTransitionTime": stamp(86400)}]},
    }


def nodeclaim(name: str, node: str, instance_type: str = "g5.24xlarge", pool: str = "gpu") -> dict:
    return {
        "metadata": {"name": name, "creationTimestamp": stamp(3600 * 5), "labels": {"karpenter.sh/nodepool": pool}},
        "spec": {"requirements": [{"key": "node.kubernetes.io/instance-type", "operator": "In", "values": [instance_type]}],
                 "nodeClassRef": {"group": "karpenter.k8s.aws", "kind": "EC2NodeClass", "name": pool}},
        "status": {"nodeName": node, "providerID": "aws:///us-west-2b/i-0abc", "capacity": {"nvidia.com/gpu": "4"},
                   "conditions": [{"type": "Launched", "status": "True"}, {"type": "Registered", "status": "True"},
                                  {"type": "Initialized", "status": "True"}, {"type": "Ready", "status": "True"}]},
    }


def triton_service() -> dict:
    return {"metadata": {"name": RELEASE, "namespace": NAMESPACE, "labels": dict(APP_LABELS)},
            "spec": {"selector": dict(APP_LABELS), "type": "ClusterIP", "ports": [
                {"name": "http", "port": 8000, "targetPort": "http"}, {"name": "grpc", "port": 8001, "targetPort": "grpc"},
                {"name": "metrics", "port": 8002, "targetPort": "metrics"}]}}


GPU_NODE = "ip-10-0-12-201.us-west-2.compute.internal"
GPU_NODE_SPOT = "ip-10-0-13-77.us-west-2.compute.internal"
CORE_NODES = ("ip-10-0-1-10.us-west-2.compute.internal", "ip-10-0-2-20.us-west-2.compute.internal")
POD_READY = f"{RELEASE}-5d9c7b8f6d-x7k2p"
POD_SPOT = f"{RELEASE}-5d9c7b8f6d-q9m4w"
POD_PENDING = f"{RELEASE}-5d9c7b8f6d-pz8vd"


def realistic_objects(now: dt.datetime | None = None) -> list[tuple[tuple, str | None, dict]]:
    """What the seed blueprint runs: 2 core m5 nodes, GPU nodes from Karpenter, 3 Triton pods (one Pending).

    ``now`` fixes the base of every timestamp (ages become reproducible, e.g. for snapshots).
    """
    global FROZEN_NOW
    FROZEN_NOW = now
    try:
        return _realistic_objects()
    finally:
        FROZEN_NOW = None


def _realistic_objects() -> list[tuple[tuple, str | None, dict]]:
    objs: list[tuple[tuple, str | None, dict]] = [
        (NAMESPACES, None, {"metadata": {"name": NAMESPACE}}),
        (NODES, None, core_node(CORE_NODES[0], "us-west-2a")),
        (NODES, None, core_node(CORE_NODES[1], "us-west-2b")),
        (NODES, None, gpu_node(GPU_NODE)),
        (NODES, None, gpu_node(GPU_NODE_SPOT, "g5.2xlarge", 1, "spot", "us-west-2c", age_s=1200)),
        (PODS, NAMESPACE, triton_pod(POD_READY, GPU_NODE, pod_ip="10.0.12.34")),
        (PODS, NAMESPACE, triton_pod(POD_SPOT, GPU_NODE_SPOT, ready=False, restarts=3, waiting_reason="CrashLoopBackOff",
                                     age_s=1100, pod_ip="10.0.13.5")),
        (PODS, NAMESPACE, triton_pod(POD_PENDING, None, ready=False, phase="Pending", age_s=240)),
        (DEPLOYMENTS, NAMESPACE, deployment(replicas=3, ready=1)),
        (REPLICASETS, NAMESPACE, replicaset(replicas=3, ready=1)),
        (HPAS, NAMESPACE, hpa(current=3, desired=4, max_replicas=4, queue_ms="182", limited=True)),
        (SERVICES, NAMESPACE, triton_service()),
        (NODEPOOLS, None, nodepool("gpu")),
        (NODEPOOLS, None, nodepool("cpu", gpu=False)),
        (NODECLAIMS, None, nodeclaim("gpu-7xk2q", GPU_NODE)),
        (NODECLAIMS, None, nodeclaim("gpu-m4p9z", GPU_NODE_SPOT, "g5.2xlarge")),
        (EVENTS, NAMESPACE, event("pending.1", "FailedScheduling", "0/4 nodes are available: 4 Insufficient nvidia.com/gpu. "
                                  "preemption: 0/4 nodes are available.", "Pod", POD_PENDING, "Warning", ago_s=30, count=7)),
        (EVENTS, NAMESPACE, event("crash.1", "BackOff", "Back-off restarting failed container triton in pod "
                                  f"{POD_SPOT}", "Pod", POD_SPOT, "Warning", ago_s=45, count=12)),
        (EVENTS, NAMESPACE, event("hpa.1", "SuccessfulRescale", "New size: 3; reason: pods metric avg_time_queue_ms above target",
                                  "HorizontalPodAutoscaler", RELEASE, ago_s=900)),
        (EVENTS, NAMESPACE, event("pulled.1", "Pulled", "Successfully pulled image \"nvcr.io/nvidia/tritonserver:24.08-vllm-python-py3\"",
                                  "Pod", POD_READY, ago_s=1700)),
    ]
    return objs


# ---- the running server ---------------------------------------------------------------------


class KubeCluster:
    """A :class:`ClusterEmulator` on 127.0.0.1 in a background thread, driven synchronously from tests."""

    def __init__(self, with_karpenter: bool = True) -> None:
        self.emulator = ClusterEmulator()
        for res, (kind, namespaced) in KINDS.items():
            if res in (NODEPOOLS, NODECLAIMS) and not with_karpenter:
                continue  # a cluster without Karpenter: the CRDs do not exist
            self.declare(res, kind, namespaced)
        self.loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._server: kmock.Server | None = None
        self._thread = threading.Thread(target=self._run, name="kube-cluster", daemon=True)
        self.url = ""

    def declare(self, res: tuple, kind: str, namespaced: bool) -> None:
        """Serve another resource, e.g. ``declare(("", "v1", "persistentvolumeclaims"), "PersistentVolumeClaim", True)``.

        Undeclared resources answer 404, as a real server does for a CRD that is not installed.
        """
        KINDS.setdefault(tuple(res), (kind, namespaced))
        subresources = {"status"} | ({"scale"} if res == DEPLOYMENTS else set()) | ({"log", "portforward"} if res == PODS else set())
        self.emulator.resources[tuple(res)] = kmock.ResourceInfo(
            kind=kind, namespaced=namespaced, subresources=subresources,
            verbs={"list", "watch", "get", "create", "patch", "update", "delete"})

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        async with self.emulator, kmock.Server(self.emulator) as server:
            self._server = server
            self.url = str(server.url).rstrip("/")
            self._ready.set()
            await self._stop.wait()
            await self.emulator.drop_watches()

    def start(self) -> KubeCluster:
        self._thread.start()
        if not self._ready.wait(30):
            raise RuntimeError("the kmock API server did not start within 30 s")
        return self

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)

    def __enter__(self) -> KubeCluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, coro: Any, timeout: float = 30) -> Any:
        """Run a coroutine on the server's loop from the test thread and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    # ---- object helpers (synchronous) ----------------------------------------------------------

    def add(self, res: tuple, obj: dict, namespace: str | None = None) -> dict:
        ns = namespace if namespace is not None else obj.get("metadata", {}).get("namespace")
        return self.call(self.emulator.apply("create", res, ns, obj["metadata"]["name"], obj))

    def patch(self, res: tuple, name: str, changes: dict, namespace: str | None = None) -> dict:
        return self.call(self.emulator.apply("patch", res, namespace, name, changes))

    def delete(self, res: tuple, name: str, namespace: str | None = None) -> dict:
        return self.call(self.emulator.apply("delete", res, namespace, name))

    def get(self, res: tuple, name: str, namespace: str | None = None) -> dict | None:
        obj = self.emulator.store.get((res, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def names(self, res: tuple, namespace: str | None = None) -> list[str]:
        return sorted(n for (r, ns, n) in list(self.emulator.store) if r == res and (namespace is None or ns == namespace))

    def load(self, objects: Iterable[tuple[tuple, str | None, dict]]) -> None:
        for res, ns, obj in objects:
            self.add(res, obj, ns)

    def load_realistic(self, now: dt.datetime | None = None) -> None:
        self.load(realistic_objects(now))
        self.append_log(NAMESPACE, POD_READY, [
            "I1124 21:40:02.000000 1 server.cc:674] +-----------+---------+--------+",
            "I1124 21:40:02.000000 1 server.cc:674] | Model     | Version | Status |",
            "I1124 21:40:02.000000 1 server.cc:674] | llama2    | 1       | READY  |",
            "I1124 21:40:02.000000 1 server.cc:674] | mistral7b | 1       | READY  |",
            "I1124 21:40:02.100000 1 grpc_server.cc:2463] Started GRPCInferenceService at 0.0.0.0:8001",
            "I1124 21:40:02.100000 1 http_server.cc:4692] Started HTTPService at 0.0.0.0:8000",
            "I1124 21:40:02.150000 1 http_server.cc:362] Started Metrics Service at 0.0.0.0:8002",
        ])

    def drop_watches(self) -> int:
        return self.call(self.emulator.drop_watches())

    def compact(self) -> None:
        self.call(self.emulator.compact())

    def append_log(self, namespace: str, pod: str, lines: Iterable[str]) -> None:
        self.call(self.emulator.append_log(namespace, pod, list(lines)))

    def forward_target(self, namespace: str, pod: str, port: int, host: str, target_port: int) -> None:
        """Port-forwards to ``pod:port`` reach the real TCP server at ``host:target_port``."""
        self.emulator.forward_targets[(namespace, pod, port)] = (host, target_port)

    def open_watches(self) -> int:
        return len(self.emulator.watches)

    # ---- clients -------------------------------------------------------------------------------

    def kubeconfig(self, path: Any, context: str = "kmock", user_token: str = "kmock-token") -> str:
        """Write a kubeconfig whose context ``context`` points at this server; returns the path."""
        import yaml

        doc = {"apiVersion": "v1", "kind": "Config", "current-context": context,
               "clusters": [{"name": context, "cluster": {"server": self.url}}],
               "users": [{"name": context, "user": {"token": user_token}}],
               "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": NAMESPACE}}]}
        text = yaml.safe_dump(doc)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        return str(path)

    def api_client(self) -> Any:
        """A plain ``kubernetes.client.ApiClient`` for this server."""
        import kubernetes.client

        configuration = kubernetes.client.Configuration()
        configuration.host = self.url
        configuration.api_key = {"BearerToken": "kmock-token"}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
        return kubernetes.client.ApiClient(configuration)


def wait_until(predicate: Callable[[], Any], timeout: float = 20.0, interval: float = 0.05, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)
