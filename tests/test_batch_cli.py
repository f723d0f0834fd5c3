"""`triton-console chat` (the batch client) end to end against a real tritonserver."""

from __future__ import annotations

import json
import re

from bench.pacer import expected_text
from console import cli
from tests.conftest import PACER_MODELS

PROMPTS = ["first question", "second one pacer:refuse", "third", "fourth question here", "fifth"]


def write_prompts(tmp_path, prompts=PROMPTS):
    path = tmp_path / "prompts.txt"
    path.write_text("# a comment\n\n" + "\n".join(prompts) + "\n")
    return path


def test_results_file_holds_every_prompt_in_input_order(pacer_server, tmp_path, capsys):
    prompts = [p for p in PROMPTS if "refuse" not in p]
    results = tmp_path / "out" / "results.txt"
    code = cli.main([
        "chat", "--model-name", "pacer-a", "--input-prompts", str(write_prompts(tmp_path, prompts)),
        "--results-file", str(results), "--url", pacer_server.grpc_url, "--concurrency", "3",
    ])
    assert code == 0
    text = results.read_text()
    blocks = re.findall(r"=== Prompt (\d+)/(\d+) ===\n(.*?)\n--- Response ---\n(.*?)\n--- Timing ---\n(.*?)\n", text, re.S)
    assert [(int(n), int(total), p) for n, total, p, _r, _t in blocks] == [(i, 4, p) for i, p in enumerate(prompts, 1)]
    tokens = PACER_MODELS["pacer-a"]["max_tokens"]
    for _n, _total, _p, response, timing in blocks:
        assert response == expected_text(tokens).strip()
        assert f"output tokens: {tokens}" in timing and "finish: length" in timing
        ttft, e2e = (float(x) for x in re.findall(r"(?:TTFT|e2e latency): ([\d.]+) ms", timing))
        assert 0 < ttft <= e2e
    summary = text.split("=== Summary ===")[1]
    assert "prompts: 4   succeeded: 4   failed: 0" in summary
    assert re.search(r"TTFT \(ms\)\s+[\d.]+\s+[\d.]+\s+[\d.]+", summary)
    assert re.search(r"inter-token latency \(ms\)\s+[\d.]+", summary)
    assert f"output tokens: {4 * tokens}" in summary
    assert "results written to" in capsys.readouterr().out


def test_failed_prompts_make_a_nonzero_exit_that_names_them(pacer_server, tmp_path, capsys):
    results = tmp_path / "results.txt"
    code = cli.main([
        "chat", "--model-name", "pacer-b", "--input-prompts", str(write_prompts(tmp_path)),
        "--results-file", str(results), "--url", pacer_server.grpc_url, "--json",
    ])
    assert code == 1
    out, err = capsys.readouterr()
    assert "1 of 5 prompts failed: prompt 2" in err and "refused on purpose" in err
    report = json.loads(out)
    assert report["failed"] == [2]
    assert [r["prompt"] for r in report["results"]] == PROMPTS
    assert report["results"][1]["error_kind"] == "bad_request"
    assert report["summary"]["failures"] == 1 and report["summary"]["requests"] == 5
    assert "FAILED (bad_request)" in results.read_text()


def test_no_stream_gets_the_whole_answer_in_one_response(pacer_server, tmp_path, capsys):
    code = cli.main([
        "chat", "--model-name", "pacer-a", "--input-prompts", str(write_prompts(tmp_path, ["only"])),
        "--results-file", str(tmp_path / "r.txt"), "--url", pacer_server.grpc_url, "--no-stream",
        "--max-tokens", "7", "--json",
    ])
    assert code == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["text"] == expected_text(7) and result["output_tokens"] == 7
    # causality: the single response leaves after the last token's slot (20 ms + 6 / 400 s)
    pacer = PACER_MODELS["pacer-a"]
    assert result["ttft_s"] >= (pacer["ttft_ms"] / 1000 + 6 / pacer["tokens_per_second"]) * 0.999


def test_server_down_fails_every_prompt_and_loses_nothing(tmp_path, capsys):
    results = tmp_path / "r.txt"
    code = cli.main([
        "chat", "--model-name", "llama2", "--input-prompts", str(write_prompts(tmp_path, ["a", "b"])),
        "--results-file", str(results), "--url", "localhost:1",
    ])
    assert code == 1
    assert "2 of 2 prompts failed: prompt 1, 2 (unavailable" in capsys.readouterr().err
    assert results.read_text().count("FAILED (unavailable)") == 2


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["chat", "--input-prompts", str(tmp_path / "missing.txt"), "--url", "localhost:1"]) == 2
    assert "missing.txt: no such file" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_text("# only a comment\n")
    assert cli.main(["chat", "--input-prompts", str(empty)]) == 2
    assert "no prompts in it" in capsys.readouterr().err
    assert cli.main(["chat", "--temperature", "hot", "--url", "localhost:1"]) == 2
    assert "temperature: 'hot' is not a number" in capsys.readouterr().err


def test_shipped_sample_prompts_are_the_default():
    from console.cli.chat import SAMPLE_PROMPTS
    from console.core.batch import load_prompts

    assert len(load_prompts(SAMPLE_PROMPTS)) >= 10
