"""What the GPU alone needs per decode step, to tell device limits from host (CPU) limits.

- ``launch_us``: host time per tiny kernel launch (2,000 back-to-back ``add_`` on one element):
  on a machine where launching is slow, an engine step that launches kernels outside CUDA graphs
  (inputs, sampling) is bound by it.
- ``matmul_step``: every linear weight of a model (all layers + lm_head, bf16) multiplied by a
  one-token activation, captured once in a CUDA graph and replayed: the weight-streaming part of a
  decode step with no host work at all. Its bytes/time against the copy bandwidth says how close
  the device itself gets to the roofline.
"""

from __future__ import annotations

import os
import time


def launch_us(n: int = 2000) -> float:
    import torch

    x = torch.zeros(1, device="cuda")
    for _ in range(100):
        x.add_(1)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(n):
        x.add_(1)
    torch.cuda.synchronize()
    return 1e6 * (time.perf_counter() - t0) / n


def matmul_step(model_dir: str, replays: int = 50) -> dict:
    import torch
    from safetensors.torch import load_file

    weights = []
    for name in sorted(os.listdir(model_dir)):
        if name.endswith(".safetensors"):
            tensors = load_file(os.path.join(model_dir, name), device="cuda")
            weights += [w for key, w in tensors.items() if w.dim() == 2 and "embed_tokens" not in key]
    inputs = {w.shape[1]: torch.randn(1, w.shape[1], dtype=w.dtype, device="cuda") for w in weights}
    outputs = [torch.empty(1, w.shape[0], dtype=w.dtype, device="cuda") for w in weights]

    def step() -> None:
        for w, out in zip(weights, outputs):
            torch.matmul(inputs[w.shape[1]], w.t(), out=out)

    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for _ in range(3):
            step()
    torch.cuda.current_stream().wait_stream(stream)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        step()
    for _ in range(5):
        graph.replay()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(replays):
        graph.replay()
    end.record()
    torch.cuda.synchronize()
    seconds = start.elapsed_time(end) / 1e3 / replays
    nbytes = sum(w.numel() * w.element_size() for w in weights)
    del weights, outputs, inputs, graph
    torch.cuda.empty_cache()
    return {"model": model_dir, "bytes": nbytes, "step_ms": 1e3 * seconds, "bytes_per_s": nbytes / seconds,
            "tok_s": 1 / seconds}
