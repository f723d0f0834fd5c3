#!/bin/bash
# The GPU proof, on the lent GPU machine (see docs/benchmarks.md, "GPU proof").
#   bash bench/gpu/device.sh setup    unpack the carried bundle, build the models, start tritonserver
#                                     with our model_repository on vLLM (left running, setsid)
#   bash bench/gpu/device.sh measure  behaviour checks, triton-console chat and bench
#   bash bench/gpu/device.sh metrics  do model.py's vllm:* metrics move by what 8 clients per model saw?
#   bash bench/gpu/device.sh prepare  unpack and build the models only (no tritonserver: for `study`)
#   bash bench/gpu/device.sh study    decode_study.py: where a single-stream decode step goes (STUDY_ARGS)
#   bash bench/gpu/device.sh libpython  bench/libpython_speed.py: the same Python code through the python
#                                     binary and through its shared libpython (the stub's); needs only
#                                     bundle part 1's prebuilt launcher, so it can run in the first call
#   bash bench/gpu/device.sh p4       P4 (side by side with the engine alone, roofline), /metrics; stops it
#                                     (P4_EXTRA="" skips the engine-only roofline contrasts; P4_ARGS adds
#                                     p4.py flags, e.g. "--mode wave" for the one-burst figures; with
#                                     py-spy in the bundle, the last repetition at the top concurrency is
#                                     profiled: bench/gpu/spy.py)
# Needs the bundle parts in $PARTS (default /tmp/p; bench/gpu/prep.sh makes them). Results in $OUT.
set -o pipefail
G=$(cd "$(dirname "$0")" && pwd); SRC=$(cd "$G/../.." && pwd)
PARTS=${PARTS:-/tmp/p}; OUT=${OUT:-/tmp/proof-out}; mkdir -p "$OUT"
T=/tmp/tri; REPO=/tmp/repo; MODELS=/tmp/models; ENVF=/tmp/proof.env; LOG=/tmp/tritonserver.log
export PYTHONUNBUFFERED=1 VLLM_USE_FLASHINFER_SAMPLER=0 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
now() { python3 -c 'import time; print(f"{time.time():.1f}")'; }
since() { python3 -c "print(round($(now) - $1, 1))"; }

unpack() {
  local t0; t0=$(now)
  cat "$PARTS"/bundle.part.* > /tmp/bundle.tar && tar -C /tmp -xf /tmp/bundle.tar || return 1
  for d in site tri cli np1; do mkdir -p /tmp/$d
    if command -v xz >/dev/null; then tar -C /tmp/$d -xJf /tmp/$d.tar.xz || return 1
    else python3 -c "import tarfile,sys; tarfile.open(sys.argv[1]).extractall(sys.argv[2], filter='fully_trusted')" /tmp/$d.tar.xz /tmp/$d || return 1; fi
  done
  rm -f /tmp/bundle.tar /tmp/*.tar.xz "$PARTS"/bundle.part.*
  local w; for w in "$PARTS"/py_spy-*.whl; do [ -f "$w" ] || continue  # the profiler, for p4's --spy
    python3 -c "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1]); open('/tmp/py-spy', 'wb').write(z.read(next(n for n in z.namelist() if n.endswith('/scripts/py-spy'))))" "$w" \
      && chmod +x /tmp/py-spy && echo "[setup] py-spy $(/tmp/py-spy --version)"; done
  echo "[setup] unpacked in $(since "$t0")s"
}

# Our model_repository, pointed at the local models; committed configs stay untouched.
# VARIANT_PY=path/model.py also serves llama2's config with that model.py as llama2_variant (P4 A/B;
# bench/gpu/variants/*.patch are the variants tried, each against the model.py of the commit that
# docs/benchmarks.md names for it (outbox/interval 6905b79, spawn c2f668b, switchinterval 6bc8f8e, gcstats/gcfreeze
# f787998, ttfttrace ebfab1d: the Outbox with priorities; R3 ran it against f3bf0ee): here,
# `git show BASE:model_repository/llama2/1/model.py > /tmp/m.py && patch -o bench/gpu/variant.py
# /tmp/m.py bench/gpu/variants/NAME.patch`, then VARIANT_PY=$PWD/bench/gpu/variant.py).
# VARIANT_SET="llama2_variant.KEY=VALUE ..." sets config parameters of the clone instead (or too),
# e.g. VARIANT_SET=llama2_variant.engine_start=spawn with spawn.patch's model.py.
# VARIANTS="llama2_NAME=path/model.py ..." serves several clones at once (each llama2_*; P4 measures each).
# PIN_CORES=1 pins llama2's engine core to the last physical core, mistral7b's to the one before, each
# VARIANTS clone's to the next one down (engine_core_cpus; VARIANT_SET="llama2_x.engine_core_cpus=" clears one).
make_repo() {  # $1: llama2 enforce_eager
  local clone=() v pins=()
  [ -n "${VARIANT_PY:-}" ] && clone=(--clone "llama2_variant=llama2:$VARIANT_PY")
  for v in ${VARIANTS:-}; do clone+=(--clone "${v%%=*}=llama2:${v#*=}"); done
  if [ "${PIN_CORES:-0}" = 1 ]; then  # each model's vLLM engine core on a physical core of its own (P4 section 8)
    local names=(llama2 mistral7b) c
    for v in ${VARIANTS:-}; do names+=("${v%%=*}"); done
    mapfile -t cores < <(cd "$G" && python3 -c 'from pinning import sibling_groups as g; [print(",".join(map(str, c))) for c in reversed(g())]')
    for c in "${!names[@]}"; do pins+=("${names[$c]}.engine_core_cpus=${cores[$c]}"); done
  fi
  PYTHONPATH=/tmp/cli python3 "$G/make_repo.py" "$SRC/model_repository" $REPO "${clone[@]}" \
    llama2.model=$MODELS/llama-1b llama2.engine=vllm llama2.dtype=bfloat16 llama2.max_model_len=8192 \
    llama2.gpu_memory_utilization=0.2 llama2.enforce_eager="$1" llama2.cuda_visible_devices=0 llama2.max_num_seqs=64 \
    mistral7b.model=$MODELS/mistral-tiny mistral7b.engine=vllm mistral7b.dtype=bfloat16 mistral7b.max_model_len=2048 \
    mistral7b.max_prompt_tokens=1536 mistral7b.gpu_memory_utilization=0.1 mistral7b.enforce_eager=true \
    mistral7b.cuda_visible_devices=0 mistral7b.max_num_seqs=64 "${pins[@]}" ${VARIANT_SET:-} || return 1
  for v in ${SKIP_MODELS:-}; do rm -rf "${REPO:?}/$v"; done  # e.g. SKIP_MODELS=mistral7b: a P4-only run loads faster
}

# The stub runs numpy 1.26 (/tmp/np1: pytriton's stub garbles BYTES under numpy 2), but the image's
# scipy/sklearn/pandas are built for numpy 2 and transformers imports them when present: the stub
# gets a view of the image's site-packages without them (as if not installed).
site_view() {
  local sp=$1 v=/tmp/sp-view
  rm -rf $v; mkdir -p $v
  for f in "$sp"/*; do case "$(basename "$f")" in scipy|scipy-*|scipy.libs|sklearn|scikit_learn*|pandas|pandas-*|pandas.libs) ;; *) ln -s "$f" $v/ ;; esac; done
  echo $v
}

start_server() {
  local sp pylib ports t0
  sp=$(site_view "$(python3 -c 'import site; print(site.getsitepackages()[0])')")
  pylib=$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
  ports=$(python3 -c 'import socket
s=[socket.socket() for _ in range(3)]
[x.bind(("127.0.0.1",0)) for x in s]; print(" ".join(str(x.getsockname()[1]) for x in s))')
  set -- $ports
  t0=$(now)
  ( export LD_LIBRARY_PATH=$T/nvidia_pytriton.libs:$pylib:$LD_LIBRARY_PATH STUB_SITE_DIRS=/tmp/np1 EXTRA_SITE_DIRS=/tmp/site:$sp PYTHONPATH=/tmp/site \
      TORCHINDUCTOR_COMPILE_THREADS=1 TOKENIZERS_PARALLELISM=false
    setsid $T/pytriton/tritonserver/bin/tritonserver --model-repository=$REPO --backend-directory=$T/pytriton/tritonserver/backends \
      --model-load-thread-count 1 --grpc-port "$1" --http-port "$2" --metrics-port "$3" --allow-metrics=true > $LOG 2>&1 &
    echo "GRPC=$1 HTTP=$2 METRICS=$3 PID=$!" > $ENVF )
  . $ENVF
  for _ in $(seq 480); do
    python3 -c "import urllib.request as u; u.urlopen('http://localhost:$HTTP/v2/health/ready', timeout=2)" 2>/dev/null && break
    kill -0 "$PID" 2>/dev/null || break; sleep 1
  done
  if python3 -c "import urllib.request as u; u.urlopen('http://localhost:$HTTP/v2/health/ready', timeout=2)" 2>/dev/null; then
    echo "[setup] tritonserver ready after $(since "$t0")s (grpc $GRPC, metrics $METRICS)"; return 0
  fi
  echo "[setup] tritonserver NOT ready after $(since "$t0")s"; return 1
}

prepare() {
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  unpack || { echo "[setup] unpack failed"; exit 1; }
  PYTHONPATH=/tmp/site python3 -c "import vllm, torch, transformers; print('[setup] vllm', vllm.__version__, 'torch', torch.__version__, 'transformers', transformers.__version__)" 2>&1 | grep '^\[setup\]'
  python3 "$G/make_models.py" $MODELS 2>&1 | grep -vE 'Writing|it/s' || { echo "[setup] make_models failed"; exit 1; }
}

setup() {
  local t0; t0=$(now)
  prepare
  serve
  echo "[setup] total $(since "$t0")s"
}

study() {  # STUDY_ARGS: decode_study.py flags (default: both roofline models, Python frames in the profile)
  local t0; t0=$(now)
  (cd "$G" && PYTHONPATH=/tmp/site timeout 560 python3 decode_study.py \
     ${STUDY_ARGS:---model $MODELS/llama-1b --model $MODELS/llama-1b-7bshape --stack} --out "$OUT/decode.json") 2>&1 \
     | grep -E '^\[decode\]|Error|FAILED' | cut -c1-3000
  python3 - "$OUT/decode.json" <<'PY'
import json, sys
for run in json.load(open(sys.argv[1]))["runs"]:
    p = run.get("profile")
    if p:
        print(f"== {run['model']} {run['variant']}: {run.get('log_lines')}")
        print(json.dumps({k: p[k] for k in ("cuda_runtime_per_step", "python_inclusive_ms_per_step")}, indent=0)[:6000])
PY
  echo "[study] total $(since "$t0")s"
}

serve() {  # (re)generate the repository and start tritonserver; llama2 with CUDA graphs, else eager
  make_repo false || exit 1
  if ! start_server; then
    grep -aE 'E[0-9]{4}|Error|error|Traceback|failed' $LOG | cut -c1-400 | tail -25
    echo "[setup] FALLBACK: llama2 with enforce_eager=true (no CUDA graphs)"
    kill -INT "$PID" 2>/dev/null; sleep 5; kill -9 "$PID" 2>/dev/null
    make_repo true && start_server || { tail -40 $LOG | cut -c1-400; exit 1; }
  fi
  grep -aE 'engine on .* ready in|successfully loaded|Graph capturing|torch.compile|Available KV cache|Model loading took' $LOG | cut -c1-250 | tail -12
  nvidia-smi --query-gpu=memory.used,memory.total --format=csv,noheader
}

variants() { local d; for d in $REPO/llama2_*/; do [ -d "$d" ] && basename "$d"; done; }

measure() {
  . $ENVF || exit 1
  local t0 cli; t0=$(now); cli="/tmp/cli:$SRC"
  echo "== checks"
  (cd "$G" && PYTHONPATH=$cli timeout 300 python3 checks.py --url localhost:$GRPC --metrics-url http://localhost:$METRICS/metrics \
     --model llama2=$MODELS/llama-1b --model mistral7b=$MODELS/mistral-tiny --server-log $LOG --out "$OUT/checks.json") 2>&1 \
     | grep -vE 'Task exception|^Traceback|^  File|^    ' | cut -c1-1200
  echo "== triton-console chat / bench  ($(since "$t0")s)"
  printf 'What is paged attention?\nSay hello in French.\nName three GPUs.\nWrite a haiku about tokens.\n' > /tmp/prompts.txt
  for m in llama2 mistral7b; do
    (cd /tmp && XDG_DATA_HOME=/tmp/xdg PYTHONPATH=$cli timeout 120 python3 -m console chat --url localhost:$GRPC --model-name $m \
       --input-prompts /tmp/prompts.txt --results-file /tmp/chat_$m.txt --max-tokens 64) >> "$OUT/cli.log" 2>&1
    echo "chat $m rc=$?" >> "$OUT/cli.log"; head -c 1500 /tmp/chat_$m.txt >> "$OUT/cli.log"
  done
  (cd /tmp && XDG_DATA_HOME=/tmp/xdg PYTHONPATH=$cli timeout 240 python3 -m console bench --url localhost:$GRPC --model llama2 \
     --model mistral7b --concurrency 1,16,64 --max-tokens 128 --no-plot --output /tmp/bench.json) >> "$OUT/cli.log" 2>&1
  echo "bench rc=$?" >> "$OUT/cli.log"
  tail -c 4000 "$OUT/cli.log"
  echo "[measure] total $(since "$t0")s"
}

metrics() {
  . $ENVF || exit 1
  local models=llama2,mistral7b v; for v in $(variants); do models=$models,$v; done
  (cd "$G" && PYTHONPATH=/tmp/cli:$SRC timeout 150 python3 metrics_check.py localhost:$GRPC http://localhost:$METRICS/metrics \
     $models 8 64) > "$OUT/metrics_check.log" 2>&1; echo "metrics_check rc=$?"
  grep -E 'MATCH' "$OUT/metrics_check.log"
}

p4() {
  . $ENVF || exit 1
  local t0; t0=$(now)
  local variant=() v spy=(); for v in $(variants); do variant+=(--variant "$v"); done
  [ -x /tmp/py-spy ] && mkdir -p "$OUT/spy" && spy=(--spy /tmp/py-spy --spy-dir "$OUT/spy")  # py-spy came with the bundle
  (cd "$G" && PYTHONPATH=/tmp/cli:/tmp/site:$SRC timeout 560 python3 p4.py --url localhost:$GRPC --model llama2 "${variant[@]}" \
     --config $REPO/llama2/config.pbtxt --backend-dir $T/pytriton/tritonserver/backends/python \
     ${P4_EXTRA---extra-model $MODELS/llama-1b-7bshape --eager-contrast} ${P4_ARGS:-} "${spy[@]}" --out "$OUT/p4.json") \
     > /tmp/p4.log 2>&1; echo "p4 rc=$?"
  grep -E '^\[p4\]' /tmp/p4.log; grep -E 'Error|Traceback' -A3 /tmp/p4.log | tail -20; cp /tmp/p4.log "$OUT/p4.log"
  python3 -c "import urllib.request as u; open('$OUT/metrics.txt','w').write(u.urlopen('http://localhost:$METRICS/metrics').read().decode())"
  echo "[measure] metric families: $(grep -c '^# TYPE' "$OUT/metrics.txt"); vllm lines: $(grep -c '^vllm:' "$OUT/metrics.txt")"
  kill -INT "$PID"; for _ in $(seq 30); do kill -0 "$PID" 2>/dev/null || break; sleep 1; done; kill -9 "$PID" 2>/dev/null
  cp $LOG "$OUT/tritonserver.log"
  echo "[p4] total $(since "$t0")s"
}

libpython() {
  local py; py=$(readlink -f "$(command -v python3)")
  chmod +x "$PARTS/embedded_python" 2>/dev/null
  python3 "$SRC/bench/libpython_speed.py" --python "$py" --launcher "$PARTS/embedded_python" --json "$OUT/libpython.json"
}

case "$1" in
  setup) setup ;;
  libpython) libpython ;;
  prepare) prepare ;;
  study) study ;;
  serve) serve ;;
  measure) measure ;;
  metrics) metrics ;;
  p4) p4 ;;
  *) echo "usage: $0 setup|prepare|serve|study|measure|metrics|p4|libpython"; exit 2 ;;
esac
