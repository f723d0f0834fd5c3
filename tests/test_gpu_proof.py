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


def test_spy_summary_counts_threads_own_and_inclusive_frames(tmp_path):
    from spy import summarize as spy_summary

    raw = tmp_path / "raw.txt"
    raw.write_text(
        "thread (11): outbox-0;Job.drain (/x/model.py:464);Job.response (/x/model.py:500) 6\n"
        "thread (11): outbox-0;Job.drain (/x/model.py:464) 2\n"
        "thread (12): vllm-loop;_run (/y/model.py:717) 2\n"
    )
    out = spy_summary(str(raw), rate=10, seconds=2)
    assert out["samples"] == 10 and out["share_of_time"] == 0.5
    assert out["threads"][0] == ("thread (11): outbox-0", 8)
    assert dict(out["own"]) == {"Job.response (model.py:500)": 6, "Job.drain (model.py:464)": 2, "_run (model.py:717)": 2}
    assert dict(out["inclusive"])["Job.drain (model.py:464)"] == 8
    assert out["thread_names"] == {11: "outbox-0", 12: "vllm-loop"}


PIN_SCRIPT = """
import json, os, subprocess, sys, threading, time
sys.path.insert(0, sys.argv[1])
from pinning import Pinning
pinning = Pinning()
core = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "EngineCore"])
time.sleep(0.5)
first = min(pinning.rest)
os.sched_setaffinity(core.pid, {first})  # a placement of its own, to be given back
with pinning.hold(os.getpid(), pids=[os.getpid(), core.pid]) as pid:  # not the machine's other processes
    inside = {"core": sorted(os.sched_getaffinity(core.pid)), "self": sorted(os.sched_getaffinity(0))}
    started = threading.Thread(target=time.sleep, args=(3,))
    started.start()
after = {"core": sorted(os.sched_getaffinity(core.pid)), "self": sorted(os.sched_getaffinity(0)),
         "started": sorted(os.sched_getaffinity(started.native_id))}
print(json.dumps({"pid_ok": pid == core.pid, "reserved": sorted(pinning.reserved), "rest": sorted(pinning.rest),
                  "first": first, "inside": inside, "after": after, "all": sorted(pinning.all)}))
core.kill()
"""


def test_pinning_holds_the_core_alone_and_gives_every_placement_back():
    """In a child process, over its own processes only: inside ``hold`` the engine core
    is alone on the reserved core and the caller off it; afterwards each thread is where it was,
    and a thread started meanwhile gets its process's placement."""
    import json
    import os
    import subprocess

    if len(os.sched_getaffinity(0)) < 2:
        pytest.skip("needs two usable CPUs")
    out = subprocess.run([sys.executable, "-c", PIN_SCRIPT, str(ROOT / "bench" / "gpu")], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-2000:]
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["pid_ok"]
    assert got["inside"] == {"core": got["reserved"], "self": got["rest"]}
    assert got["after"] == {"core": [got["first"]], "self": got["all"], "started": got["all"]}


def test_embedded_python_runs_python_through_the_shared_libpython():
    """bench/libpython_speed.py's premise: its launcher runs Python from the shared library (as
    tritonserver's stub does), and it finds that library for a python that has one."""
    import os
    import shutil
    import subprocess

    sys.path.insert(0, str(ROOT))
    from bench import libpython_speed

    python = os.path.realpath(sys.executable)
    try:
        libpython = libpython_speed.libpython_of(python)
    except SystemExit:
        pytest.skip(f"{python} has no shared libpython")
    if not (shutil.which("cc") or shutil.which("gcc")):
        pytest.skip("no C compiler for bench/embedded_python.c")
    launcher = libpython_speed.build_launcher()
    probe = "import sys; print(sys.version_info[:2] == %r, any('libpython' in m for m in open('/proc/self/maps')))" % (
        tuple(sys.version_info[:2]),)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")} | {"LIBPYTHON": libpython}
    out = subprocess.run([launcher, "-c", probe], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr[-1000:]
    assert out.stdout.split() == ["True", "True"]
    missing = subprocess.run([launcher, "-c", "pass"], capture_output=True, text=True, timeout=60,
                             env=env | {"LIBPYTHON": "/nonexistent/libpython3.so"})
    assert missing.returncode == 2 and "embedded_python:" in missing.stderr
