#!/bin/bash
# Here (CPU machine, PyPI reachable; no device time, about 5 min on 2 cores): build what the GPU
# machine needs and cannot download. Writes, in the checkout the device tool sends ($R, default
# this repository):
#   .whl/p1 .whl/p2 .whl/p3  the bundle (vLLM 0.26.0 + deps, tritonserver 2.51 from nvidia-pytriton
#                            0.7.0, numpy 1.26 for the Python backend stub, the gRPC client), split
#                            in three parts of ~58 MB (a run call carries at most 64 MiB); p1 also
#                            holds py-spy's wheel (device.sh unpacks it for p4's profiles) and
#                            bench/embedded_python.c built (device.sh libpython)
#   .gpu/src                 (only with SNAPSHOT=1) this repository's HEAD, when $R is another
#                            checkout that lacks it
# Both folders are added to $R/.git/info/exclude. Based on the recipe proven on the lent H100
# (2026-11-24); the pins are the set that ran there.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/../.." && pwd); R=${R:-$HERE}; W=${W:-/tmp/proof-prep}
rm -rf "$W"; mkdir -p "$W/tri" && cd "$W"
P="--only-binary=:all: --python-version 3.12 --implementation cp --abi cp312 --platform any --platform manylinux2014_x86_64 --platform manylinux1_x86_64"
for n in 5 17 24 26 27 28 31 35; do P="$P --platform manylinux_2_${n}_x86_64"; done
# xgrammar 0.2.6 (not 0.2.8) because vllm pins apache-tvm-ffi==0.1.10. Optional kernel packages are left out.
pip download -q --no-deps $P -d w vllm==0.26.0 xgrammar==0.2.6 apache-tvm-ffi==0.1.10 compressed-tensors==0.17.0 nvtx==0.2.15 \
 agent_detector==2.0.0 annotated_types==0.8.0 anthropic==2.13.0 astor==0.8.1 blake3==1.0.11 cachetools==8.0.2 cbor2==6.3.0 cffi==2.1.1 \
 cryptography==50.0.2 depyf==0.20.0 detect_installer==0.2.1 dill==0.4.1 dnspython==2.9.2 docstring_parser==0.18.0 email_validator==2.4.0 \
 fastapi==0.136.3 fastapi_cli==0.0.34 fastapi_cloud_cli==0.28.0 fastar==0.12.0 googleapis_common_protos==1.76.0 httpcore2==2.16.2 httptools==0.9.0 \
 httpx2==2.16.2 ijson==3.6.0 interegular==0.3.3 jiter==0.19.0 jmespath==1.1.0 jsonschema==4.26.0 jsonschema_specifications==2025.9.1 lark==1.2.2 \
 llguidance==1.7.6 lm_format_enforcer==0.11.3 mcp==2.3.0 mcp_types==2.3.0 mistral_common==1.13.1 model_hosting_container_standards==0.1.16 \
 msgspec==0.22.0 openai==3.57.0 openai_harmony==0.0.8 opentelemetry_api==1.45.2 opentelemetry_exporter_http_transport==0.66b2 \
 opentelemetry_exporter_otlp==1.45.2 opentelemetry_exporter_otlp_common==0.66b2 opentelemetry_exporter_otlp_proto_common==1.45.2 \
 opentelemetry_exporter_otlp_proto_grpc==1.45.2 opentelemetry_exporter_otlp_proto_http==1.45.2 opentelemetry_proto==1.45.2 opentelemetry_sdk==1.45.2 \
 opentelemetry_semantic_conventions==0.66b2 opentelemetry_semantic_conventions_ai==0.5.1 outlines_core==0.2.14 partial_json_parser==0.2.1.1.post7 \
 prometheus_fastapi_instrumentator==8.1.0 pybase64==1.5.1 pycountry==26.2.16 pycparser==3.12 pydantic==2.14.4 pydantic_core==2.50.5 \
 pydantic_extra_types==2.11.1 pydantic_settings==2.16.3 pyjwt==2.15.1 python_dotenv==1.2.4 python_json_logger==4.2.0 python_multipart==0.0.34 \
 pyzmq==27.3.0 referencing==0.37.0 rich_toolkit==0.20.6 rignore==0.8.1 rpds_py==2026.9.1 sentry_sdk==2.75.0 setproctitle==1.3.8 sniffio==1.3.1 \
 sse_starlette==3.7.0 starlette==1.10.0 supervisor==4.3.0 truststore==0.10.5 typing_inspection==0.4.5 uvicorn==0.54.0 watchfiles==1.3.0 websockets==17.4
pip install -q --no-deps --no-compile --target site $P w/*.whl
# trims: FA2 kernels (305 MB; the H100 uses FA3), Rust frontend binary, deep_gemm builds for other Pythons
rm -rf site/bin site/vllm/vllm-rs site/vllm/vllm_flash_attn/_vllm_fa2_C.abi3.so site/vllm/third_party/deep_gemm/_C.cpython-31[0134]-*.so
pip install -q --no-deps --no-compile --target np1 $P numpy==1.26.4 && rm -rf np1/bin      # numpy<2 for the Triton stub only
# The client side (our console package: checks, p4, triton-console chat/bench); the GPU image has the rest.
pip download -q --no-deps $P -d cw tritonclient==2.73.0 python-rapidjson==1.25 grpcio==1.85.3 protobuf==6.33.6 nvidia-pytriton==0.7.0
pip install -q --no-deps --no-compile --target cli $P cw/tritonclient-*.whl cw/python_rapidjson-*.whl cw/grpcio-*.whl cw/protobuf-*.whl && rm -rf cli/bin
(cd tri && unzip -q ../cw/nvidia_pytriton-0.7.0-*.whl 'pytriton/tritonserver/*' 'nvidia_pytriton.libs/*' \
 && cp pytriton/tritonserver/python_backend_stubs/3.12/triton_python_backend_stub pytriton/tritonserver/backends/python/ \
 && rm -rf pytriton/tritonserver/python_backend_stubs nvidia_pytriton.libs/libpython3-*)
for d in site tri cli np1; do tar -C $d -cf - . | xz -T0 -9 > $d.tar.xz; done
tar cf bundle.tar site.tar.xz tri.tar.xz cli.tar.xz np1.tar.xz
mkdir -p "$R/.git/info"
for x in /.whl/ /.gpu/; do grep -qx "$x" "$R/.git/info/exclude" 2>/dev/null || echo "$x" >> "$R/.git/info/exclude"; done
rm -rf "$R/.whl"; mkdir -p "$R"/.whl/{p1,p2,p3}
split -n 3 -d bundle.tar bundle.part. && for i in 1 2 3; do mv bundle.part.0$((i - 1)) "$R/.whl/p$i/"; done
pip download -q --no-deps --only-binary=:all: --platform manylinux1_x86_64 -d "$R/.whl/p1" py-spy==0.4.3  # p4's --spy (3 MB)
cc -O2 -o "$R/.whl/p1/embedded_python" "$HERE/bench/embedded_python.c" -ldl  # device.sh libpython (the GPU image has no compiler)
if [ "${SNAPSHOT:-0}" = 1 ]; then rm -rf "$R/.gpu/src"; mkdir -p "$R/.gpu/src"; git -C "$HERE" archive HEAD | tar -x -C "$R/.gpu/src"; fi
rm -rf "$W"; du -sh "$R"/.whl/* "$R"/.gpu 2>/dev/null || true
