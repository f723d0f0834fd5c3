"""The GPU proof's CPU-side pieces (bench/gpu): the generated repository copy, its summaries, and
the /metrics page it brought back from the H100 (a fixture for the metrics work)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench" / "gpu"))

import make_repo  # noqa: E402
from proof_common import StreamRecord, metric, summarize  # noqa: E402

FIXTURE = Path(__file__).parent / "fixtures" / "metrics-h100-ours.txt"


def test_generated_repository_overrides_parameters_and_leaves_the_committed_configs(tmp_path):
    committed = {p: p.read_text() for p in (ROOT / "model_repository").glob("*/config.pbtxt")}
    other = tmp_path / "other_model.py"
    other.write_text("# another model.py\n")
    result = make_repo.generate(
        ROOT / "model_repository",
        tmp_path / "repo",
        ["llama2.model=/models/llama-1b", "llama2.gpu_memory_utilization=0.2", "mistral7b.enforce_eager=true"],
        [f"llama2_variant=llama2:{other}"],
    )
    assert result["llama2"]["model"] == "/models/llama-1b"
    assert result["llama2"]["gpu_memory_utilization"] == "0.2"
    assert result["mistral7b"]["enforce_eager"] == "true"
    assert result["mistral7b"]["model"] == make_repo.parameters(make_repo.read_config(ROOT / "model_repository/mistral7b/config.pbtxt"))["model"]
    # the clone serves llama2's settings with the other model.py
    assert result["llama2_variant"] == result["llama2"]
    assert (tmp_path / "repo/llama2_variant/1/model.py").read_text() == "# another model.py\n"
    # the copy is still a decoupled model with the official tensor names
    config = make_repo.read_config(tmp_path / "repo/llama2/config.pbtxt")
    assert config.model_transaction_policy.decoupled
    assert [i.name for i in config.input][:1] == ["text_input"]
    assert {p: p.read_text() for p in committed} == committed


@pytest.mark.parametrize("bad", ["llama2.model", "nomodel=1", "ghost.model=/x"])
def test_generated_repository_refuses_bad_overrides(tmp_path, bad):
    with pytest.raises(SystemExit):
        make_repo.generate(ROOT / "model_repository", tmp_path / "repo", [bad])


def test_summary_uses_genai_perf_definitions():
    records = [
        StreamRecord(t_start=0.0, t_first=0.1, t_end=1.1, tokens=101, input_tokens=10, finish_reason="length"),
        StreamRecord(t_start=0.5, t_first=0.8, t_end=2.0, tokens=61, input_tokens=10, finish_reason="length"),
    ]
    s = summarize(records)
    assert s["output_tokens"] == 162 and s["wall_s"] == pytest.approx(2.0)
    assert s["output_tok_s"] == pytest.approx(81.0)
    assert s["ttft_ms_median"] == pytest.approx(200.0)  # median of 100 and 300 ms
    assert s["decode_tok_s_median"] == pytest.approx(75.0)  # median of 100/1.0 and 60/1.2 tok/s


def test_h100_metrics_fixture_has_the_vllm_families_per_model():
    text = FIXTURE.read_text()
    for model in ("llama2", "mistral7b"):
        generated = metric(text, "vllm:generation_tokens_total", model=model)
        assert generated and generated > 1000
        assert metric(text, "vllm:prompt_tokens_total", model=model) > 0
        assert metric(text, "vllm:time_to_first_token_seconds_count", model=model) > 0
        assert metric(text, "vllm:e2e_request_latency_seconds_count", model=model) > 0
        assert metric(text, "vllm:num_requests_running", model=model) == 0
        assert metric(text, "nv_inference_request_success", model=model) > 0
    assert metric(text, "nv_gpu_memory_used_bytes") > 0
    assert "# TYPE vllm:time_per_output_token_seconds histogram" in text
