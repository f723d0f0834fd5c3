#!/usr/bin/env bash
# Set up (scripts/setup.sh), start the real local Triton stack and open the console on it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec "$ROOT/.venv/bin/triton-console" --local "$@"
