"""`triton-console bench`: JSON shape and sanity against the pacer (known truth)."""

from __future__ import annotations

import json

from console import cli
from tests.conftest import PACER_MODELS


def test_bench_json_shape_and_sanity(pacer_server, tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = cli.main([
        "bench", "-m", "pacer-a", "-m", "pacer-b", "--concurrency", "1,3", "--requests", "4",
        "--max-tokens", "8", "--url", pacer_server.grpc_url, "--json", "--output", str(out),
    ])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text()) == report
    assert report["models"] == ["pacer-a", "pacer-b"] and report["concurrencies"] == [1, 3]
    assert [(lv["model"], lv["concurrency"]) for lv in report["levels"]] == [
        ("pacer-a", 1), ("pacer-a", 3), ("pacer-b", 1), ("pacer-b", 3)
    ]
    for level in report["levels"]:
        assert set(level) >= {"requests", "failures", "ttft_ms", "itl_ms", "e2e_ms", "requests_per_s", "output_tokens_per_s"}
        assert level["requests"] == max(4, 2 * level["concurrency"]) and level["failures"] == 0
        assert level["output_tokens"] == 8 * level["requests"]
        truth_ttft_ms = PACER_MODELS[level["model"]]["ttft_ms"]
        ttft, itl, e2e = level["ttft_ms"], level["itl_ms"], level["e2e_ms"]
        # causality, not speed: no token can arrive before the pacer sends it
        assert ttft["min"] >= truth_ttft_ms
        assert ttft["p50"] <= ttft["p90"] <= ttft["p99"] <= ttft["max"]
        assert e2e["min"] >= ttft["min"] and itl["p50"] > 0
        assert level["requests_per_s"] > 0 and level["output_tokens_per_s"] > 0


def test_bench_table_and_plot_and_failures(pacer_server, tmp_path, capsys):
    code = cli.main([
        "bench", "-m", "pacer-a", "-m", "missing", "--concurrency", "2", "--requests", "2",
        "--max-tokens", "4", "--url", pacer_server.grpc_url, "--output", str(tmp_path / "b.json"),
    ])
    assert code == 1
    out, err = capsys.readouterr()
    assert "TTFT p50" in out and "concurrency" in out  # table and plot axis
    assert "pacer-a" in out and "missing" in out
    assert "requests failed" in err and "not_ready" in err
