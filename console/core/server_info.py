"""What a Triton server serves: liveness, version, the repository index and model configs.

The app shell polls this; `triton-console local` uses it to report what is ready. Errors come
back as data (``ServerStatus.error``) so a down server never raises into a poll loop.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from tritonclient.utils import InferenceServerException

from console.core.triton_channel import LazyTritonChannel


@dataclass(frozen=True)
class ModelStatus:
    name: str
    version: str
    state: str  # READY, UNAVAILABLE, LOADING, UNLOADING, or "" when never loaded
    reason: str = ""

    @property
    def ready(self) -> bool:
        return self.state == "READY"


@dataclass
class ServerStatus:
    url: str
    live: bool = False
    ready: bool = False
    version: str = ""
    models: list[ModelStatus] = field(default_factory=list)
    error: str | None = None

    @property
    def ready_models(self) -> list[str]:
        return [m.name for m in self.models if m.ready]


def describe_error(exc: BaseException) -> str:
    """One line an operator can act on, from a gRPC/Triton exception."""
    text = str(exc.message() if isinstance(exc, InferenceServerException) else exc) or type(exc).__name__
    text = text.replace("\n", " ").strip()
    if "StatusCode.UNAVAILABLE" in text or "failed to connect" in text.lower() or "Connection refused" in text:
        return "server unreachable (is tritonserver running? try `triton-console local`)"
    if isinstance(exc, asyncio.TimeoutError):
        return "server did not answer in time"
    return text[:300]


class TritonAdmin(LazyTritonChannel):
    """A long-lived gRPC client for the non-inference calls (one per URL)."""

    def __init__(self, url: str, timeout_s: float = 5.0) -> None:
        super().__init__(url, timeout_s)

    async def status(self) -> ServerStatus:
        status = ServerStatus(url=self.url)
        client = self._get()
        try:
            status.live = await asyncio.wait_for(client.is_server_live(), self.timeout_s)
            status.ready = await asyncio.wait_for(client.is_server_ready(), self.timeout_s)
            meta = await asyncio.wait_for(client.get_server_metadata(as_json=True), self.timeout_s)
            status.version = str(meta.get("version", ""))
            index = await asyncio.wait_for(client.get_model_repository_index(as_json=True), self.timeout_s)
            status.models = sorted(
                (
                    ModelStatus(
                        name=m.get("name", ""),
                        version=str(m.get("version", "")),
                        state=m.get("state", ""),
                        reason=m.get("reason", ""),
                    )
                    for m in index.get("models", [])
                ),
                key=lambda m: m.name,
            )
        except (InferenceServerException, asyncio.TimeoutError, OSError) as exc:
            status.error = describe_error(exc)
            await self.close()  # a fresh channel next time reconnects cleanly
        return status

    async def model_config(self, name: str) -> dict[str, Any]:
        cfg = await asyncio.wait_for(self._get().get_model_config(name, as_json=True), self.timeout_s)
        return cfg.get("config", cfg)


def config_parameters(config: dict[str, Any]) -> dict[str, str]:
    """config.pbtxt `parameters` as plain strings."""
    params = config.get("parameters", {}) or {}
    # protobuf's JSON leaves out an empty string_value entirely: that is "", not "{}"
    return {k: str(v.get("string_value", "")) if isinstance(v, dict) else str(v) for k, v in params.items()}
