#!/bin/bash
# On the lent GPU machine, after shared/gpu/stage1.sh unpacked vLLM/Triton and built the tiny
# models in /tmp/models: serve OUR model_repository model.py (vLLM engine) as llama2 and mistral7b,
# then run metrics_check.py and the `triton-console metrics` CLI against it. Run from the repo root.
R=$(pwd); T=/tmp/tri; M=/tmp/mrepo; rm -rf $M
SP=$(python3 -c 'import site; print(site.getsitepackages()[0])')
PYLIB=$(python3 -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
for n in llama2 mistral7b; do
  mkdir -p $M/$n/1 && cp $R/model_repository/$n/1/model.py $M/$n/1/
  PYTHONPATH=$R python3 - "$R/model_repository/$n/config.pbtxt" "$M/$n/config.pbtxt" /tmp/models/$n <<'PY'
import sys
from console.core.local_stack import set_parameter
text = open(sys.argv[1]).read()
for k, v in {"model": sys.argv[3], "engine": "vllm", "dtype": "bfloat16", "max_model_len": "1024", "max_prompt_tokens": "512",
             "gpu_memory_utilization": "0.3", "enforce_eager": "true", "template_plain_text": "false", "cuda_visible_devices": "0"}.items():
    text = set_parameter(text, k, v)
open(sys.argv[2], "w").write(text)
PY
done
t0=$(date +%s)
( export LD_LIBRARY_PATH=$T/nvidia_pytriton.libs:$PYLIB:$LD_LIBRARY_PATH EXTRA_SITE_DIRS=/tmp/np1:/tmp/site:$SP PYTHONPATH=/tmp/site \
    VLLM_USE_FLASHINFER_SAMPLER=0 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1
  setsid $T/pytriton/tritonserver/bin/tritonserver --model-repository=$M --backend-directory=$T/pytriton/tritonserver/backends \
    --model-load-thread-count 1 --grpc-port 8001 --http-port 8000 --metrics-port 8002 > /tmp/ts.log 2>&1 & echo $! > /tmp/ts.pid )
for i in $(seq 300); do python3 -c "import urllib.request as u; u.urlopen('http://localhost:8000/v2/health/ready', timeout=2)" 2>/dev/null && break; sleep 1; kill -0 $(cat /tmp/ts.pid) 2>/dev/null || break; done
echo "[metrics_check] server ready after $(( $(date +%s) - t0 ))s"
grep -aE 'engine on|successfully loaded|UNAVAILABLE|failed|Error' /tmp/ts.log | cut -c1-300 | head -20
export PYTHONPATH=/tmp/cli:$R
python3 -c "import prometheus_client, tritonclient.grpc.aio; print('[metrics_check] client deps ok')"
timeout 300 python3 bench/gpu/metrics_check.py localhost:8001 http://localhost:8002/metrics llama2,mistral7b 8 64; echo "[metrics_check] rc=$?"
timeout 120 python3 -m console metrics --metrics-url http://localhost:8002/metrics --interval 2 | head -40
cp /tmp/ts.log $OUT/tritonserver.log
kill $(cat /tmp/ts.pid); sleep 3
