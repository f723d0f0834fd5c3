"""Drives model.py's own Outbox and Job from an engine thread that emits as fast as it is told
(tests/test_outbox.py, bench/outbox_first_response.py; repositories from bench/outbox_burst.py):
responses merge, stay in order, and a cancel reaches the engine through the outbox's checks.
text_input is JSON: {"tokens": N, "gap_ms": G, "pause_every": P, "unsendable_at": K} (a 0.5 ms
pause after every P tokens lets the senders in, as vLLM's loop does between outputs; token K is
text no response can carry). Config parameters: model_py
(the model.py whose Outbox and Job are driven), response_threads."""

import importlib.util
import json
import threading
import time

import triton_python_backend_utils as pb_utils


class TritonPythonModel:
    def initialize(self, args):
        config = json.loads(args["model_config"])
        path = config["parameters"]["model_py"]["string_value"]
        spec = importlib.util.spec_from_file_location("served_model", path)
        self.served = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.served)
        threads = int(config["parameters"]["response_threads"]["string_value"])
        self.metrics = self.served.Metrics(args["model_name"], str(args["model_version"]))
        self.outbox = self.served.Outbox(threads, pb_utils.Logger)

    def execute(self, requests):
        for request in requests:
            text = pb_utils.get_input_tensor_by_name(request, "text_input").as_numpy().reshape(-1)[0].decode()
            job = self.served.Job(request, [1, 2, 3], "", {"stop": []}, True, False, self.metrics, self.outbox)
            job.set_state("waiting")
            threading.Thread(target=self._generate, args=(job, json.loads(text)), daemon=True).start()
        return None

    def _generate(self, job, spec):
        job.set_state("running")
        for i in range(spec["tokens"]):
            if job.cancel_known():  # as vLLM's loop asks: no round trip, what the outbox learned
                job.finish("cancelled")
                return
            job.emit("\ud800" if i == spec.get("unsendable_at") else f"t{i} ", 1)  # a lone surrogate cannot be encoded
            if spec.get("gap_ms"):
                time.sleep(spec["gap_ms"] / 1000)
            elif spec.get("pause_every") and i % spec["pause_every"] == 0:
                time.sleep(0.0005)
        job.finish("length")

    def finalize(self):
        self.outbox.close()
