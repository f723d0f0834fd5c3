"""What an operator does to the selected row: describe it, tail its logs, delete a pod, scale.

Each call has a request timeout and raises :class:`ActionError` with a message fit for a
notification. Destructive calls (``delete_pod``, ``scale_deployment``) do exactly one thing;
asking for confirmation is the caller's job (:func:`plan_delete_pod`/:func:`plan_scale` say
what will happen, in words).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any

from console.core.kube.watch import DEPLOYMENTS, EVENTS, HPAS, NODECLAIMS, NODEPOOLS, NODES, PODS, REPLICASETS, Resource

TIMEOUT = (10.0, 30.0)
RESOURCES = {r.key: r for r in (NODES, PODS, DEPLOYMENTS, REPLICASETS, HPAS, EVENTS, NODEPOOLS, NODECLAIMS)}


class ActionError(Exception):
    """An action failed; the message says what and why."""


def _call(api_client: Any, method: str, path: str, query: list | None = None, body: Any = None,
          content_type: str = "application/json", timeout: Any = TIMEOUT, stream: bool = False) -> Any:
    from kubernetes.client.exceptions import ApiException

    headers = {"Accept": "application/json, */*"}
    if body is not None:
        headers["Content-Type"] = content_type
    try:
        return api_client.call_api(path, method, query_params=query or [], header_params=headers, body=body,
                                   auth_settings=["BearerToken"], _preload_content=False, _return_http_data_only=True,
                                   _request_timeout=timeout)
    except ApiException as exc:
        message = exc.reason or ""
        try:
            message = json.loads(exc.body or "{}").get("message") or message
        except (ValueError, AttributeError):
            pass
        raise ActionError(f"HTTP {exc.status}: {message}") from None
    except Exception as exc:  # noqa: BLE001 - network errors: one clear line
        raise ActionError(f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}") from None


def _object_path(resource: Resource, namespace: str, name: str) -> str:
    return f"{resource.path(namespace)}/{name}"


def get_object(api_client: Any, kind: str, name: str, namespace: str = "") -> dict:
    response = _call(api_client, "GET", _object_path(RESOURCES[kind], namespace, name))
    try:
        return json.loads(response.data)
    finally:
        response.release_conn()


def describe(api_client: Any, kind: str, name: str, namespace: str = "") -> str:
    """The object as YAML (managedFields dropped: noise to an operator)."""
    import yaml

    obj = get_object(api_client, kind, name, namespace)
    (obj.get("metadata") or {}).pop("managedFields", None)
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, width=120)


def plan_delete_pod(name: str, namespace: str) -> str:
    return (f"Delete pod {namespace}/{name}. Its Deployment starts a replacement; requests on this pod "
            "are cut and its GPU is released.")


def delete_pod(api_client: Any, name: str, namespace: str) -> None:
    response = _call(api_client, "DELETE", _object_path(PODS, namespace, name))
    response.data  # noqa: B018 - read it all, or the pooled connection carries the leftovers
    response.release_conn()


def plan_scale(name: str, namespace: str, current: int, replicas: int, hpa_min: int | None = None,
               hpa_max: int | None = None) -> str:
    text = f"Scale deployment {namespace}/{name} from {current} to {replicas} replicas."
    if replicas > current:
        text += f" Each new replica asks for a GPU: Karpenter may launch {replicas - current} more GPU node(s)."
    elif replicas == 0:
        text += " Nothing will serve requests."
    if hpa_min is not None and hpa_max is not None and not hpa_min <= replicas <= hpa_max:
        text += f" The HPA keeps it within {hpa_min}..{hpa_max} and will undo this."
    return text


def scale_deployment(api_client: Any, name: str, namespace: str, replicas: int) -> int:
    if replicas < 0:
        raise ActionError("replicas cannot be negative")
    path = _object_path(DEPLOYMENTS, namespace, name) + "/scale"
    response = _call(api_client, "PATCH", path, body={"spec": {"replicas": replicas}},
                     content_type="application/merge-patch+json")
    try:
        return int((json.loads(response.data).get("spec") or {}).get("replicas", replicas))
    finally:
        response.release_conn()


class LogTail:
    """``kubectl logs --tail N [-f]`` for one pod: iterate lines; ``close()`` stops a follow."""

    def __init__(self, api_client: Any, name: str, namespace: str, tail_lines: int = 200, follow: bool = False,
                 container: str = "", idle_timeout_s: float = 300.0) -> None:
        query = [("tailLines", str(tail_lines)), ("follow", "true" if follow else "false")]
        if container:
            query.append(("container", container))
        self._response = _call(api_client, "GET", _object_path(PODS, namespace, name) + "/log", query,
                               timeout=(10.0, idle_timeout_s if follow else 30.0))
        self._closed = threading.Event()

    def lines(self) -> Iterator[str]:
        buffer = b""
        try:
            for chunk in self._response.stream(amt=None, decode_content=True):
                if self._closed.is_set():
                    return
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    yield line.decode("utf-8", "replace")
            if buffer:
                yield buffer.decode("utf-8", "replace")
        except Exception as exc:  # noqa: BLE001 - a cut stream ends the tail, with a reason
            if not self._closed.is_set():
                yield f"[log stream ended: {type(exc).__name__}]"
        finally:
            self._response.close()  # a follow may end mid-stream: never pool a half-read connection
            self._response.release_conn()

    def close(self) -> None:
        self._closed.set()
        try:
            self._response.shutdown()
        except Exception:  # noqa: BLE001
            pass
