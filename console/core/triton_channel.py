"""One lazily made `tritonclient.grpc.aio` client per URL, shared by the admin and stream clients."""

from __future__ import annotations

from tritonclient.grpc import aio as grpcclient


class LazyTritonChannel:
    """Makes the gRPC client on first use and forgets it on close, so the next call reconnects.

    Closing a broken channel never raises: callers close after failures.
    """

    def __init__(self, url: str, timeout_s: float) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._client: grpcclient.InferenceServerClient | None = None

    def _get(self) -> grpcclient.InferenceServerClient:
        if self._client is None:
            self._client = grpcclient.InferenceServerClient(self.url)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                await client.close()
            except Exception:  # noqa: BLE001 - closing a broken channel must not raise
                pass
