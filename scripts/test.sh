#!/usr/bin/env bash
# Set up (scripts/setup.sh) and run the whole test suite against the real components.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bash "$ROOT/scripts/setup.sh"
cd "$ROOT"
export PATH="$ROOT/.cache/bin:$PATH"
exec "$ROOT/.venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
