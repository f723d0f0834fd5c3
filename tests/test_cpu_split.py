"""bench/cpu_split.py: the server starts off the client's CPUs, then the client moves onto them.

Runs in a child Python (pinning this test process would pin the rest of the suite): it splits,
starting a process at each side, and every thread of it reports its CPUs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import cpu_split

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, os, subprocess, sys, threading
from bench import cpu_split

def started() -> list[int]:  # the CPUs of a process started now
    out = subprocess.run([sys.executable, "-c", "import os; print(sorted(os.sched_getaffinity(0)))"], capture_output=True, text=True)
    return json.loads(out.stdout)

waiting = threading.Event()
worker = threading.Thread(target=waiting.wait, daemon=True)  # a thread that exists before the split
worker.start()
client = cpu_split.parse(sys.argv[1])
cpu_split.server_side(client)
server = started()
cpu_split.client_side(client)
threads = {int(tid): sorted(os.sched_getaffinity(int(tid))) for tid in os.listdir("/proc/self/task")}
waiting.set()
print(json.dumps({"server": server, "client": started(), "threads": list(threads.values())}))
"""


def split(client: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", CHILD, client], cwd=ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two CPUs to split")
def test_the_server_starts_off_the_client_cpus_and_the_client_moves_onto_them():
    cpus = sorted(os.sched_getaffinity(0))
    done = split(str(cpus[0]))
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["server"] == cpus[1:]
    assert seen["client"] == [cpus[0]]
    assert len(seen["threads"]) >= 2 and all(thread == [cpus[0]] for thread in seen["threads"])


def test_no_split_and_no_cpu_left_for_the_server():
    assert cpu_split.parse("") == set() and cpu_split.parse("0, 1") == {0, 1}
    done = split(",".join(map(str, sorted(os.sched_getaffinity(0)))))
    assert done.returncode != 0 and "leaves no CPU for the server" in done.stderr
