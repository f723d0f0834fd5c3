"""pacer: streams a fixed Markdown text at a fixed token rate with a fixed time to first token.

The ground truth for triton-console's timings (see config.pbtxt for the schedule). Every request
runs in its own thread, so concurrent requests pace independently; each checks for cancellation
before every send and stops with finish_reason "cancelled" when the client went away.

A send starts on time: the thread wakes ``LEAD_S`` before a token is due, checks for
cancellation (a round trip to tritonserver) and builds the response, then sleeps out the rest,
so neither adds to the schedule. ``length_jitter`` J ends each request after a seeded draw of
max_tokens - 0..J tokens (finish_reason "stop" when shortened, as an end-of-sequence would), so
that closed-loop streams do not march in lockstep and arrive in bursts (docs/benchmarks.md, P3).
"""

import json
import os
import random
import site
import sys
import threading
import time

for _d in os.environ.get("EXTRA_SITE_DIRS", "").split(os.pathsep):
    if _d:
        site.addsitedir(_d)

import numpy as np  # noqa: E402
import triton_python_backend_utils as pb_utils  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pacer_text import token  # noqa: E402 - the fixed text, next to this file


LEAD_S = 0.002  # wake this early: the cancel check and the response are ready when a token is due


def _bytes(name, value):
    return pb_utils.Tensor(name, np.array([value.encode("utf-8")], dtype=np.object_))


def _uint(name, value):
    return pb_utils.Tensor(name, np.array([value], dtype=np.uint32))


def _response(text, count, reason=None, input_tokens=None):
    """A response with ``count`` tokens of ``text``; ``reason`` on the last, ``input_tokens`` on the first."""
    outputs = [_bytes("text_output", text), _uint("num_output_tokens", count)]
    if reason is not None:
        outputs.append(_bytes("finish_reason", reason))
    if input_tokens is not None:
        outputs.append(_uint("num_input_tokens", input_tokens))
    return pb_utils.InferenceResponse(outputs)


def _sleep_until(moment):
    delay = moment - time.monotonic()
    if delay > 0:
        time.sleep(delay)


class TritonPythonModel:
    def initialize(self, args):
        cfg = json.loads(args["model_config"])
        params = {k: v["string_value"] for k, v in cfg.get("parameters", {}).items()}
        self.rate = float(params.get("tokens_per_second", "200"))
        self.ttft_ms = float(params.get("ttft_ms", "50"))
        self.max_tokens = int(params.get("max_tokens", "64"))
        self.length_jitter = int(params.get("length_jitter", "0"))
        self.lengths = random.Random(args.get("model_instance_name", "pacer"))  # str seed: same draws every start
        self.threads = set()
        self.lock = threading.Lock()

    def execute(self, requests):
        for request in requests:
            arrived = time.monotonic()
            sender = request.get_response_sender()
            try:  # inputs are read here: their memory is released once execute returns
                plan = self._plan(request)
            except (ValueError, TypeError, AttributeError) as exc:
                sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError(f"pacer: bad request: {exc}")),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
                continue
            if plan["refuse"]:
                sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError("pacer: prompt refused on purpose (pacer:refuse)")),
                            flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
                continue
            thread = threading.Thread(target=self._serve, args=(sender, plan, arrived), daemon=True)
            with self.lock:
                self.threads.add(thread)
            thread.start()
        return None

    def _plan(self, request):
        raw = pb_utils.get_input_tensor_by_name(request, "sampling_parameters")
        sampling = {}
        if raw is not None:
            text = raw.as_numpy().reshape(-1)[0]
            sampling = json.loads(text.decode("utf-8") if isinstance(text, bytes) else text) or {}
        stream = pb_utils.get_input_tensor_by_name(request, "stream")
        streaming = bool(stream.as_numpy().reshape(-1)[0]) if stream is not None else False
        prompt = pb_utils.get_input_tensor_by_name(request, "text_input").as_numpy().reshape(-1)[0]
        prompt = prompt.decode("utf-8", "replace") if isinstance(prompt, bytes) else str(prompt)
        n = int(sampling.get("max_tokens", self.max_tokens))
        shorter = self.lengths.randint(0, min(self.length_jitter, n - 1)) if self.length_jitter and n > 1 else 0
        return {
            "n": n - shorter,
            "end": "stop" if shorter else "length",
            "rate": float(sampling.get("pacer_tokens_per_second", self.rate)),
            "ttft": float(sampling.get("pacer_ttft_ms", self.ttft_ms)) / 1000.0,
            "fail_after": sampling.get("pacer_fail_after"),
            "stream": streaming,
            "input_tokens": len(prompt.split()),
            "refuse": "pacer:refuse" in prompt,  # a prompt the model rejects (batch failure tests)
        }

    def _serve(self, sender, plan, arrived):
        try:
            self._pace(sender, plan, arrived)
        finally:
            with self.lock:
                self.threads.discard(threading.current_thread())

    def _pace(self, sender, plan, arrived):
        n, sent, pending = plan["n"], 0, []
        first_response = True
        while sent < n:
            due = arrived + plan["ttft"] + sent / plan["rate"]
            _sleep_until(due - LEAD_S)
            if sender.is_cancelled():
                print(f"pacer: request cancelled after {sent} of {n} tokens", flush=True)  # tests read the server log
                self._final(sender, "", 0, "cancelled", plan, first_response)
                return
            if plan["fail_after"] is not None and sent >= int(plan["fail_after"]):
                sender.send(pb_utils.InferenceResponse(error=pb_utils.TritonError(
                    f"pacer: stream broken on purpose after {sent} tokens")),
                    flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)
                return
            # Every token whose time has come goes out now (merged when the sender fell behind).
            now = max(time.monotonic(), due)
            count = 1
            while sent + count < n and arrived + plan["ttft"] + (sent + count) / plan["rate"] <= now:
                count += 1
            text = "".join(token(i) for i in range(sent, sent + count))
            sent += count
            if not plan["stream"]:
                pending.append(text)
                _sleep_until(due)
                continue
            final = sent >= n
            response = _response(text, count, plan["end"] if final else None, plan["input_tokens"] if first_response else None)
            first_response = False
            _sleep_until(due)
            sender.send(response, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL if final else 0)
        if not plan["stream"]:
            self._final(sender, "".join(pending), n, plan["end"], plan, True)

    def _final(self, sender, text, count, reason, plan, with_input_tokens):
        response = _response(text, count, reason, plan["input_tokens"] if with_input_tokens else None)
        sender.send(response, flags=pb_utils.TRITONSERVER_RESPONSE_COMPLETE_FINAL)

    def finalize(self):
        with self.lock:
            threads = list(self.threads)
        for thread in threads:
            thread.join(timeout=5)
