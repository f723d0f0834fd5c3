"""CPU placement for P4's pinned sides (docs/benchmarks.md, GPU proof section 8).

py-spy showed both sides' vLLM engine-core processes equally busy (one CPU each) doing the same
work per sample, yet the Triton side's core made ~15-20 % fewer decode steps per second: as if it
ran on a slower CPU. The Triton side keeps more processes busy (tritonserver, the stub's threads,
eight client processes), and any of them can land on the core's CPU or its hyperthread sibling.
A pinned side gives its engine core one physical core of its own (every thread of the core
process on that core's CPUs) and moves every other process of the machine off it, for the
duration of that side's run; then every thread gets its own placement back.
"""

from __future__ import annotations

import contextlib
import os

from spy import engine_core_pid


def sibling_groups() -> list[list[int]]:
    """The machine's physical cores, each as the CPUs (hyperthreads) it holds, usable ones only."""
    usable, groups = os.sched_getaffinity(0), {}
    for cpu in sorted(usable):
        path = f"/sys/devices/system/cpu/cpu{cpu}/topology/thread_siblings_list"
        try:
            text = open(path).read().strip()
        except OSError:
            text = str(cpu)
        siblings = []
        for part in text.split(","):
            lo, _, hi = part.partition("-")
            siblings += range(int(lo), int(hi or lo) + 1)
        groups[tuple(sorted(c for c in siblings if c in usable))] = None
    return [list(g) for g in groups]


def _threads(pid: int) -> list[int]:
    try:
        return [int(tid) for tid in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return []


def _set(pid: int, cpus: set[int]) -> None:
    """Every thread of ``pid`` onto ``cpus`` (sched_setaffinity moves one thread at a time)."""
    for tid in _threads(pid):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(tid, cpus)


def _user_pids() -> list[int]:
    """Every process with a command line (kernel threads have none)."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if fh.read(1):
                    out.append(int(pid))
        except OSError:
            continue
    return out


class Pinning:
    """One physical core reserved for the measured side's engine core (the last one: CPU 0's core
    takes more interrupts); every other process on the remaining CPUs while it runs."""

    def __init__(self) -> None:
        groups = sibling_groups()
        if len(groups) < 2:
            raise RuntimeError("pinning needs at least two physical cores")
        self.all = set(os.sched_getaffinity(0))
        self.reserved = set(groups[-1])
        self.rest = self.all - self.reserved
        self.threads_per_core = max(len(g) for g in groups)

    def describe(self) -> str:
        return (f"engine core on CPUs {sorted(self.reserved)} (one physical core, {self.threads_per_core} "
                f"thread(s) per core), every other process on the other {len(self.rest)} CPUs")

    @contextlib.contextmanager
    def hold(self, frontend: int, pids: list[int] | None = None):
        """While inside: ``frontend``'s engine core alone on the reserved core; ``pids`` (default:
        every process of the machine) off it."""
        core = engine_core_pid(frontend)
        if core is None:
            raise RuntimeError(f"no engine core under pid {frontend}")
        pids = _user_pids() if pids is None else pids
        before = {}  # every thread's own placement, given back afterwards (a model may pin its core)
        for pid in pids:
            for tid in _threads(pid):
                with contextlib.suppress(OSError):
                    before[tid] = os.sched_getaffinity(tid)
            _set(pid, self.rest)
        _set(core, self.reserved)
        try:
            yield core
        finally:
            for tid, cpus in before.items():
                with contextlib.suppress(OSError):
                    os.sched_setaffinity(tid, cpus)
            for pid in pids:  # threads started meanwhile: their process's main thread's placement
                for tid in _threads(pid):
                    if tid not in before:
                        with contextlib.suppress(OSError):
                            os.sched_setaffinity(tid, before.get(pid, self.all))
