"""How much slower is Python through the shared libpython than through the python binary?

vLLM forks its engine core from tritonserver's Python backend stub, which embeds the shared
``libpython3.X.so``; the engine alone runs ``/usr/bin/python3.X``, which Debian and Ubuntu link
statically (and build with other flags). The engine core is one busy Python thread that sets the
decode step rate (P4, docs/benchmarks.md), so the two interpreters' pace on the same pure-Python
work is the question. This times a scheduler-like workload under both, alternating, and prints
the CPU seconds of each round and the median ratio.

    python bench/libpython_speed.py [--python /usr/bin/python3.11] [--libpython PATH]
                                    [--launcher PATH] [--rounds 6] [--json out.json]

``--launcher`` is a prebuilt bench/embedded_python.c (for machines without a C compiler);
otherwise it is built with ``cc`` under .cache/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path(__file__).with_name("embedded_python.c")

# Objects, attribute access, small lists and dicts, a sort with a key: the kind of code vLLM's
# scheduler and output handling run per step. Prints the best CPU time of 7 passes.
WORKLOAD = r"""
import time
class Req:
    __slots__ = ("id", "tokens", "prio")
    def __init__(self, i): self.id, self.tokens, self.prio = i, [], i % 3
def step(reqs, counts):
    out = []
    for r in reqs:
        r.tokens.append(len(r.tokens) * 7 % 32000)
        counts[r.id] = counts.get(r.id, 0) + 1
        if len(r.tokens) > 200:
            r.tokens.clear()
        out.append((r.prio, r.id, r.tokens[-1] if r.tokens else 0))
    out.sort(key=lambda t: (t[0], t[2]))
    return out
def run(steps):
    reqs, counts = [Req(i) for i in range(64)], {}
    t = time.process_time()
    for _ in range(steps):
        step(reqs, counts)
    return time.process_time() - t
print(min(run(6000) for _ in range(7)))
"""


def libpython_of(python: str) -> str:
    """The shared libpython that belongs to ``python`` (its LIBDIR and LDLIBRARY)."""
    code = "import sysconfig as s, os; print(os.path.join(s.get_config_var('LIBDIR'), s.get_config_var('INSTSONAME') or s.get_config_var('LDLIBRARY')))"
    path = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    if not os.path.exists(path):
        raise SystemExit(f"{python} has no shared libpython at {path}; pass --libpython")
    return path


def build_launcher() -> str:
    out = ROOT / ".cache" / "embedded_python"
    if not out.exists() or out.stat().st_mtime < SOURCE.stat().st_mtime:
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            raise SystemExit("no C compiler: pass --launcher with a prebuilt bench/embedded_python.c")
        out.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([cc, "-O2", "-o", str(out), str(SOURCE), "-ldl"], check=True)
    return str(out)


def links_libpython(binary: str) -> bool:
    """Whether ``binary`` itself loads a shared libpython (then both sides would be the same)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return False
    return "libpython" in subprocess.run([ldd, binary], capture_output=True, text=True).stdout


def best_pass_cpu_seconds(command: list[str], env: dict[str, str]) -> float:
    run = subprocess.run([*command, "-c", WORKLOAD], capture_output=True, text=True, env=env)
    if run.returncode != 0:
        raise SystemExit(f"{command[0]} failed: {run.stderr.strip()[-400:]}")
    return float(run.stdout.strip())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=os.path.realpath(shutil.which("python3") or sys.executable))
    ap.add_argument("--libpython", help="default: the python's own shared libpython")
    ap.add_argument("--launcher", help="prebuilt bench/embedded_python.c; default: build it with cc")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--json")
    args = ap.parse_args()
    libpython = args.libpython or libpython_of(args.python)
    launcher = args.launcher or build_launcher()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    shared_env = {**env, "LIBPYTHON": libpython}
    print(f"[libpython] binary {args.python} (links a shared libpython: {links_libpython(args.python)}); shared {libpython}")
    static, shared = [], []
    for n in range(args.rounds):  # alternate, so drift in the machine's speed hits both sides
        first, second = ((static, [args.python], env), (shared, [launcher], shared_env))[:: 1 if n % 2 == 0 else -1]
        for times, command, command_env in (first, second):
            times.append(best_pass_cpu_seconds(command, command_env))
    ratio = statistics.median(shared) / statistics.median(static)
    print(f"[libpython] CPU ms per pass, binary: {', '.join(f'{t * 1000:.0f}' for t in static)}")
    print(f"[libpython] CPU ms per pass, shared: {', '.join(f'{t * 1000:.0f}' for t in shared)}")
    print(f"[libpython] shared / binary (medians): {ratio:.3f}")
    if args.json:
        Path(args.json).write_text(json.dumps({"python": args.python, "libpython": libpython, "binary_s": static,
                                               "shared_s": shared, "ratio": ratio}, indent=1))


if __name__ == "__main__":
    main()
