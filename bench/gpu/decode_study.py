"""Where a single-stream decode step of vLLM goes: the device's part against the host's.

The roofline figure (p4.py) says how fast one stream decodes; this script says why. For each
model directory and each variant (e.g. ``v1:VLLM_USE_V2_MODEL_RUNNER=0`` or ``sync:arg.async_scheduling=false``) it
starts vLLM's offline ``LLM`` in a fresh process and

- times single-stream decode: ``(N - 1) / (t(N tokens) - t(1 token))`` over ``--repeats`` runs,
  greedy and with temperature 1 (the sampler's work differs);
- profiles ``--profile-tokens`` decode steps with vLLM's own torch profiler (engine core process:
  CPU ops, CUDA runtime calls, kernels; Python frames with ``--stack``) and reduces the trace to
  per-step figures: wall time, GPU busy time (union of kernel intervals), CUDA runtime calls and
  the time they take, and the Python functions with the most inclusive time.

Run on the lent GPU machine after ``device.sh setup`` (or its ``unpack`` and models):
``PYTHONPATH=/tmp/site python3 decode_study.py --model /tmp/models/llama-1b --out $OUT/decode.json``.
"""

from __future__ import annotations

import argparse
import glob
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT_IDS = list(range(20, 52))  # 32 prompt tokens; the byte-level vocabulary has them all


def timed_decode(llm, tokens: int, temperature: float, repeats: int) -> list[float]:
    from vllm import SamplingParams

    prompt = {"prompt_token_ids": PROMPT_IDS}

    def run(n: int) -> float:
        params = SamplingParams(max_tokens=n, ignore_eos=True, temperature=temperature, seed=0)
        t0 = time.perf_counter()
        out = llm.generate([prompt], params, use_tqdm=False)
        elapsed = time.perf_counter() - t0
        assert len(out[0].outputs[0].token_ids) == n, "the engine stopped early"
        return elapsed

    run(tokens)  # warm the sampler's path at this length
    rates = []
    for _ in range(repeats):
        first, full = run(1), run(tokens)
        rates.append((tokens - 1) / (full - first))
    return rates


def interval_union(spans: list[tuple[float, float]]) -> float:
    total, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop <= end:
            continue
        total += stop - max(start, end)
        end = stop
    return total


def reduce_trace(path: str, steps: int, top: int = 40) -> dict:
    """Per-step figures from a chrome trace of the engine core (microseconds in, ms out)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as fh:
        events = [e for e in json.load(fh)["traceEvents"] if e.get("ph") == "X"]
    kernels = [(e["ts"], e["ts"] + e["dur"]) for e in events if e.get("cat") in ("kernel", "gpu_memcpy", "gpu_memset")]
    if not kernels:
        return {"error": "no kernels in the trace"}
    first, last = min(s for s, _ in kernels), max(e for _, e in kernels)
    runtime: dict[str, list[float]] = {}
    python: dict[str, float] = {}
    for e in events:
        if e.get("cat") == "cuda_runtime" or e.get("cat") == "cuda_driver":
            runtime.setdefault(e["name"], []).append(e["dur"])
        elif e.get("cat") == "python_function" and first <= e["ts"] <= last:
            python[e["name"]] = python.get(e["name"], 0.0) + e["dur"]
    per = 1e-3 / steps
    return {
        "steps": steps,
        "wall_ms_per_step": (last - first) * per,
        "gpu_busy_ms_per_step": interval_union(kernels) * per,
        "kernels_per_step": len(kernels) / steps,
        "cuda_runtime_per_step": {name: {"calls": len(d) / steps, "ms": sum(d) * per}
                                  for name, d in sorted(runtime.items(), key=lambda kv: -sum(kv[1]))[:15]},
        "python_inclusive_ms_per_step": {name: t * per for name, t in sorted(python.items(), key=lambda kv: -kv[1])[:top]},
    }


def one_model(args) -> dict:
    """Runs in its own process: one engine, one variant."""
    from vllm import LLM, SamplingParams

    trace_dir = os.path.join(args.work, "trace")
    os.makedirs(trace_dir, exist_ok=True)
    t0 = time.monotonic()
    engine_args = json.loads(os.environ.get("DECODE_STUDY_ENGINE_ARGS", "{}"))
    llm = LLM(model=args.model, dtype="bfloat16", max_model_len=4096, gpu_memory_utilization=0.3, seed=0,
              enforce_eager=args.eager, **engine_args,
              profiler_config={"profiler": "torch", "torch_profiler_dir": trace_dir, "torch_profiler_with_stack": args.stack,
                               "torch_profiler_dump_cuda_time_total": False, "torch_profiler_use_gzip": True})
    result = {"model": args.model, "variant": args.variant, "start_s": time.monotonic() - t0}
    result["greedy_tok_s"] = timed_decode(llm, args.tokens, 0.0, args.repeats)
    result["temperature1_tok_s"] = timed_decode(llm, args.tokens, 1.0, args.repeats)
    print(f"[decode] {os.path.basename(args.model)} {args.variant}: greedy "
          f"{statistics.median(result['greedy_tok_s']):.0f} tok/s, temperature 1 "
          f"{statistics.median(result['temperature1_tok_s']):.0f} tok/s", flush=True)
    if args.profile_tokens:
        params = SamplingParams(max_tokens=args.profile_tokens, ignore_eos=True, temperature=0.0)
        llm.generate([{"prompt_token_ids": PROMPT_IDS}], params, use_tqdm=False)
        llm.start_profile()
        llm.generate([{"prompt_token_ids": PROMPT_IDS}], params, use_tqdm=False)
        llm.stop_profile()
        time.sleep(2)
        # the engine core's trace is the one with kernels (a front end may write a CPU-only one)
        for trace in sorted(glob.glob(os.path.join(trace_dir, "**", "*.json*"), recursive=True), key=os.path.getsize)[::-1]:
            profile = reduce_trace(trace, args.profile_tokens)
            if "error" not in profile:
                result["profile"], result["trace"] = profile, trace
                break
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", action="append", required=True, help="model directory (repeatable)")
    ap.add_argument("--variant", action="append", default=[],
                    help="NAME or NAME:KEY=VALUE,arg.KEY=JSON (environment variables, engine arguments); default: 'default'")
    ap.add_argument("--tokens", type=int, default=512)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile-tokens", type=int, default=48, help="decode steps to profile (0: none)")
    ap.add_argument("--stack", action="store_true", help="record Python frames in the profile (slower steps)")
    ap.add_argument("--eager", action="store_true")
    ap.add_argument("--out", default="decode.json")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--work", default="/tmp/decode", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        args.model, args.variant = args.model[0], args.variant[0]
        json.dump(one_model(args), open(args.out, "w"))
        return 0

    sys.path.insert(0, HERE)
    from gpu_floor import launch_us
    from p4 import copy_bandwidth, weight_bytes

    bandwidth = copy_bandwidth()
    report = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "copy_bandwidth_Bps": bandwidth,
              "launch_us": launch_us(), "runs": []}
    print(f"[decode] copy bandwidth {bandwidth / 1e12:.2f} TB/s; tiny launch {report['launch_us']:.1f} us", flush=True)
    for model in args.model:
        wb = weight_bytes(model)
        step_bytes = wb["per_token"] + (len(PROMPT_IDS) + args.tokens / 2) * wb["kv_bytes_per_context_token"]
        for spec in args.variant or ["default"]:
            name, _, pairs = spec.partition(":")
            settings = dict(p.split("=", 1) for p in pairs.split(",") if p)
            # KEY=VALUE sets an environment variable; arg.KEY=VALUE an engine argument (VALUE as JSON)
            engine_args = {k[4:]: json.loads(v) for k, v in settings.items() if k.startswith("arg.")}
            env = dict(os.environ, DECODE_STUDY_ENGINE_ARGS=json.dumps(engine_args),
                       **{k: v for k, v in settings.items() if not k.startswith("arg.")})
            work = os.path.join(args.work, f"{os.path.basename(model)}-{name}")
            child_out = os.path.join(work, "result.json")
            os.makedirs(work, exist_ok=True)
            cmd = [sys.executable, os.path.abspath(__file__), "--child", "--model", model, "--variant", name,
                   "--tokens", str(args.tokens), "--repeats", str(args.repeats), "--profile-tokens", str(args.profile_tokens),
                   "--out", child_out, "--work", work] + (["--stack"] if args.stack else []) + (["--eager"] if args.eager else [])
            t0 = time.monotonic()
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if proc.returncode != 0 or not os.path.exists(child_out):
                print(f"[decode] {os.path.basename(model)} {name} FAILED rc={proc.returncode}\n{proc.stderr[-3000:]}", flush=True)
                report["runs"].append({"model": model, "variant": name, "error": proc.stderr[-3000:]})
                continue
            run = json.load(open(child_out))
            if run.get("trace") and os.path.getsize(run["trace"]) < 15 << 20:  # kept beside --out for a closer look
                kept = os.path.join(os.path.dirname(os.path.abspath(args.out)), f"trace-{os.path.basename(model)}-{name}.json.gz")
                shutil.copyfile(run["trace"], kept)
                run["trace"] = kept
            run["wall_s"] = time.monotonic() - t0
            run["env"] = pairs
            run["log_lines"] = [line for line in proc.stderr.splitlines()
                                if any(k in line for k in ("Model Runner", "model runner", "cudagraph", "CUDA graph",
                                                           "Asynchronous scheduling", "attention backend", "Using "))][:20]
            run["bytes_per_step"], run["roofline_tok_s"] = step_bytes, bandwidth / step_bytes
            for key in ("greedy_tok_s", "temperature1_tok_s"):
                run[key.replace("tok_s", "fraction")] = statistics.median(run[key]) / run["roofline_tok_s"]
            prof = run.get("profile", {})
            print(f"[decode] {os.path.basename(model)} {name}: roofline {run['roofline_tok_s']:.0f} tok/s "
                  f"({step_bytes / 1e9:.3f} GB/step); greedy {run['greedy_fraction']:.1%}, temperature 1 "
                  f"{run['temperature1_fraction']:.1%}; profiled step {prof.get('wall_ms_per_step', 0):.3f} ms, "
                  f"GPU busy {prof.get('gpu_busy_ms_per_step', 0):.3f} ms, {prof.get('kernels_per_step', 0):.0f} kernels "
                  f"({run['wall_s']:.0f} s)", flush=True)
            report["runs"].append(run)
    json.dump(report, open(args.out, "w"), indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
