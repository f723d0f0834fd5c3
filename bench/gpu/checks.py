"""Check every behaviour the model wire protocol promises, on vLLM inside tritonserver.

usage: checks.py --url HOST:GRPC --metrics-url URL --model NAME=MODEL_DIR ... [--cancel-model NAME]
                 [--server-log FILE] [--out results.json]

Drives the project's own client (console.core.streaming.TritonStreamClient). Exits 1 if any
check fails; every check prints its evidence. MODEL_DIR gives the tokenizer, so token counts are
checked against the model's own chat template rendered here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import threading
import time

import numpy as np
import tritonclient.grpc as grpcclient
from proof_common import Report, metric, scrape

from console.core.streaming import Delta, Final, StreamError, TritonStreamClient

MESSAGES = [
    {"role": "system", "content": "answer in one short sentence"},
    {"role": "user", "content": "hello world, what is paged attention?"},
]
PLAIN = "the quick brown fox jumps over the lazy dog"


async def collect(client: TritonStreamClient, model: str, prompt, sampling=None) -> tuple[list[Delta], Final]:
    deltas, final = [], None
    async for event in client.stream(model, prompt, sampling):
        if isinstance(event, Delta):
            deltas.append(event)
        else:
            final = event
    return deltas, final


def blocking_request(url: str, model: str, text: str, sampling_json: str | None, stream: bool) -> tuple[str, str | None]:
    """One request over the plain tritonclient stream API (non-streamed answers, raw JSON)."""
    done, out, err = threading.Event(), [], []

    def callback(result, error):
        if error is not None:
            err.append(str(error))
            done.set()
            return
        resp = result.get_response()
        if len(resp.outputs):
            value = result.as_numpy("text_output")
            if value is not None and value.size:
                out.append(value.reshape(-1)[0].decode("utf-8", "replace"))
        final = resp.parameters.get("triton_final_response")
        if final is not None and final.bool_param:
            done.set()

    client = grpcclient.InferenceServerClient(url)
    client.start_stream(callback=callback)
    inputs = [grpcclient.InferInput("text_input", [1], "BYTES"), grpcclient.InferInput("stream", [1], "BOOL")]
    inputs[0].set_data_from_numpy(np.array([text.encode()], dtype=np.object_))
    inputs[1].set_data_from_numpy(np.array([stream]))
    if sampling_json is not None:
        inputs.append(grpcclient.InferInput("sampling_parameters", [1], "BYTES"))
        inputs[2].set_data_from_numpy(np.array([sampling_json.encode()], dtype=np.object_))
    client.async_stream_infer(model, inputs, enable_empty_final_response=True)
    done.wait(120)
    client.stop_stream()
    client.close()
    return "".join(out), (err[0] if err else None)


class GpuSampler:
    """nvidia-smi utilization.gpu every 100 ms in the background (independent of the server)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, int]] = []
        try:
            self.proc = subprocess.Popen(
                ["nvidia-smi", "--query-gpu=utilization.gpu", "--format=csv,noheader,nounits", "-lms", "100"],
                stdout=subprocess.PIPE, text=True,
            )
        except OSError:  # no GPU here (a CPU dry run of the checks): no samples
            self.proc = None
            return
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            if line.strip().isdigit():
                self.samples.append((time.monotonic(), int(line.strip())))

    def between(self, t0: float, t1: float) -> list[int]:
        return [u for t, u in self.samples if t0 <= t < t1]

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)


async def check_model(rep: Report, client: TritonStreamClient, url: str, name: str, model_dir: str, metrics_url: str) -> None:
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    greedy = {"temperature": 0, "max_tokens": 48, "ignore_eos": True}

    # Deltas: several, never cumulative, token counts add up, same text as the non-streamed answer.
    # One request first puts the prompt in vLLM's prefix cache: a cached prefill differs from a
    # fresh one in the last bits, and random weights leave near-ties that greedy decoding flips.
    await collect(client, name, PLAIN, greedy)
    before = scrape(metrics_url)
    deltas, final = await collect(client, name, PLAIN, greedy)
    after = scrape(metrics_url)
    joined = "".join(d.text for d in deltas)
    rep.check(f"{name}: streamed deltas", len(deltas) >= 2 and joined == final.text and sum(d.tokens for d in deltas) == 48
              and final.output_tokens == 48 and final.finish_reason == "length",
              deltas=len(deltas), tokens=final.output_tokens, finish=final.finish_reason, first=[d.text for d in deltas[:5]])
    # Cumulative deltas would join into far more text than the whole (non-streamed) answer.
    whole, err = blocking_request(url, name, PLAIN, json.dumps(greedy), stream=False)
    rep.check(f"{name}: deltas are new text only: joined, they equal the non-streamed answer (greedy)",
              err is None and whole == joined, error=err, joined_chars=len(joined), whole_chars=len(whole),
              streamed=joined[:60], whole=whole[:60])
    # model.py's template_plain_text (on in our configs): plain text is one user message through the template.
    plain_ids = tok(tok.apply_chat_template([{"role": "user", "content": PLAIN}], add_generation_prompt=True, tokenize=False),
                    add_special_tokens=False).input_ids
    rep.check(f"{name}: plain prompt sent as one templated user message", final.input_tokens == len(plain_ids),
              server=final.input_tokens, local=len(plain_ids))
    gen = (metric(after, "vllm:generation_tokens_total", model=name) or 0) - (metric(before, "vllm:generation_tokens_total", model=name) or 0)
    prm = (metric(after, "vllm:prompt_tokens_total", model=name) or 0) - (metric(before, "vllm:prompt_tokens_total", model=name) or 0)
    rep.check(f"{name}: metrics count this request's tokens", gen == 48 and prm == len(plain_ids), generation=gen, prompt=prm)

    # Server-side chat template: the model's own, rendered once (no double BOS).
    rendered = tok.apply_chat_template(MESSAGES, add_generation_prompt=True, tokenize=False)
    ids = tok(rendered, add_special_tokens=False).input_ids
    _, chat = await collect(client, name, MESSAGES, {"max_tokens": 8, "ignore_eos": True})
    rep.check(f"{name}: chat messages rendered with the model's template", chat.input_tokens == len(ids),
              server=chat.input_tokens, local=len(ids), rendered=rendered, double_bos_would_be=len(ids) + 1)

    # Typed sampling parameters.
    _, short = await collect(client, name, PLAIN, {"max_tokens": 7, "ignore_eos": True})
    rep.check(f"{name}: max_tokens honoured", short.output_tokens == 7 and short.finish_reason == "length",
              tokens=short.output_tokens, finish=short.finish_reason)
    _, as_text = await collect(client, name, PLAIN, {"temperature": "0", "max_tokens": "48", "ignore_eos": "true"})
    rep.check(f"{name}: string values converted to the field types", as_text.text == final.text and as_text.output_tokens == 48,
              text=as_text.text[:40])
    seeded = [await collect(client, name, PLAIN, {"temperature": 1.0, "seed": s, "max_tokens": 24, "ignore_eos": True}) for s in (7, 7, 8)]
    texts = [f.text for _, f in seeded]
    rep.check(f"{name}: seed makes sampling repeatable", texts[0] == texts[1] and texts[0] != texts[2], texts=texts)
    cut = final.text[12:16]
    if len(cut) == 4 and final.text.find(cut) == 12:
        _, stopped = await collect(client, name, PLAIN, {"temperature": 0, "max_tokens": 48, "stop": [cut]})
        rep.check(f"{name}: stop strings", stopped.finish_reason == "stop" and stopped.text == final.text[:12],
                  stop=cut, text=stopped.text, finish=stopped.finish_reason)
    else:
        rep.note(f"{name}: stop check skipped (greedy text has no unique 4-char cut)", text=final.text[:40])

    # Error responses, each followed by a request that must still succeed.
    bad = {
        "temperature as a word": ({"temperature": "hot"}, "temperature"),
        "negative max_tokens": ({"max_tokens": -1}, "max_tokens"),
        "unknown parameter": ({"no_such_knob": 1}, "no_such_knob"),
        "top_p out of range": ({"top_p": 7}, "top_p"),
    }
    for label, (sampling, word) in bad.items():
        try:
            await collect(client, name, PLAIN, sampling)
            rep.check(f"{name}: error for {label}", False, sampling=sampling, got="no error")
        except StreamError as exc:
            rep.check(f"{name}: error for {label}", exc.kind == "bad_request" and word in exc.message,
                      kind=exc.kind, message=exc.message[:200])
    for label, text, sampling_json in (
        ("malformed sampling JSON", PLAIN, "{not json"),
        ("chat messages without content", json.dumps([{"role": "user"}]), None),
        ("prompt longer than max_model_len", "fox " * 20000, None),
    ):
        _, err = blocking_request(url, name, text, sampling_json, stream=True)
        rep.check(f"{name}: error for {label}", err is not None and len(err) > 10, message=(err or "")[:200])
    _, alive = await collect(client, name, PLAIN, {"max_tokens": 4, "ignore_eos": True})
    rep.check(f"{name}: still serving after the errors", alive.output_tokens == 4)


async def both_models(rep: Report, client: TritonStreamClient, names: list[str]) -> None:
    sampling = {"max_tokens": 128, "ignore_eos": True}
    jobs = [(n, asyncio.create_task(collect(client, n, f"stream {i} {PLAIN}", sampling))) for n in names for i in range(16)]
    results = {n: [] for n in names}
    for n, job in jobs:
        results[n].append((await job)[1])
    spans = {n: (min(f.t_start for f in fs), max(f.t_end for f in fs)) for n, fs in results.items()}
    overlap = max(s for s, _ in spans.values()) < min(e for _, e in spans.values())
    ok = all(f.output_tokens == 128 and f.finish_reason == "length" for fs in results.values() for f in fs)
    rep.check("both models at once (16 streams each)", ok and overlap,
              per_model={n: {"tokens": sum(f.output_tokens for f in fs), "span_s": round(spans[n][1] - spans[n][0], 3)} for n, fs in results.items()})


async def cancel_aborts(rep: Report, client: TritonStreamClient, name: str, metrics_url: str, server_log: str | None) -> None:
    """Cancel 3 of 4 long streams, then the last: the engine's running count must drop at once."""
    running = lambda: metric(scrape(metrics_url), "vllm:num_requests_running", model=name)  # noqa: E731
    gen_total = lambda: metric(scrape(metrics_url), "vllm:generation_tokens_total", model=name) or 0.0  # noqa: E731
    sampler = GpuSampler()
    first = [asyncio.Event() for _ in range(4)]
    counts = [0] * 4

    async def consume(i: int) -> None:
        async for event in client.stream(name, f"long story {i} {PLAIN}", {"max_tokens": 6000, "ignore_eos": True}):
            if isinstance(event, Delta):
                counts[i] += event.tokens
                first[i].set()

    tasks = [asyncio.create_task(consume(i)) for i in range(4)]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in first)), 120)
    await asyncio.sleep(0.5)
    r4, t_busy = running(), time.monotonic()
    for task in tasks[:3]:
        task.cancel()
    t_cancel = time.monotonic()
    r1, drop_s = None, None
    while time.monotonic() - t_cancel < 10:
        r1 = running()
        if r1 is not None and r1 <= 1:
            drop_s = time.monotonic() - t_cancel
            break
        await asyncio.sleep(0.05)
    still = counts[3]
    await asyncio.sleep(1.0)
    last_alive = counts[3] > still and not tasks[3].done()
    tasks[3].cancel()
    t_all = time.monotonic()
    r0 = None
    while time.monotonic() - t_all < 10:
        r0 = running()
        if r0 == 0:
            break
        await asyncio.sleep(0.05)
    g0 = gen_total()
    await asyncio.sleep(2.0)
    g1 = gen_total()
    sampler.stop()
    busy = sampler.between(t_busy - 1.0, t_busy)
    idle = sampler.between(t_all + 0.5, t_all + 2.5)
    aborted = ""
    if server_log:
        with open(server_log, errors="replace") as fh:
            aborted = "\n".join(line.strip()[:200] for line in fh if re.search(r"abort", line, re.I))[-1500:]
    rep.check(
        "cancel aborts the engine request",
        r4 == 4 and r1 == 1 and last_alive and r0 == 0 and g1 == g0,
        running_before=r4, running_after_3_cancelled=r1, drop_s=None if drop_s is None else round(drop_s, 3),
        remaining_stream_kept_going=last_alive, running_after_all_cancelled=r0,
        generation_tokens_growth_after_cancel=g1 - g0, tokens_streamed=counts,
        gpu_util_busy=busy[-8:], gpu_util_after=idle[:12],
    )
    rep.note("server log lines about aborts", lines=aborted or "(none logged)")


async def cancel_frees_engine_slots(rep: Report, client: TritonStreamClient, name: str, metrics_url: str, slots: int) -> None:
    """Fill every engine slot (max_num_seqs) with long streams; one more request must wait in the
    engine's queue until the cancel: its first token right after the cancel shows that the
    engine freed the slots (not just that the streams ended)."""
    firsts = [asyncio.Event() for _ in range(slots)]
    counts = [0] * slots

    async def consume(i: int) -> None:
        async for event in client.stream(name, f"filler {i} {PLAIN}", {"max_tokens": 6000, "ignore_eos": True}):
            if isinstance(event, Delta):
                counts[i] += event.tokens
                firsts[i].set()

    fillers = [asyncio.create_task(consume(i)) for i in range(slots)]
    await asyncio.wait_for(asyncio.gather(*(e.wait() for e in firsts)), 120)
    queued = asyncio.create_task(collect(client, name, f"queued {PLAIN}", {"max_tokens": 8, "ignore_eos": True}))
    t0, c0 = time.monotonic(), sum(counts)
    await asyncio.sleep(2.0)
    text = scrape(metrics_url)
    waiting, running = metric(text, "vllm:num_requests_waiting", model=name), metric(text, "vllm:num_requests_running", model=name)
    rate = (sum(counts) - c0) / (time.monotonic() - t0) / slots  # tokens/s per filler stream
    still_queued = not queued.done()
    for task in fillers:
        task.cancel()
    t_cancel = time.monotonic()
    _, final = await asyncio.wait_for(queued, 120)
    after_cancel = None if final.t_first is None else final.t_first - t_cancel
    left = 6000 - max(counts)
    rep.check(
        f"cancel frees the engine's slots ({slots} = max_num_seqs)",
        still_queued and after_cancel is not None and after_cancel < 2.0 and final.output_tokens == 8,
        queued_waited_while_slots_full=still_queued, waiting_gauge=waiting, running_gauge=running,
        first_token_after_cancel_s=None if after_cancel is None else round(after_cancel, 3),
        without_abort_it_would_wait_s=round(left / rate, 1) if rate else None, filler_decode_tok_s=round(rate, 1),
    )


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--metrics-url", required=True)
    ap.add_argument("--model", action="append", required=True, help="NAME=MODEL_DIR")
    ap.add_argument("--cancel-model", default="llama2")
    ap.add_argument("--slots", type=int, default=64, help="the cancel model's max_num_seqs")
    ap.add_argument("--server-log")
    ap.add_argument("--out", default="checks.json")
    ap.add_argument("--sections", default="behaviours,both,cancel", help="which checks to run (comma list)")
    args = ap.parse_args()
    models = dict(item.split("=", 1) for item in args.model)
    rep = Report()
    client = TritonStreamClient(args.url, timeout_s=120)
    wanted = set(args.sections.split(","))
    sections = []
    if "behaviours" in wanted:
        sections += [(f"{name} behaviours", lambda n=name, d=model_dir: check_model(rep, client, args.url, n, d, args.metrics_url))
                     for name, model_dir in models.items()]
    if "both" in wanted:
        sections.append(("both models", lambda: both_models(rep, client, list(models))))
    if "cancel" in wanted:
        sections.append(("cancel", lambda: cancel_aborts(rep, client, args.cancel_model, args.metrics_url, args.server_log)))
        sections.append(("cancel slots", lambda: cancel_frees_engine_slots(rep, client, args.cancel_model, args.metrics_url, args.slots)))
    try:
        for label, section in sections:
            try:
                await section()
            except Exception as exc:  # noqa: BLE001 - a crashed section is a failed check; the rest still run
                rep.check(f"{label} ran to the end", False, error=f"{type(exc).__name__}: {exc}")
    finally:
        await client.close()
        rep.write(args.out)
    print(f"[checks] {len(rep.failed)} failed: {rep.failed}", flush=True)
    return 1 if rep.failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
