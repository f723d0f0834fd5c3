#!/bin/bash
# P1-P3 on a many-core host, with the whole stack pinned to 2 CPUs and unpinned, alternating:
# separates what our console costs from what 2 shared cores cost (docs/benchmarks.md, "P1-P3 on
# 16 cores"). Used on the lent GPU machine's CPUs (no GPU needed, no internet there).
#   bash bench/wide_host.sh prep       here (PyPI reachable): the wheels, Python 3.12, in .whl/ui1
#                                      (nvidia-pytriton, 55 MB) and .whl/ui2 (the rest, 27 MB)
#   bash bench/wide_host.sh stage      there, call 1 (carry .whl/ui1): keeps ui1 in /tmp/ui
#   bash bench/wide_host.sh run [N]    there, call 2 (carry .whl/ui2): a venv from the wheels, then
#                                      N rounds (default 2) of P1, P2, P3 pinned and unpinned, and the
#                                      Python backend's response ceiling (bench/response_ceiling.py)
#                                      pinned and unpinned once; logs in $OUT (8 files, about 8 minutes)
#   BASE=<commit> bash bench/wide_host.sh base    here: that commit's console/ and bench/ in .base/
#   bash bench/wide_host.sh ab [N]     there, call 2 instead of run (carry .whl/ui2 and .base): N rounds
#                                      (default 2) of P1 and P2 (AB="p1 p2"; add p3 for P3, P3_ARGS its
#                                      flags) for .base and this tree,
#                                      alternating, pinned and unpinned (AB_CPUS="0,1 all"; P2_TOKENS,
#                                      P2_ARGS: P2's --tokens and more flags, e.g. P2_ARGS=--stalls)
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
STAGE=/tmp/ui; VENV=/tmp/ui-venv; OUT=${OUT:-/tmp/wide-out}
PINS="textual==8.2.8 rich==15.0.0 markdown-it-py==4.3.0 mdit-py-plugins==0.7.0 linkify-it-py==2.2.0
 uc-micro-py==2.0.0 mdurl==0.1.2 platformdirs==4.14.8 pygments==2.21.0 typing_extensions==4.16.0
 tritonclient==2.73.0 python-rapidjson==1.25 grpcio==1.85.3 protobuf==6.33.6 numpy==1.26.4
 ml-dtypes==0.5.4 urllib3==2.8.0 packaging==26.3"

prep() {
  local P="--only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 --platform any"
  for n in 2014 1; do P="$P --platform manylinux${n}_x86_64"; done
  for n in 17 24 28 35; do P="$P --platform manylinux_2_${n}_x86_64"; done
  grep -qx /.whl/ "$HERE/.git/info/exclude" 2>/dev/null || echo /.whl/ >> "$HERE/.git/info/exclude"
  rm -rf "$HERE/.whl/ui1" "$HERE/.whl/ui2"
  # shellcheck disable=SC2086
  pip download -q --no-deps $P -d "$HERE/.whl/ui1" nvidia-pytriton==0.7.0
  # shellcheck disable=SC2086
  pip download -q --no-deps $P -d "$HERE/.whl/ui2" $PINS
  du -sh "$HERE"/.whl/ui1 "$HERE"/.whl/ui2
}

base() {
  grep -qx /.base/ "$HERE/.git/info/exclude" 2>/dev/null || echo /.base/ >> "$HERE/.git/info/exclude"
  rm -rf "$HERE/.base" && mkdir -p "$HERE/.base"
  git -C "$HERE" archive "${BASE:?name a commit}" console bench | tar -x -C "$HERE/.base"
  echo "$BASE" > "$HERE/.base/COMMIT"
}

stage() { mkdir -p $STAGE && cp "$HERE"/.whl/ui1/*.whl $STAGE/ && ls -la $STAGE; }

# One bench script under a CPU set ("all" = unpinned); its output goes to $OUT/<name>.log.
one() {  # $1 cpus, $2 log name, rest: script and args
  local cpus=$1 name=$2; shift 2
  echo "== $name ($(date -u +%H:%M:%S) UTC, cpus $cpus) $*" | tee -a "$OUT/$name.log"
  # CPU affinity is inherited: tritonserver, the Python stub and the client all share the set.
  $VENV/bin/python -c 'import os, sys
if sys.argv[1] != "all": os.sched_setaffinity(0, {int(c) for c in sys.argv[1].split(",")})
os.execv(sys.argv[2], sys.argv[2:])' "$cpus" $VENV/bin/python "$@" 2>&1 | tee -a "$OUT/$name.log"
}

venv() {
  mkdir -p "$OUT"
  [ -x $VENV/bin/python ] || {
    python3 -m venv --without-pip $VENV
    python3 -m pip --python $VENV/bin/python install -q --no-index --no-deps --no-compile $STAGE/*.whl "$HERE"/.whl/ui2/*.whl
  }
  cd "$HERE"
  { nproc; lscpu | grep -E "Model name|^CPU\(s\)"; uptime; $VENV/bin/python -VV; } > "$OUT/machine.txt" 2>&1
}

ab() {  # AB="p1 p2" (default) picks the scripts, AB_CPUS="0,1 all" (default) the CPU sets
  local rounds=${1:-2} r cpus tag
  venv
  echo "base: $(cat .base/COMMIT)" | tee -a "$OUT/machine.txt"
  for r in $(seq "$rounds"); do
    for cpus in ${AB_CPUS:-0,1 all}; do
      tag=$([ "$cpus" = all ] && echo all || echo pinned)
      case " ${AB:-p1 p2} " in *" p1 "*)
        one "$cpus" p1-base-$tag .base/bench/p1_ttft_overhead.py --runs 40
        one "$cpus" p1-$tag bench/p1_ttft_overhead.py --runs 40;;
      esac
      case " ${AB:-p1 p2} " in *" p2 "*)
        one "$cpus" p2-base-$tag .base/bench/p2_two_pane_lag.py --rounds 1 --tokens ${P2_TOKENS:-1000} ${P2_ARGS:-}
        one "$cpus" p2-$tag bench/p2_two_pane_lag.py --rounds 1 --tokens ${P2_TOKENS:-1000} ${P2_ARGS:-};;
      esac
      case " ${AB:-p1 p2} " in *" p3 "*)
        one "$cpus" p3-base-$tag .base/bench/p3_bench_accuracy.py ${P3_ARGS:-}
        one "$cpus" p3-$tag bench/p3_bench_accuracy.py ${P3_ARGS:-};;
      esac
    done
  done
}

run() {
  local rounds=${1:-2} r
  venv
  for r in $(seq "$rounds"); do
    one 0,1 p1-pinned bench/p1_ttft_overhead.py --runs 40
    one all p1-all bench/p1_ttft_overhead.py --runs 40
    one 0,1 p2-pinned bench/p2_two_pane_lag.py --rounds 1 --tokens ${P2_TOKENS:-1000} ${P2_ARGS:-}
    one all p2-all bench/p2_two_pane_lag.py --rounds 1 --tokens ${P2_TOKENS:-1000} ${P2_ARGS:-}
    one 0,1 p3-pinned bench/p3_bench_accuracy.py
    one all p3-all bench/p3_bench_accuracy.py
  done
  one 0,1 ceiling bench/response_ceiling.py --procs 2
  one all ceiling bench/response_ceiling.py
}

"$@"
