"""model.py through a real tritonserver on SmolLM2-135M-Instruct (the session's `local_stack`).

Generations are short (a few tokens) so the suite stays fast on a 2-core machine.
"""

from __future__ import annotations

import asyncio
import json
import queue
import time
import urllib.request

import numpy as np
import pytest
import tritonclient.grpc as grpcclient

from console.core.streaming import Delta, Final, StreamError, TritonStreamClient, build_inputs

pytestmark = [pytest.mark.triton, pytest.mark.smollm, pytest.mark.slow]

GREEDY = {"temperature": 0, "max_tokens": 8}
CHATML_USER = "<|im_start|>user\n"
CHATML_ASSISTANT = "<|im_start|>assistant\n"


def infer_unary(url: str, model: str, prompt, sampling=None, stream=False, exclude_input=None, raw_sampling=None, timeout=120):
    """Every response of one request sent with the plain tritonclient stream API (stream flag as given).

    ``raw_sampling`` sends that exact text as sampling_parameters (what json.dumps never produces).
    """
    responses: queue.Queue = queue.Queue()
    client = grpcclient.InferenceServerClient(url)
    inputs = build_inputs(prompt, sampling, stream=stream)
    if raw_sampling is not None:
        raw = grpcclient.InferInput("sampling_parameters", [1], "BYTES")
        raw.set_data_from_numpy(np.array([raw_sampling.encode()], dtype=np.object_))
        inputs.append(raw)
    if exclude_input is not None:
        flag = grpcclient.InferInput("exclude_input_in_output", [1], "BOOL")
        flag.set_data_from_numpy(np.array([exclude_input], dtype=bool))
        inputs.append(flag)
    client.start_stream(callback=lambda result, error: responses.put((result, error)))
    try:
        client.async_stream_infer(model, inputs, enable_empty_final_response=True)
        got = []
        while True:
            result, error = responses.get(timeout=timeout)
            got.append((result, error))
            if error is not None or result.get_response().parameters["triton_final_response"].bool_param:
                return got
    finally:
        client.stop_stream(cancel_requests=True)
        client.close()


def text_of(result) -> str:
    return result.as_numpy("text_output").reshape(-1)[0].decode("utf-8")


def scrape(stack) -> str:
    with urllib.request.urlopen(stack.metrics_url, timeout=10) as resp:
        return resp.read().decode("utf-8")


def metric(stack, name: str, model: str) -> float:
    """One sample of a vllm:* metric for a model (0 when absent)."""
    for line in scrape(stack).splitlines():
        if line.startswith(name + "{") and f'model="{model}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def assert_generation_stopped(stack, model: str, before: float, would_make: int) -> None:
    """The running gauge drops to 0 and the generation counter stops moving, well short of
    ``would_make`` tokens since ``before``: the abandoned generation really stopped."""
    deadline = time.monotonic() + 60
    while metric(stack, "vllm:num_requests_running", model) != 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
    assert metric(stack, "vllm:num_requests_running", model) == 0
    settled = metric(stack, "vllm:generation_tokens_total", model)
    await asyncio.sleep(3)
    assert metric(stack, "vllm:generation_tokens_total", model) == settled
    assert settled - before < would_make


async def collect(client: TritonStreamClient, model: str, prompt, sampling) -> tuple[list[Delta], Final]:
    events = [event async for event in client.stream(model, prompt, sampling)]
    assert isinstance(events[-1], Final)
    assert all(isinstance(e, Delta) for e in events[:-1])
    return events[:-1], events[-1]


async def test_deltas_concatenate_to_the_full_answer(local_stack):
    model = local_stack.models[0]
    client = TritonStreamClient(local_stack.grpc_url, timeout_s=120)
    deltas, final = await collect(client, model, "Name three colours.", GREEDY)
    await client.close()
    assert len(deltas) >= 2 and final.finish_reason in ("stop", "length")
    assert "".join(d.text for d in deltas) == final.text
    assert sum(d.tokens for d in deltas) == final.output_tokens <= GREEDY["max_tokens"]
    # Deltas are never cumulative: the same greedy request unstreamed gives the same text once.
    (result, error), = infer_unary(local_stack.grpc_url, model, "Name three colours.", GREEDY)
    assert error is None
    assert text_of(result) == final.text
    assert result.as_numpy("finish_reason").reshape(-1)[0].decode() == final.finish_reason
    assert int(result.as_numpy("num_output_tokens")[0]) == final.output_tokens
    assert int(result.as_numpy("num_input_tokens")[0]) == final.input_tokens


async def test_chat_template_is_applied_on_the_server(local_stack):
    model = local_stack.models[0]
    messages = [{"role": "system", "content": "You answer in French."}, {"role": "user", "content": "Hello there"}]
    # The prompt comes back only when asked (exclude_input_in_output=false) and not streaming.
    (result, error), = infer_unary(local_stack.grpc_url, model, messages, {"max_tokens": 2}, exclude_input=False)
    assert error is None
    text = text_of(result)
    assert text.startswith("<|im_start|>system\nYou answer in French.<|im_end|>\n")  # SmolLM2's own ChatML template
    assert f"{CHATML_USER}Hello there<|im_end|>\n{CHATML_ASSISTANT}" in text
    assert "[INST]" not in text
    # Plain text is one user turn through the same template (with the template's default system prompt).
    (result, error), = infer_unary(local_stack.grpc_url, model, "Hello there", {"max_tokens": 2}, exclude_input=False)
    assert f"{CHATML_USER}Hello there<|im_end|>\n{CHATML_ASSISTANT}" in text_of(result)
    # Without asking, or when streaming, the prompt never comes back.
    (result, error), = infer_unary(local_stack.grpc_url, model, "Hello there", {"max_tokens": 2})
    assert "<|im_start|>" not in text_of(result)
    streamed = infer_unary(local_stack.grpc_url, model, "Hello there", {"max_tokens": 2}, stream=True, exclude_input=False)
    assert all("<|im_start|>" not in text_of(r) for r, _ in streamed if r is not None and r.as_numpy("text_output") is not None)
    # The templated prompt is what was counted.
    client = TritonStreamClient(local_stack.grpc_url, timeout_s=120)
    final = await client.complete(model, [{"role": "user", "content": "Hello there"}], {"max_tokens": 1})
    plain = await client.complete(model, "Hello there", {"max_tokens": 1})
    await client.close()
    assert final.input_tokens == plain.input_tokens > 10  # ChatML + default system prompt, not just 2 words


LONG_PROMPT = "word " * 2000  # > max_prompt_tokens (1536) of the local entries
BAD_REQUESTS = {
    "sampling not JSON": ("Hi", "{max_tokens: 5", "not valid JSON"),
    "sampling not an object": ("Hi", "[1, 2]", "must be a JSON object"),
    "unknown sampling key": ("Hi", {"max_tokenz": 5}, "unknown sampling parameter"),
    "max_tokens wrong type": ("Hi", {"max_tokens": "ten"}, "max_tokens must be an integer"),
    "max_tokens a float": ("Hi", {"max_tokens": 2.5}, "max_tokens must be an integer"),
    "bool wrong type": ("Hi", {"ignore_eos": "maybe"}, "ignore_eos must be true or false"),
    "temperature negative": ("Hi", {"temperature": -1}, "temperature must be"),
    "top_p out of range": ("Hi", {"top_p": 1.5}, "top_p must be"),
    "max_tokens over max_model_len": ("Hi", {"max_tokens": 100000}, "exceeds this model's max_model_len"),
    "empty prompt": ("", None, "text_input is empty"),
    "blank prompt": ("   \n ", None, "text_input is empty"),
    "over-long prompt": (LONG_PROMPT, None, "accepts at most 1536"),
    "messages not valid JSON": ('[{"role": "user", "content": "hi"', None, "not valid JSON"),
    "message with unknown role": ([{"role": "wizard", "content": "hi"}], None, "role must be one of"),
    "message without content": ([{"role": "user"}], None, "content must be a string"),
    "empty messages": ([{"role": "user", "content": ""}], None, "no content"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS), ids=list(BAD_REQUESTS))
async def test_bad_input_is_a_clear_error_and_the_model_keeps_serving(local_stack, case):
    prompt, sampling, expected = BAD_REQUESTS[case]
    model = local_stack.models[1]
    client = TritonStreamClient(local_stack.grpc_url, timeout_s=120)
    if isinstance(sampling, str):  # raw text, to send what json.dumps would never produce
        (_result, error), = infer_unary(local_stack.grpc_url, model, prompt, raw_sampling=sampling, stream=True)
        assert error is not None and expected in error.message()
    else:
        with pytest.raises(StreamError) as err:
            await client.complete(model, prompt, sampling)
        assert err.value.kind == "bad_request"
        assert expected in err.value.message
    final = await client.complete(model, "Hi", {"max_tokens": 1})  # still serving
    await client.close()
    assert final.output_tokens >= 1 and final.finish_reason in ("stop", "length")


async def test_sampling_values_are_typed_properly(local_stack):
    model = local_stack.models[0]
    client = TritonStreamClient(local_stack.grpc_url, timeout_s=120)
    as_strings = await client.complete(model, "Count to five.", {"temperature": "0", "max_tokens": "6", "ignore_eos": "false"})
    as_json = await client.complete(model, "Count to five.", {"temperature": 0, "max_tokens": 6, "ignore_eos": False})
    forced = await client.complete(model, "Say hi.", {"max_tokens": "12", "ignore_eos": "true", "temperature": 0})
    await client.close()
    assert as_strings.text == as_json.text and as_strings.output_tokens == as_json.output_tokens
    assert forced.output_tokens == 12 and forced.finish_reason == "length"
    # No max_tokens: the config's default_max_tokens (128) applies, never vLLM's silent 16. Read 17
    # tokens of such a stream, then drop it (so the test does not wait for all 128).
    client = TritonStreamClient(local_stack.grpc_url, timeout_s=120)
    stream = client.stream(model, "Write a long story about a dragon.", {"ignore_eos": True})
    tokens = 0
    async for event in stream:
        assert isinstance(event, Delta), event  # a Final here would mean it stopped early
        tokens += event.tokens
        if tokens > 16:
            break
    await stream.aclose()
    await client.close()
    assert tokens > 16


async def test_cancel_mid_stream_stops_generation_and_serves_the_next_request(local_stack):
    model = local_stack.models[0]
    before = metric(local_stack, "vllm:generation_tokens_total", model)
    client = TritonStreamClient(local_stack.grpc_url, timeout_s=120)
    long = {"max_tokens": 400, "ignore_eos": True, "temperature": 0}
    stream = client.stream(model, "Tell me everything about the sea.", long)
    seen = 0
    async for event in stream:
        assert isinstance(event, Delta)
        seen += 1
        if seen == 3:
            break
    await stream.aclose()  # cancels the gRPC call

    await assert_generation_stopped(local_stack, model, before, long["max_tokens"])
    # The next request on the same model (one generation slot) is served.
    final = await client.complete(model, "Hi", {"max_tokens": 3})
    await client.close()
    assert final.output_tokens >= 1


async def test_cancelling_the_consuming_task_aborts_too(local_stack):
    model = local_stack.models[1]
    before = metric(local_stack, "vllm:generation_tokens_total", model)
    client = TritonStreamClient(local_stack.grpc_url, timeout_s=120)
    first = asyncio.Event()

    async def consume():
        async for event in client.stream(model, "Describe a forest.", {"max_tokens": 400, "ignore_eos": True}):
            first.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first.wait(), 120)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await assert_generation_stopped(local_stack, model, before, 400)
    final = await client.complete(model, "Hi", {"max_tokens": 2})
    await client.close()
    assert final.output_tokens >= 1


async def test_both_models_stream_concurrently(local_stack):
    client = TritonStreamClient(local_stack.grpc_url, timeout_s=120)
    sampling = {"max_tokens": 16, "ignore_eos": True}
    (deltas_a, final_a), (deltas_b, final_b) = await asyncio.gather(
        *(collect(client, name, "Tell me about cats.", sampling) for name in local_stack.models)
    )
    await client.close()
    assert final_a.output_tokens == final_b.output_tokens == 16
    # Both streams were live at once: each one's first delta came before the other's last.
    assert deltas_a[0].t < deltas_b[-1].t and deltas_b[0].t < deltas_a[-1].t


async def test_model_metrics_are_exported_per_model(local_stack):
    client = TritonStreamClient(local_stack.grpc_url, timeout_s=120)
    for name in local_stack.models:
        await client.complete(name, "Hi", {"max_tokens": 3})
    await client.close()
    page = scrape(local_stack)
    for name in local_stack.models:
        labels = f'model="{name}",version="1"'
        for family in ("vllm:time_to_first_token_seconds", "vllm:time_per_output_token_seconds", "vllm:e2e_request_latency_seconds"):
            assert any(line.startswith(f"{family}_count{{") and labels in line for line in page.splitlines()), family
            assert any(line.startswith(f"{family}_bucket{{") and labels in line for line in page.splitlines()), family
        assert metric(local_stack, "vllm:prompt_tokens_total", name) > 0
        assert metric(local_stack, "vllm:generation_tokens_total", name) >= 3
        for gauge in ("vllm:num_requests_running", "vllm:num_requests_waiting"):
            assert any(line.startswith(gauge + "{") and labels in line for line in page.splitlines()), gauge


async def test_concurrent_cpu_generations_keep_the_server_up(triton_server_factory, tmp_path):
    """cpu_max_concurrent=8 and eight streams at once, twice: every stream completes and the
    token counter equals what the clients got.

    Metric updates from several generation threads at once crashed tritonserver (signal 11 in
    libtriton_python.so) until model.py serialised them.
    """
    from console.core import local_stack as stack_mod

    try:
        stack_mod.smollm_gguf()
    except stack_mod.LocalStackError as exc:
        pytest.skip(str(exc))
    repo = tmp_path / "repo"
    (name,) = stack_mod.generate_repository(repo, overrides={"cpu_max_concurrent": "8"}, entries=stack_mod.ENTRIES[:1])
    server = triton_server_factory(repo, name="cpu-concurrent", timeout=600)
    client = TritonStreamClient(server.grpc_url, timeout_s=180)
    sampling = {"max_tokens": 12, "ignore_eos": True}
    try:
        for _round in range(2):
            finals = await asyncio.gather(*(client.complete(name, f"Count to {i + 5}.", sampling) for i in range(8)))
            assert [f.output_tokens for f in finals] == [12] * 8
    finally:
        await client.close()
    assert server.process.poll() is None, "tritonserver died"
    page = urllib.request.urlopen(server.metrics_url, timeout=10).read().decode()
    generated = sum(float(line.rsplit(" ", 1)[1]) for line in page.splitlines()
                    if line.startswith("vllm:generation_tokens_total{") and f'model="{name}"' in line)
    assert generated == 2 * 8 * 12
