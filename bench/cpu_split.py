"""The server on some CPUs of this machine, the client (the console, or `bench`) on others.

In the product the console runs on an operator's machine and Triton on the cluster's GPU nodes:
they never share CPUs. `bench/wide_host.sh` pins the whole stack (server, stubs, client) to two
CPUs, which measures a 2-core machine that also serves the models. ``--client-cpus 0,1`` in the
P2 and P3 scripts measures a client on 2 cores against a server that has its own: the server
starts on every CPU but those, then the client process (every thread, and every process it
starts later: the stream readers, the render helpers) moves to them.
"""

from __future__ import annotations

import os


def parse(cpus: str) -> set[int]:
    """``"0,1"`` -> {0, 1}; an empty string -> no split."""
    return {int(cpu) for cpu in cpus.split(",") if cpu.strip()}


def pin_process(cpus: set[int]) -> None:
    """Every thread of this process, and so what it starts from now on, to ``cpus``."""
    for tid in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(tid), cpus)


def server_side(client: set[int]) -> None:
    """Before starting the server: this process (and so the server it starts) off the client's CPUs."""
    if client:
        others = os.sched_getaffinity(0) - client
        if not others:
            raise SystemExit(f"--client-cpus {sorted(client)} leaves no CPU for the server")
        pin_process(others)


def client_side(client: set[int]) -> None:
    """After the server started: this process to the client's CPUs."""
    if client:
        pin_process(client)


def describe(client: set[int]) -> str:
    return f"client pinned to CPUs {','.join(map(str, sorted(client)))}, the server on the others" if client else ""
