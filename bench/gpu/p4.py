"""P4: Triton + model.py against the vLLM engine alone, side by side, and the decode roofline.

usage: p4.py --url HOST:GRPC --model llama2 --config REPO/llama2/config.pbtxt --backend-dir DIR
             [--variant NAME ...] [--extra-model DIR ...] [--eager-contrast]
             [--concurrency 1,16,64] [--mode steady|wave] [--window 10] [--warmup 3] [--engine-burn N]
             [--max-tokens 256] [--reps 3] [--out p4.json]

One process builds the engine with model.py's own VllmEngine class from the same generated
config (same model, dtype, max_model_len, gpu_memory_utilization, CUDA graphs; the prompt token
ids from model.py's render_prompt and the SamplingParams from its parse_sampling) and drives it
directly; the Triton side sends the same prompts and sampling through the project's own client
(TritonStreamClient), spread over client processes so the client is never the bottleneck. Sides
alternate within each repetition (order rotated); ratios are of each side's median repetition.
``--variant`` adds Triton models serving the same config with another model.py (make_repo.py
--clone). TTFT is the time to the first response that carries a token (on both sides).

Two ways to load the server at a concurrency N (``--mode``):
- ``steady`` (default; genai-perf's and perf_analyzer's meaning of "concurrency N"): N streams,
  each sending its next request as soon as its last one ends, for ``--warmup`` + ``--window``
  seconds; output tokens/s = tokens that arrived inside the window / its length, TTFT = median
  over the requests sent inside it. Each request's ``max_tokens`` is drawn from
  [max_tokens/2, 3*max_tokens/2] by a per-stream seeded generator (the same draws on both
  sides), so the streams do not stay in lockstep waves.
- ``wave``: one burst of N requests of ``max_tokens`` each, tokens / (last end - first start);
  ramp-up and drain weigh on it (the first sessions' figures).

Roofline: device copy bandwidth (bytes read + written per second) over the bytes a decode step
reads (every weight once, one embedding row, the KV cache at the mean context) gives the
single-stream ceiling; measured single-stream decode tokens/s is set against it, for the served
model through both paths, and for ``--extra-model`` dirs (and ``--eager-contrast``) engine-only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import multiprocessing as mp
import os
import random
import statistics
import struct
import sys
import time
import uuid

from proof_common import StreamRecord, summarize

SAMPLING = {"temperature": 1.0, "top_p": 1.0, "max_tokens": 256, "ignore_eos": True}
PROMPT = "stream {i}: the quick brown fox jumps over the lazy dog while a small model streams tokens"


class Window:
    """The measurement window of a steady run: counts the output tokens that arrive inside it."""

    def __init__(self, start: float, end: float) -> None:
        self.start, self.end, self.tokens = start, end, 0

    def add(self, t: float, tokens: int) -> None:
        if self.start <= t < self.end:
            self.tokens += tokens


async def closed_loop(request, stream_ids: list[int], max_tokens: int, window: Window) -> list[StreamRecord]:
    """Each stream sends its next request when its last one ends, until the window closes.

    ``request(stream_id, k, max_tokens)`` runs one generation (adding its tokens to the window);
    returns the requests sent inside the window.
    """

    async def one_stream(i: int) -> list[StreamRecord]:
        draws, records, k = random.Random(i), [], 0
        while time.monotonic() < window.end:
            record = await request(i, k, draws.randint(max_tokens // 2, 3 * max_tokens // 2))
            if window.start <= record.t_start < window.end:
                records.append(record)
            k += 1
        return records

    return [r for rs in await asyncio.gather(*(one_stream(i) for i in stream_ids)) for r in rs]


def steady_summary(records: list[StreamRecord], window: Window) -> dict:
    """The window's output tokens/s, with the TTFT and per-stream decode of the requests sent in it."""
    out = summarize(records)
    out.update(output_tokens=window.tokens, wall_s=window.end - window.start,
               output_tok_s=window.tokens / (window.end - window.start), mode="steady")
    return out


# ---- Triton side (client processes) -------------------------------------------------------------
def triton_worker(url: str, model: str, prompts: list[str], sampling: dict, t_go: float) -> list[dict]:
    return asyncio.run(_triton_streams(url, model, prompts, sampling, t_go))


async def _triton_one(client, model: str, prompt: str, sampling: dict, window: Window | None = None) -> StreamRecord:
    """One stream through TritonStreamClient; its tokens also go to ``window`` when given."""
    from console.core.streaming import Delta

    t_token = None
    async for event in client.stream(model, prompt, sampling):
        if isinstance(event, Delta):
            if window is not None:
                window.add(event.t, event.tokens)
            if t_token is None and event.tokens:
                t_token = event.t
        else:
            return StreamRecord(event.t_start, t_token, event.t_end, event.output_tokens, event.input_tokens, event.finish_reason)
    raise RuntimeError("stream ended without a Final")


async def _triton_streams(url: str, model: str, prompts: list[str], sampling: dict, t_go: float) -> list[dict]:
    from console.core.streaming import TritonStreamClient

    client = TritonStreamClient(url, timeout_s=300)
    await asyncio.sleep(max(0.0, t_go - time.monotonic()))
    try:
        return [r.__dict__ for r in await asyncio.gather(*(_triton_one(client, model, p, sampling) for p in prompts))]
    finally:
        await client.close()


def triton_steady_worker(url: str, model: str, stream_ids: list[int], sampling: dict, t_go: float,
                         window: tuple[float, float]) -> tuple[int, list[dict]]:
    return asyncio.run(_triton_steady(url, model, stream_ids, sampling, t_go, Window(*window)))


async def _triton_steady(url: str, model: str, stream_ids: list[int], sampling: dict, t_go: float,
                         window: Window) -> tuple[int, list[dict]]:
    from console.core.streaming import TritonStreamClient

    client = TritonStreamClient(url, timeout_s=300)

    async def request(i: int, k: int, max_tokens: int) -> StreamRecord:
        return await _triton_one(client, model, PROMPT.format(i=f"{i}.{k}"), dict(sampling, max_tokens=max_tokens), window)

    await asyncio.sleep(max(0.0, t_go - time.monotonic()))
    try:
        records = await closed_loop(request, stream_ids, sampling["max_tokens"], window)
        return window.tokens, [r.__dict__ for r in records]
    finally:
        await client.close()


async def run_triton_steady(pool, url: str, model: str, n: int, sampling: dict, warmup: float, seconds: float) -> dict:
    workers = min(8, n)
    t_go = time.monotonic() + 1.0
    window = Window(t_go + warmup, t_go + warmup + seconds)
    pending = [pool.apply_async(triton_steady_worker, (url, model, list(range(w, n, workers)), sampling, t_go,
                                                       (window.start, window.end))) for w in range(workers)]
    records: list[StreamRecord] = []
    for job in pending:
        tokens, recs = await asyncio.to_thread(job.get, 600)
        window.tokens += tokens
        records += [StreamRecord(**r) for r in recs]
    return steady_summary(records, window)


def warm_worker(_: int) -> int:
    import console.core.streaming  # noqa: F401 - import cost outside the timed runs

    return os.getpid()


async def run_triton(pool, url: str, model: str, n: int, sampling: dict) -> list[StreamRecord]:
    prompts = [PROMPT.format(i=i) for i in range(n)]
    workers = min(8, n)
    chunks = [prompts[w::workers] for w in range(workers)]
    t_go = time.monotonic() + 1.0
    pending = [pool.apply_async(triton_worker, (url, model, chunk, sampling, t_go)) for chunk in chunks]
    out: list[StreamRecord] = []
    for job in pending:
        out += [StreamRecord(**r) for r in await asyncio.to_thread(job.get, 600)]
    return out


class GcPauses:
    """The collector's pauses in this process (the engine alone's front end), per generation, through
    gc.callbacks: a full collection stops the engine's event loop as it would stop model.py's."""

    def __init__(self) -> None:
        self._t0: float | None = None
        self.reset()
        gc.callbacks.append(self)

    def reset(self) -> None:
        self.stats = {g: [0, 0.0, 0.0] for g in range(3)}  # count, total s, longest s

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._t0 = time.perf_counter()
        elif self._t0 is not None:
            took, s = time.perf_counter() - self._t0, self.stats[info["generation"]]
            s[0], s[1], s[2] = s[0] + 1, s[1] + took, max(s[2], took)

    def summary(self) -> dict:
        return {f"gen{g}": {"n": s[0], "total_ms": round(1000 * s[1], 2), "max_ms": round(1000 * s[2], 2)}
                for g, s in self.stats.items()}


GC_PAUSES = GcPauses()


# ---- Engine side (this process, model.py's own engine class without Triton) --------------------
AS_VLLM_STARTS_IT = {"engine_core_cpus": "", "engine_core_python": "fork"}


class PrintLogger:
    """What model.py's engine logs through tritonserver's pb_utils.Logger, printed here instead."""

    def log_info(self, text: str) -> None:
        print(f"[p4] engine alone: {text}", flush=True)

    log_warn = log_error = log_info


class EngineAlone:
    """model.py's VllmEngine (same AsyncEngineArgs, same background event loop), driven directly."""

    def __init__(self, config_path: str, backend_dir: str, **overrides: str) -> None:
        import importlib.util
        import types

        from google.protobuf import text_format
        from tritonclient.grpc import model_config_pb2

        if backend_dir not in sys.path:
            sys.path.insert(0, backend_dir)  # triton_python_backend_utils.py imports standalone
        config = text_format.Parse(open(config_path).read(), model_config_pb2.ModelConfig())
        # vLLM as it is: model.py's own placement of its engine core (CPUs, interpreter) stays with Triton's side
        self.params = {k: v.string_value for k, v in config.parameters.items()} | AS_VLLM_STARTS_IT | overrides
        spec = importlib.util.spec_from_file_location("repo_model", os.path.join(os.path.dirname(config_path), "1", "model.py"))
        self.module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.module)
        self.settings = self.module.parse_settings({k: {"string_value": v} for k, v in self.params.items()})
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(self.settings["tokenizer"] or self.settings["model"])
        self._renderer = types.SimpleNamespace(settings=self.settings, tokenizer=tokenizer, name="engine-alone")
        import torch

        self.free_before = torch.cuda.mem_get_info()[0]
        t0 = time.monotonic()
        self.vllm = self.module.VllmEngine(self.settings, PrintLogger())
        self.start_s = time.monotonic() - t0
        gc.collect()
        gc.freeze()  # as model.py's initialize and vLLM's own server do after start-up

    def prompt_ids(self, text: str) -> list[int]:
        """The token ids model.py would send for this text_input (its own render_prompt)."""
        return self.module.TritonPythonModel.render_prompt(self._renderer, text)[0]

    def params_for(self, sampling: dict):
        return self.vllm._params(self.module.parse_sampling(json.dumps(sampling), self.settings))

    async def _one(self, ids: list[int], params, window: Window | None = None) -> StreamRecord:
        """One generation on the engine; its tokens also go to ``window`` when given."""
        t_start, t_token, tokens, reason = time.monotonic(), None, 0, None
        async for out in self.vllm.engine.generate({"prompt_token_ids": ids}, params, uuid.uuid4().hex):
            choice = out.outputs[0]
            now = time.monotonic()
            if window is not None:
                window.add(now, len(choice.token_ids))
            if choice.token_ids and t_token is None:
                t_token = now
            tokens += len(choice.token_ids)
            reason = choice.finish_reason or reason
        return StreamRecord(t_start, t_token, time.monotonic(), tokens, len(ids), reason)

    async def _many(self, prompts: list[list[int]], params) -> list[StreamRecord]:
        return list(await asyncio.gather(*(self._one(ids, params) for ids in prompts)))

    async def run(self, n: int, sampling: dict) -> list[StreamRecord]:
        prompts = [self.prompt_ids(PROMPT.format(i=i)) for i in range(n)]
        future = asyncio.run_coroutine_threadsafe(self._many(prompts, self.params_for(sampling)), self.vllm.loop)
        return await asyncio.wrap_future(future)

    async def _steady(self, n: int, sampling: dict, t_go: float, window: Window) -> list[StreamRecord]:
        async def request(i: int, k: int, max_tokens: int) -> StreamRecord:
            # Rendered and parsed per request, as model.py does for each Triton request.
            ids, params = self.prompt_ids(PROMPT.format(i=f"{i}.{k}")), self.params_for(dict(sampling, max_tokens=max_tokens))
            return await self._one(ids, params, window)

        await asyncio.sleep(max(0.0, t_go - time.monotonic()))
        return await closed_loop(request, list(range(n)), sampling["max_tokens"], window)

    async def run_steady(self, n: int, sampling: dict, warmup: float, seconds: float) -> dict:
        t_go = time.monotonic() + 1.0  # the same one-second lead as the Triton side's
        window = Window(t_go + warmup, t_go + warmup + seconds)
        future = asyncio.run_coroutine_threadsafe(self._steady(n, sampling, t_go, window), self.vllm.loop)
        return steady_summary(await asyncio.wrap_future(future), window)

    def shutdown(self) -> None:
        self.vllm.shutdown()
        import torch

        deadline = time.monotonic() + 30  # the engine core process frees its GPU memory as it exits
        while time.monotonic() < deadline and torch.cuda.mem_get_info()[0] < self.free_before - (1 << 30):
            time.sleep(0.5)


# ---- Roofline -----------------------------------------------------------------------------------
def copy_bandwidth(gib: int = 2, iters: int = 20) -> float:
    """Device-to-device copy, bytes read + written per second (torch, CUDA events)."""
    import torch

    n = gib << 30
    src = torch.empty(n, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    for _ in range(3):
        dst.copy_(src)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        dst.copy_(src)
    end.record()
    torch.cuda.synchronize()
    seconds = start.elapsed_time(end) / 1e3
    del src, dst
    torch.cuda.empty_cache()
    return 2 * n * iters / seconds


def weight_bytes(model_dir: str) -> dict:
    """Bytes a decode step must read: every weight, but only one row of the embedding table."""
    total, embed = 0, 0
    for name in sorted(os.listdir(model_dir)):
        if not name.endswith(".safetensors"):
            continue
        with open(os.path.join(model_dir, name), "rb") as fh:
            header = json.loads(fh.read(struct.unpack("<Q", fh.read(8))[0]))
        for key, info in header.items():
            if key == "__metadata__":
                continue
            size = info["data_offsets"][1] - info["data_offsets"][0]
            total += size
            if key.endswith("embed_tokens.weight"):
                embed = size
    cfg = json.load(open(os.path.join(model_dir, "config.json")))
    hidden, layers = cfg["hidden_size"], cfg["num_hidden_layers"]
    head_dim = cfg.get("head_dim") or hidden // cfg["num_attention_heads"]
    kv_per_token = layers * 2 * cfg["num_key_value_heads"] * head_dim * 2
    return {"all_weights": total, "per_token": total - embed + 2 * hidden, "kv_bytes_per_context_token": kv_per_token,
            "layers": layers, "hidden": hidden}


def roofline(engine: EngineAlone, bandwidth: float, tokens: int, decode: dict[str, list[float]]) -> dict:
    wb = weight_bytes(engine.settings["model"])
    context = len(engine.prompt_ids(PROMPT.format(i=0))) + tokens / 2
    step_bytes = wb["per_token"] + context * wb["kv_bytes_per_context_token"]
    roof = bandwidth / step_bytes
    out = {"model": engine.settings["model"], "cuda_graphs": not engine.settings["enforce_eager"], "weights": wb,
           "mean_context_tokens": context, "bytes_per_decode_step": step_bytes, "roofline_tok_s": roof, "decode_tok_s": decode}
    for side, values in decode.items():
        out[f"fraction_{side}"] = statistics.median(values) / roof
    shown = ", ".join(f"{side} {statistics.median(v):.0f} tok/s = {out[f'fraction_{side}']:.1%}" for side, v in decode.items())
    print(f"[p4] roofline {os.path.basename(engine.settings['model'])} (CUDA graphs: {out['cuda_graphs']}): "
          f"{step_bytes / 1e9:.3f} GB/step at {bandwidth / 1e12:.2f} TB/s -> {roof:.0f} tok/s; {shown}", flush=True)
    return out


def print_spies(spied: dict) -> None:
    """One block per profiled side: GIL share and busiest threads/functions of each process."""
    for key, found in spied.items():
        if "error" in found:
            print(f"[p4] spy {key}: {found['error']}", flush=True)
            continue
        for role in ("frontend", "core"):
            part = found.get(role)
            if not part:
                continue
            if "error" in part:
                print(f"[p4] spy {key} {role}: {part['error']}", flush=True)
                continue
            what = "GIL held" if role == "frontend" else "busy samples"
            print(f"[p4] spy {key} {role} (pid {found['pids'][role]}, CPUs {part.get('cpus')}): {what} {part.get('share_of_time', 0):.2f} of the time; "
                  f"threads' CPU: " + ", ".join(f"{name} {share:.2f}" for name, share in part["thread_cpu"][:5]), flush=True)
            for name, n in part["own"][:12]:
                print(f"[p4] spy {key} {role} | own {100 * n / max(1, part['samples']):5.1f}% {name[:140]}", flush=True)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def cpu_snapshot(into: dict, key: str, delay: float = 2.0) -> None:
    """`top` once, a moment into a run: which processes hold the CPUs while tokens stream."""
    import subprocess
    import threading

    def take() -> None:
        out = subprocess.run(["top", "-b", "-n", "1", "-w", "200"], capture_output=True, text=True, timeout=20).stdout
        into[key] = "\n".join(out.splitlines()[:28])

    threading.Timer(delay, take).start()


def spy_later(into: dict, key: str, side: str, args, threads: list) -> None:
    """py-spy (bench/gpu/spy.py) over a steady run's window: the side's front end and engine core."""
    import threading

    from spy import profile, stub_pid

    def take() -> None:
        time.sleep(1.0 + args.warmup + 0.5)  # the run's one-second lead, its warm-up, a margin
        pid = os.getpid() if side.startswith("engine") else stub_pid(side.removesuffix("+pin"))
        if pid is None:
            into[key] = {"error": f"no stub process serves {side}"}
            return
        try:
            into[key] = profile(args.spy, key, pid, max(1.0, args.window - 1.5), args.spy_dir)
        except Exception as exc:  # noqa: BLE001 - a failed profile must not cost the run
            into[key] = {"error": repr(exc)}

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    threads.append(thread)


def spin() -> None:
    while True:
        pass


class Burners:
    """``count`` processes that each keep a CPU busy: the engine alone under as much other CPU
    load as the Triton side's server, stub and client processes put on the machine."""

    def __init__(self, count: int) -> None:
        self.procs = [mp.get_context("spawn").Process(target=spin, daemon=True) for _ in range(count)]

    def __enter__(self) -> Burners:
        for proc in self.procs:
            proc.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs:
            proc.kill()
            proc.join()


PINNING: list = []  # the Pinning of a --pin run (bench/gpu/pinning.py)


async def measure_once(engine: EngineAlone, pool, args, side: str, n: int, sampling: dict) -> dict:
    """One repetition of one side at concurrency n, in the chosen mode."""
    if side.endswith("+pin"):
        base = side.removesuffix("+pin")
        from spy import stub_pid

        frontend = os.getpid() if base == "engine" else stub_pid(base)
        with PINNING[0].hold(frontend):
            return await measure_once(engine, pool, args, base, n, sampling)
    if side == "engine+burn":
        with Burners(args.engine_burn):
            await asyncio.sleep(0.5)  # the burners are spinning before the clock starts
            return await measure_once(engine, pool, args, "engine", n, sampling)
    if args.mode == "steady":
        if side == "engine":
            return await engine.run_steady(n, sampling, args.warmup, args.window)
        return await run_triton_steady(pool, args.url, side, n, sampling, args.warmup, args.window)
    recs = await (engine.run(n, sampling) if side == "engine" else run_triton(pool, args.url, side, n, sampling))
    return summarize(recs) | {"mode": "wave"}


async def side_by_side(engine: EngineAlone, pool, args, sampling: dict, snapshots: dict, spied: dict) -> list[dict]:
    sides = ["engine", *(["engine+burn"] if args.engine_burn else []), args.model, *args.variant]
    if args.pin:
        sides += ["engine+pin", f"{args.model}+pin"]
    rows, spies = [], []
    for n in args.concurrency:
        runs: dict[str, list[dict]] = {side: [] for side in sides}
        for rep in range(args.reps):
            for side in sides[rep % len(sides):] + sides[:rep % len(sides)]:
                if rep == 0 and n == max(args.concurrency):
                    cpu_snapshot(snapshots, f"{side} c={n}")
                if args.spy and args.mode == "steady" and rep == args.reps - 1 and n == max(args.concurrency):
                    spy_later(spied, f"{side} c={n}", side, args, spies)
                GC_PAUSES.reset()
                s = await measure_once(engine, pool, args, side, n, sampling)
                if side.startswith("engine"):
                    s["gc"] = GC_PAUSES.summary()
                    print(f"[p4] c={n:<3} rep={rep} {side:<12} gc in this process: {s['gc']}", flush=True)
                runs[side].append(s)
                print(f"[p4] c={n:<3} rep={rep} {side:<12} {args.mode} tokens={s['output_tokens']} requests={s['streams']} in={s['input_tokens']} "
                      f"{s['output_tok_s']:.0f} tok/s TTFT median {_ms(s['ttft_ms_median'])} p90 {_ms(s['ttft_ms_p90'])} "
                      f"decode/stream {s['decode_tok_s_median'] or 0:.0f} tok/s finish={s['finish_reasons']}", flush=True)
        # Each side's median over repetitions (and its best, for the spread).
        med = {side: {"output_tok_s": statistics.median(r["output_tok_s"] for r in rs),
                      "ttft_ms": statistics.median(r["ttft_ms_median"] for r in rs)} for side, rs in runs.items()}
        best = {side: max(r["output_tok_s"] for r in rs) for side, rs in runs.items()}
        row = {"concurrency": n, "mode": args.mode, "runs": runs, "median": med, "vs_engine": {}}
        for side in sides[1:]:
            v = row["vs_engine"][side] = {
                "ratio_output_tok_s": med[side]["output_tok_s"] / med["engine"]["output_tok_s"],
                "ratio_best_output_tok_s": best[side] / best["engine"],
                "ttft_diff_ms": med[side]["ttft_ms"] - med["engine"]["ttft_ms"],
            }
            if args.mode == "wave":
                v["same_token_counts"] = all(r["output_tokens"] == runs["engine"][0]["output_tokens"]
                                             and r["input_tokens"] == runs["engine"][0]["input_tokens"] for r in runs[side])
            print(f"[p4] c={n}: {side}/engine output tok/s = {v['ratio_output_tok_s']:.3f} (medians of {args.reps}; best/best "
                  f"{v['ratio_best_output_tok_s']:.3f}); TTFT {med[side]['ttft_ms']:.1f} vs {med['engine']['ttft_ms']:.1f} ms "
                  f"({v['ttft_diff_ms']:+.1f}); same token counts: {v.get('same_token_counts', 'n/a (steady)')}", flush=True)
        if args.pin:  # both pinned: Triton's engine core and the engine alone's each on the reserved core
            a, b = med[f"{args.model}+pin"], med["engine+pin"]
            row["pinned"] = {"ratio_output_tok_s": a["output_tok_s"] / b["output_tok_s"], "ttft_diff_ms": a["ttft_ms"] - b["ttft_ms"]}
            print(f"[p4] c={n}: {args.model}+pin/engine+pin output tok/s = {row['pinned']['ratio_output_tok_s']:.3f}; TTFT "
                  f"{a['ttft_ms']:.1f} vs {b['ttft_ms']:.1f} ms ({row['pinned']['ttft_diff_ms']:+.1f})", flush=True)
        rows.append(row)
    for thread in spies:
        thread.join(120)
    return rows


async def bench(args) -> dict:
    result: dict = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "args": vars(args)}
    bandwidth = result["copy_bandwidth_Bps"] = copy_bandwidth()
    print(f"[p4] device copy bandwidth {bandwidth / 1e12:.2f} TB/s (read+write)", flush=True)
    sampling = dict(SAMPLING, max_tokens=args.max_tokens)
    long = dict(sampling, max_tokens=args.roofline_tokens)
    if args.pin:
        from pinning import Pinning

        PINNING.append(Pinning())
        print(f"[p4] pinned sides: {PINNING[0].describe()}", flush=True)
    ctx = mp.get_context("spawn")
    with ctx.Pool(8) as pool:
        pids = pool.map(warm_worker, range(8))
        engine = EngineAlone(args.config, args.backend_dir)
        result["engine_params"], result["engine_start_s"] = engine.params, engine.start_s
        print(f"[p4] engine alone ready in {engine.start_s:.1f}s; {len(set(pids))} client processes", flush=True)
        await engine.run(4, dict(sampling, max_tokens=32))
        for side in [args.model, *args.variant]:
            await run_triton(pool, args.url, side, 4, dict(sampling, max_tokens=32))
        snapshots, spied = result["cpu_top"], result["spy"] = {}, {}
        result["side_by_side"] = await side_by_side(engine, pool, args, sampling, snapshots, spied)
        print_spies(spied)

        decode: dict[str, list[float]] = {side: [] for side in ["engine", args.model, *args.variant]}
        for _ in range(3):
            for side in decode:
                recs = await (engine.run(1, long) if side == "engine" else run_triton(pool, args.url, side, 1, long))
                decode[side].append(summarize(recs)["decode_tok_s_median"])
        result["roofline"] = [roofline(engine, bandwidth, args.roofline_tokens, decode)]
        served = engine.settings["model"]
        engine.shutdown()

    contrasts = [({"enforce_eager": "true"}, "eager")] if args.eager_contrast else []
    contrasts += [({"model": d}, os.path.basename(d)) for d in args.extra_model]
    for overrides, label in contrasts:
        engine = EngineAlone(args.config, args.backend_dir, **overrides)
        print(f"[p4] engine alone ({label}) ready in {engine.start_s:.1f}s", flush=True)
        await engine.run(1, dict(sampling, max_tokens=32))
        short = dict(sampling, max_tokens=args.contrast_tokens)
        values = [summarize(await engine.run(1, short))["decode_tok_s_median"] for _ in range(2)]
        result["roofline"].append(roofline(engine, bandwidth, args.contrast_tokens, {"engine": values}))
        engine.shutdown()

    from gpu_floor import launch_us, matmul_step

    floor = result["gpu_floor"] = {"launch_us": launch_us(), "nproc": os.cpu_count(), "matmul_step": []}
    print(f"[p4] host: {floor['nproc']} CPUs; one tiny kernel launch takes {floor['launch_us']:.1f} us", flush=True)
    for model_dir in [served, *args.extra_model]:
        m = matmul_step(model_dir)
        m["fraction_of_copy_bandwidth"] = m["bytes_per_s"] / bandwidth
        floor["matmul_step"].append(m)
        print(f"[p4] GPU floor {os.path.basename(model_dir)}: all linear weights in one CUDA graph {m['step_ms']:.3f} ms/token "
              f"({m['tok_s']:.0f} tok/s, {m['fraction_of_copy_bandwidth']:.1%} of copy bandwidth)", flush=True)
    for key, text in snapshots.items():
        print(f"[p4] top during {key}:\n" + "\n".join(f"[p4] | {line}" for line in text.splitlines()), flush=True)
    return result


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--model", default="llama2")
    ap.add_argument("--config", required=True)
    ap.add_argument("--backend-dir", required=True, help="tritonserver's backends/python (triton_python_backend_utils.py)")
    ap.add_argument("--variant", action="append", default=[], help="another Triton model serving the same config")
    ap.add_argument("--extra-model", action="append", default=[], help="model dir for an engine-only roofline run")
    ap.add_argument("--eager-contrast", action="store_true", help="also the served model without CUDA graphs (engine only)")
    ap.add_argument("--concurrency", default="1,16,64")
    ap.add_argument("--mode", choices=["steady", "wave"], default="steady")
    ap.add_argument("--engine-burn", type=int, default=0,
                    help="also measure the engine alone beside N CPU-spinning processes (side 'engine+burn')")
    ap.add_argument("--warmup", type=float, default=3.0, help="steady: seconds before the window opens")
    ap.add_argument("--window", type=float, default=10.0, help="steady: seconds measured")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--roofline-tokens", type=int, default=1024)
    ap.add_argument("--contrast-tokens", type=int, default=256, help="tokens per run for --extra-model/--eager-contrast")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--pin", action="store_true",
                    help="also measure the engine alone and --model with their engine core alone on one physical core "
                         "(sides 'engine+pin', 'MODEL+pin'; bench/gpu/pinning.py)")
    ap.add_argument("--spy", help="py-spy binary: profile each side's last steady repetition at the top concurrency")
    ap.add_argument("--spy-dir", default=".", help="where py-spy's raw recordings go")
    ap.add_argument("--out", default="p4.json")
    args = ap.parse_args()
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    result = asyncio.run(bench(args))
    with open(args.out, "w") as fh:
        json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
