"""Where a serving process's time goes while P4 runs: py-spy recordings of the front end (the
Python backend stub, or the engine alone's own process) and of its vLLM engine-core process,
with each thread's CPU from /proc over the same seconds (P4, docs/benchmarks.md section 8).
Summaries of py-spy's raw (collapsed-stack) files, per thread and per function:

    python bench/gpu/spy.py FILE.txt [--rate 100 --seconds 8] [--top 25]

With ``--gil`` recordings (only the thread holding the GIL is sampled), samples / (rate x seconds)
is the share of the time the interpreter's lock was held: near 1.0, one Python interpreter is the
bound of that process.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import re
import subprocess
import time

_LOCATION = re.compile(r" \((?:.*/)?([^/]+:\d+)\)")


def frame_name(frame: str) -> str:
    """'fn (/long/path/file.py:12)' -> 'fn (file.py:12)'."""
    return _LOCATION.sub(r" (\1)", frame)


def summarize(path: str, rate: float | None = None, seconds: float | None = None, top: int = 25) -> dict:
    """Samples per thread, per innermost frame ('own') and per frame anywhere on the stack."""
    threads: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    with open(path) as fh:
        for line in fh:
            stack, _, count = line.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            n, frames = int(count), stack.split(";")
            total += n
            threads[frames[0]] += n
            names = [frame_name(f) for f in frames[1:]]
            if names:
                own[names[-1]] += n
            for name in set(names):
                inclusive[name] += n
    thread_names = {}
    for root in threads:  # 'thread (1234): outbox-0' or 'process 1234:"..."' roots
        tid, _, name = root.partition("): ")
        if tid.startswith("thread (") and tid[8:].isdigit():
            thread_names[int(tid[8:])] = name
    out = {"samples": total, "threads": threads.most_common(top), "own": own.most_common(top),
           "inclusive": inclusive.most_common(top), "thread_names": thread_names}
    if rate and seconds:
        out["share_of_time"] = total / (rate * seconds)
    return out


def _cmdline(pid: str) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().decode(errors="replace").split("\0")
    except OSError:
        return []


def stub_pid(model: str) -> int | None:
    """The Python backend stub serving ``model`` (its command line names the instance MODEL_0_0)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        args = _cmdline(pid)
        if args and args[0].endswith("triton_python_backend_stub") and f"{model}_0_0" in args:
            return int(pid)
    return None


def engine_core_pid(parent: int) -> int | None:
    """vLLM's engine-core child of ``parent`` (its process title says EngineCore)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as fh:
                ppid = int(fh.read().rpartition(")")[2].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if ppid == parent and "EngineCore" in " ".join(_cmdline(pid)):
            return int(pid)
    return None


def thread_ticks(pid: int) -> dict[int, tuple[str, int]]:
    """Each thread's name and CPU time so far (user + system, clock ticks)."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as fh:
                head, _, rest = fh.read().rpartition(")")
            fields = rest.split()
            out[int(tid)] = (head.partition("(")[2], int(fields[11]) + int(fields[12]))
        except (OSError, ValueError, IndexError):
            continue
    return out


def thread_cpu(before: dict, after: dict, seconds: float, names: dict | None = None, top: int = 8) -> list[tuple[str, float]]:
    """The busiest threads between two :func:`thread_ticks`, as shares of one CPU (named as py-spy
    saw them when it did)."""
    tick, names = os.sysconf("SC_CLK_TCK"), names or {}
    busy = [(f"{names.get(t, after[t][0])} ({t})", (after[t][1] - before.get(t, (None, 0))[1]) / tick / seconds) for t in after]
    return sorted(busy, key=lambda kv: -kv[1])[:top]


def profile(py_spy: str, label: str, frontend: int, seconds: float, out_dir: str, rate: int = 100) -> dict:
    """Record the front end (GIL holders only) and its engine core (busy threads) for ``seconds``."""
    core = engine_core_pid(frontend)
    procs = {"frontend": frontend, **({"core": core} if core else {})}
    before = {role: thread_ticks(pid) for role, pid in procs.items()}
    placed = {role: sorted(os.sched_getaffinity(pid)) for role, pid in procs.items()}  # the main thread's CPUs
    runs = {}
    for role, pid in procs.items():
        path = os.path.join(out_dir, f"{label}-{role}.txt".replace(" ", "_").replace("=", ""))
        cmd = [py_spy, "record", "-p", str(pid), "-d", str(int(seconds)), "-r", str(rate), "--format", "raw",
               "-o", path, "--threads", "--nonblocking", *(["--gil"] if role == "frontend" else [])]
        runs[role] = (path, subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    t0 = time.monotonic()
    out: dict = {"pids": procs}
    for role, (path, proc) in runs.items():
        _, err = proc.communicate(timeout=seconds + 60)
        out[role] = summarize(path, rate, int(seconds), top=15) if os.path.exists(path) else {"error": err[-600:]}
    took = time.monotonic() - t0
    for role, pid in procs.items():
        out[role]["thread_cpu"] = thread_cpu(before[role], thread_ticks(pid), took, out[role].get("thread_names"))
        out[role]["cpus"] = placed[role]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--rate", type=float)
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = summarize(args.file, args.rate, args.seconds, args.top)
    if args.json:
        print(json.dumps(out, indent=1))
        return 0
    print(f"samples {out['samples']}" + (f", share of time {out['share_of_time']:.2f}" if "share_of_time" in out else ""))
    for key in ("threads", "own", "inclusive"):
        print(f"== {key}")
        for name, n in out[key]:
            print(f"{n:7d} {100 * n / max(1, out['samples']):5.1f}%  {name[:160]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
