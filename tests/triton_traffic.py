"""Send real streaming requests to a tritonserver (tritonclient.grpc), for tests that count them."""

from __future__ import annotations

import queue

import numpy as np


def stream_requests(grpc_url: str, model: str, texts: list[str], timeout: float = 60.0) -> list[list[str] | str]:
    """One decoupled request per text, one after another; per request its text outputs or its error."""
    import tritonclient.grpc as grpcclient

    answers: queue.Queue = queue.Queue()
    client = grpcclient.InferenceServerClient(grpc_url)
    client.start_stream(callback=lambda result, error: answers.put((result, error)))
    results: list[list[str] | str] = []
    try:
        for text in texts:
            tensor = grpcclient.InferInput("text_input", [1], "BYTES")
            tensor.set_data_from_numpy(np.array([text.encode()], dtype=np.object_))
            client.async_stream_infer(model, [tensor], enable_empty_final_response=True)
            words: list[str] = []
            while True:
                result, error = answers.get(timeout=timeout)
                if error is not None:
                    results.append(str(error))
                    break
                out = result.as_numpy("text_output")
                if out is not None:
                    words.extend(x.decode() for x in out.reshape(-1))
                if result.get_response().parameters["triton_final_response"].bool_param:
                    results.append(words)
                    break
    finally:
        client.stop_stream()
        client.close()
    return results


def fetch_when(source, ready, timeout: float = 30.0):
    """Scrape until ``ready(scrape)`` (Triton counts a decoupled request when execute() returns,
    which can be just after the client saw its final response); the last scrape if never."""
    import time

    deadline = time.monotonic() + timeout
    scrape = source.fetch()
    while not ready(scrape) and time.monotonic() < deadline:
        time.sleep(0.1)
        scrape = source.fetch()
    return scrape
