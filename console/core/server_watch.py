"""Bring the local tritonserver back when it dies on its own.

Tritonserver 2.51 (the local stack's, from nvidia-pytriton 0.7.0) can crash with signal 11 in
its gRPC request cancellation when a client stops a stream (README, "Known upstream crash").
The console started that server, so it starts it again on the same ports and repository
instead of leaving every pane failing; clients reconnect by themselves. A thread polls the
process; each crash and restart is reported as one line, and the crashed server's log is kept
beside the new one. After ``max_restarts`` it gives up and says so.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from console.core.tritonserver import TritonServer, TritonServerError


class ServerWatch:
    """Watches ``server`` from a daemon thread; :meth:`stop` before stopping the server."""

    def __init__(
        self,
        server: TritonServer,
        report: Callable[[str], None],
        max_restarts: int = 3,
        poll_s: float = 0.5,
        ready_timeout_s: float = 600.0,
    ) -> None:
        self.server = server
        self.report = report
        self.max_restarts = max_restarts
        self.poll_s = poll_s
        self.ready_timeout_s = ready_timeout_s
        self.restarts = 0
        self.gave_up = threading.Event()  # set when the server is down for good
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tritonserver-watch", daemon=True)

    def start(self) -> ServerWatch:
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        """No restart from now on (a restart under way stops waiting for readiness)."""
        self._stopping.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while not self._stopping.wait(self.poll_s):
            if self.server.alive() or self._stopping.is_set():
                continue
            if not self._restart():
                if not self._stopping.is_set():  # a stop during a restart is not giving up
                    self.gave_up.set()
                return

    def _restart(self) -> bool:
        code = self.server.process.returncode if self.server.process else None
        if self.restarts >= self.max_restarts:
            self.report(f"tritonserver exited (code {code}) and is not restarted: {self.restarts} restarts already")
            return False
        self.restarts += 1
        try:
            kept = start_again(self.server, f"{self.restarts}")
        except TritonServerError as exc:
            self.report(f"tritonserver exited (code {code}) and could not be started again: {exc}")
            return False
        self.report(
            f"tritonserver exited (code {code}); starting it again ({self.restarts} of {self.max_restarts})"
            + (f", its log kept at {kept}" if kept else "")
        )
        try:
            ready_s = self.server.wait_ready(self.ready_timeout_s, give_up=self._stopping.is_set)
        except TritonServerError:
            if self._stopping.is_set():
                return False
            if not self.server.alive():
                self.report("tritonserver exited again while starting")
                return self._restart()
            self.report(f"tritonserver not ready {self.ready_timeout_s:.0f} s after its restart")
            return True  # still running: keep watching it
        self.report(f"tritonserver is back on the same ports after {ready_s:.1f} s")
        return True


def start_again(server: TritonServer, tag: str) -> str | None:
    """Start a dead ``server`` again on its ports and repository (not waiting for readiness);
    its log so far is kept as ``<log>.crashed-<time>-<tag>`` and returned."""
    kept = None
    log = server.log_file
    if log is not None and log.is_file():
        target = log.with_name(f"{log.stem}.crashed-{time.strftime('%Y%m%d-%H%M%S')}-{tag}{log.suffix}")
        log.rename(target)
        kept = str(target)
    server.process = None
    server.start()
    return kept
