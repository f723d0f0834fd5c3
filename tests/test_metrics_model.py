"""model.py's generation metrics (vllm:* Triton custom metrics) against the real local stack:
they move by exactly what the client saw."""

from __future__ import annotations

import pytest

from console.core.metrics import names
from console.core.metrics.derive import derive
from console.core.metrics.sources import TritonMetricsSource
from console.core.streaming import Final, TritonStreamClient
from tests.triton_traffic import fetch_when

pytestmark = [pytest.mark.triton, pytest.mark.smollm, pytest.mark.slow]

PROMPTS = ["Name one colour.", [{"role": "user", "content": "Say hello in French."}], "Count: one, two,"]


def value(scrape, name, model):
    return sum(v for labels, v in scrape.series(name).items() if dict(labels).get("model") == model)


async def generate(url: str, model: str, prompts) -> list[Final]:
    client = TritonStreamClient(url, timeout_s=300)
    finals = []
    try:
        for prompt in prompts:
            delta_tokens = 0
            async for event in client.stream(model, prompt, {"max_tokens": 6, "temperature": 0.0}):
                if isinstance(event, Final):
                    assert event.output_tokens == delta_tokens  # the client summed what it was sent
                    finals.append(event)
                else:
                    delta_tokens += event.tokens
    finally:
        await client.close()
    return finals


async def test_generation_metrics_move_by_what_the_client_saw(local_stack):
    model, other = local_stack.models[0], local_stack.models[1]
    source = TritonMetricsSource(local_stack.metrics_url)
    before = source.fetch()
    for name in (names.PROMPT_TOKENS, names.GENERATION_TOKENS, f"{names.TTFT_S}_count", f"{names.TPOT_S}_count",
                 f"{names.E2E_S}_count", names.REQUESTS_RUNNING, names.REQUESTS_WAITING):
        assert before.has(name), f"model.py does not export {name}"

    finals = await generate(local_stack.grpc_url, model, PROMPTS)
    prompt_tokens = sum(f.input_tokens for f in finals)
    output_tokens = sum(f.output_tokens for f in finals)
    assert all(f.input_tokens and f.output_tokens for f in finals)

    count = f"{names.TTFT_S}_count"
    after = fetch_when(source, lambda s: value(s, count, model) >= value(before, count, model) + len(PROMPTS)
                       and value(s, names.REQUEST_SUCCESS, model) >= value(before, names.REQUEST_SUCCESS, model) + len(PROMPTS))

    def moved(name, m=model):
        return value(after, name, m) - value(before, name, m)

    assert moved(names.PROMPT_TOKENS) == prompt_tokens
    assert moved(names.GENERATION_TOKENS) == output_tokens
    assert moved(f"{names.TTFT_S}_count") == len(PROMPTS)
    assert moved(f"{names.E2E_S}_count") == len(PROMPTS)
    assert moved(f"{names.TPOT_S}_count") == sum(1 for f in finals if f.output_tokens > 1)
    assert moved(names.REQUEST_SUCCESS) == len(PROMPTS)
    # the server's TTFT starts when the request reaches model.py, the client's before sending
    assert 0 < moved(f"{names.TTFT_S}_sum") <= sum(f.ttft for f in finals) + 0.05
    assert 0 < moved(f"{names.E2E_S}_sum") <= sum(f.e2e for f in finals) + 0.05
    # nothing in flight any more; the other model saw nothing
    assert value(after, names.REQUESTS_RUNNING, model) == 0 and value(after, names.REQUESTS_WAITING, model) == 0
    for name in (names.PROMPT_TOKENS, names.GENERATION_TOKENS, count):
        assert moved(name, other) == 0

    reading = derive(after, before).model(model)
    assert reading.prompt_tokens == prompt_tokens and reading.generation_tokens == output_tokens
    assert reading.ttft.count == len(PROMPTS) and reading.ttft.mean_s > 0
    assert reading.ttft.p50_s is not None and reading.ttft.p99_s >= reading.ttft.p50_s
    assert reading.generation_tokens_per_s > 0
    assert reading.tpot.count == moved(f"{names.TPOT_S}_count")
