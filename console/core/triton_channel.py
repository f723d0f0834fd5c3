"""One lazily made `tritonclient.grpc.aio` client per URL, shared by the admin and stream clients."""

from __future__ import annotations

from tritonclient.grpc import MAX_GRPC_MESSAGE_SIZE, KeepAliveOptions
from tritonclient.grpc import aio as grpcclient


def channel_args() -> list[tuple[str, int]]:
    """tritonclient's defaults plus two settings that let a console outlive a server restart.

    gRPC shares subchannels between channels to the same target by default, so a fresh
    channel made after a failure inherited the old one's reconnect backoff (up to 120 s) and
    failed fast with the stale "connection refused" although the server was back. Each of our
    channels gets its own subchannel pool, and the backoff stays short (an operator is
    waiting): at most 2 s after the server is back, requests reach it.
    """
    keepalive = KeepAliveOptions()
    return [
        ("grpc.max_send_message_length", MAX_GRPC_MESSAGE_SIZE),
        ("grpc.max_receive_message_length", MAX_GRPC_MESSAGE_SIZE),
        ("grpc.keepalive_time_ms", keepalive.keepalive_time_ms),
        ("grpc.keepalive_timeout_ms", keepalive.keepalive_timeout_ms),
        ("grpc.keepalive_permit_without_calls", keepalive.keepalive_permit_without_calls),
        ("grpc.http2.max_pings_without_data", keepalive.http2_max_pings_without_data),
        ("grpc.use_local_subchannel_pool", 1),
        ("grpc.initial_reconnect_backoff_ms", 250),
        ("grpc.min_reconnect_backoff_ms", 250),
        ("grpc.max_reconnect_backoff_ms", 2000),
    ]


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
            self._client = grpcclient.InferenceServerClient(self.url, channel_args=channel_args())
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                await client.close()
            except Exception:  # noqa: BLE001 - closing a broken channel must not raise
                pass
