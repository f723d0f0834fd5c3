"""One lazily made `tritonclient.grpc.aio` client per URL, shared by the admin and stream clients."""

from __future__ import annotations

import asyncio

from tritonclient.grpc import MAX_GRPC_MESSAGE_SIZE, KeepAliveOptions
from tritonclient.grpc import aio as grpcclient


def channel_args() -> list[tuple[str, int]]:
    """tritonclient's defaults plus two settings that let a console outlive a server restart.

    gRPC shares subchannels between channels to the same target by default, so a fresh
    channel made after a failure inherited the old one's reconnect backoff (up to 120 s) and
    failed fast with the stale "connection refused" although the server was back. Each of our
    channels gets its own subchannel pool, and the backoff stays short (an operator is
    waiting); a stream refused meanwhile waits for the reconnect and retries once
    (streaming.py).
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

    async def reconnected(self, within_s: float) -> bool:
        """True when the server accepts connections again and the channel connects in time.

        A plain TCP probe first: while nothing listens, answer at once instead of waiting out
        the channel's backoff, so a down server still fails every request quickly.
        """
        host, _, port = self.url.rpartition(":")
        if port.isdigit():
            try:
                _reader, writer = await asyncio.wait_for(asyncio.open_connection(host.strip("[]"), int(port)), within_s)
            except (OSError, asyncio.TimeoutError):
                return False
            writer.close()
        try:
            await asyncio.wait_for(self._get()._channel.channel_ready(), within_s)
        except asyncio.TimeoutError:
            return False
        return True

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            try:
                await client.close()
            except Exception:  # noqa: BLE001 - closing a broken channel must not raise
                pass
