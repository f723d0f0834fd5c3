"""model.py's own parsing of config.pbtxt parameters, run here without a server.

model.py is loaded as tritonserver's Python backend loads it, with the backend's real
``triton_python_backend_utils`` beside it; the error texts are the ones a failed model load
shows in the server log.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console.core import local_stack
from console.core.tritonserver import find_install

MODEL_PY = Path(__file__).resolve().parents[1] / "model_repository" / "llama2" / "1" / "model.py"


@pytest.fixture(scope="module")
def model_py():
    backend_dir = str(find_install().backends_dir / "python")
    sys.path.insert(0, backend_dir)
    try:
        spec = importlib.util.spec_from_file_location("model_under_test", MODEL_PY)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(backend_dir)


def committed(entry: str = "llama2", **changes: str) -> dict:
    text = (MODEL_PY.parents[1].parent / entry / "config.pbtxt").read_text()
    params = {k: {"string_value": v} for k, v in local_stack.get_parameters(text).items()}
    params.update({k: {"string_value": v} for k, v in changes.items()})
    return params


@pytest.mark.parametrize("entry", ["llama2", "mistral7b"])
def test_committed_configs_parse(model_py, entry):
    settings = model_py.parse_settings(committed(entry))
    assert settings["stream_interval"] == 1
    assert settings["max_num_seqs"] == 64


def test_stream_interval_is_a_positive_integer(model_py):
    assert model_py.parse_settings(committed(stream_interval="8"))["stream_interval"] == 8
    with pytest.raises(ValueError, match="stream_interval must be >= 1"):
        model_py.parse_settings(committed(stream_interval="0"))
    with pytest.raises(ValueError, match="parameter stream_interval must be an integer"):
        model_py.parse_settings(committed(stream_interval="2.5"))


def test_response_threads_is_a_positive_integer(model_py):
    assert model_py.parse_settings(committed())["response_threads"] == 4
    assert model_py.parse_settings(committed(response_threads="1"))["response_threads"] == 1
    with pytest.raises(ValueError, match="response_threads must be >= 1"):
        model_py.parse_settings(committed(response_threads="0"))


def test_unknown_parameter_fails_the_load_and_names_the_known_ones(model_py):
    with pytest.raises(ValueError, match=r"unknown config.pbtxt parameters \['stream_intervall'\]"):
        model_py.parse_settings(committed(stream_intervall="8"))


def test_engine_core_cpus_must_name_usable_cpus_and_leave_some(model_py):
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        pytest.skip("needs two usable CPUs")
    assert model_py.parse_settings(committed())["engine_core_cpus"] == ""
    last = str(usable[-1])
    assert model_py.parse_settings(committed(engine_core_cpus=last))["engine_core_cpus"] == last
    assert model_py.parse_cpus(f"{last}-{last}, {last}", "x") == {usable[-1]}
    with pytest.raises(ValueError, match="must list CPUs like '7,15' or '6-7', not 'seven'"):
        model_py.parse_settings(committed(engine_core_cpus="seven"))
    with pytest.raises(ValueError, match="must list CPUs"):
        model_py.parse_settings(committed(engine_core_cpus="3-1"))
    with pytest.raises(ValueError, match=r"CPUs \[100000\] are not usable here"):
        model_py.parse_settings(committed(engine_core_cpus="100000"))
    with pytest.raises(ValueError, match="must leave at least one CPU"):
        model_py.parse_settings(committed(engine_core_cpus=",".join(map(str, usable))))


def run_beside_model_py(script: str, *args: str, env: dict | None = None) -> dict:
    """``script`` in a child python with model.py loaded as ``m`` (for what changes process-wide
    state); its last output line, JSON, is the result. ``args`` follow in sys.argv[1:]."""
    loader = (
        "import importlib.util, sys\n"
        "sys.path.insert(0, {backend!r})\n"
        "spec = importlib.util.spec_from_file_location('m', {model!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
    ).format(backend=str(find_install().backends_dir / "python"), model=str(MODEL_PY))
    out = subprocess.run([sys.executable, "-c", loader + script, *args], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


PIN_SCRIPT = """
import json, os, subprocess, time
core = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)", "EngineCore"])
other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
time.sleep(0.5)
cpu = int(sys.argv[1])
pinned = m.pin_engine_core({cpu})
print(json.dumps({"pinned": pinned, "core_pid": core.pid, "core": sorted(os.sched_getaffinity(core.pid)),
                  "other": sorted(os.sched_getaffinity(other.pid)), "self": sorted(os.sched_getaffinity(0))}))
core.kill(); other.kill()
"""


def test_pin_engine_core_moves_the_core_onto_its_cpus_and_the_model_off_them():
    """In a child process (pinning changes the caller's own placement): a child whose command line
    says EngineCore, as vLLM's does, goes onto the CPUs; the caller's threads onto the others;
    a child that is not an engine core stays where it was."""
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        pytest.skip("needs two usable CPUs")
    got = run_beside_model_py(PIN_SCRIPT, str(usable[-1]))
    assert got["pinned"] == [got["core_pid"]]
    assert got["core"] == [usable[-1]]
    assert got["self"] == usable[:-1]
    assert got["other"] == usable  # not an engine core: untouched (it inherited all usable CPUs)


def test_engine_core_python_is_auto_fork_or_a_python_of_this_version(model_py, tmp_path):
    assert model_py.parse_settings(committed())["engine_core_python"] == "auto"
    assert model_py.parse_settings(committed(engine_core_python="fork"))["engine_core_python"] == "fork"
    assert model_py.parse_settings(committed(engine_core_python=sys.executable))["engine_core_python"] == sys.executable
    with pytest.raises(ValueError, match="must be auto, fork or the absolute path of a python executable, not 'python3'"):
        model_py.parse_settings(committed(engine_core_python="python3"))
    with pytest.raises(ValueError, match="must be auto, fork or the absolute path"):
        model_py.parse_settings(committed(engine_core_python=str(tmp_path / "missing")))
    other = tmp_path / "python2"
    other.write_text("#!/bin/sh\necho 2.7 False\n")
    other.chmod(0o755)
    mine = "%d.%d" % sys.version_info[:2]
    with pytest.raises(ValueError, match=rf"python2 is Python 2.7, this model runs Python {mine}"):
        model_py.parse_settings(committed(engine_core_python=str(other)))
    mute = tmp_path / "not-python"
    mute.write_text("#!/bin/sh\necho hello\n")
    mute.chmod(0o755)
    with pytest.raises(ValueError, match="not-python did not run as python: answered 'hello'"):
        model_py.parse_settings(committed(engine_core_python=str(mute)))


def test_auto_spawns_only_from_an_embedded_python_and_only_with_a_static_one(model_py):
    """``auto`` answers for this test's own python: a fork already gives the engine core a static
    interpreter here, unless this python itself runs from a shared libpython (pyenv builds do);
    then a static python of the same version is chosen when the machine has one."""
    version = "%d.%d" % sys.version_info[:2]
    assert model_py.engine_core_python("fork") == ""
    assert model_py.engine_core_python("/opt/py/bin/python3") == "/opt/py/bin/python3"
    assert model_py.probe_python(sys.executable) == (version, model_py.loads_shared_libpython())
    chosen = model_py.engine_core_python("auto")
    if not model_py.loads_shared_libpython():
        assert chosen == ""
        return
    system = f"/usr/bin/python{version}"
    if os.access(system, os.X_OK) and model_py.probe_python(system) == (version, False):
        assert chosen and model_py.probe_python(chosen) == (version, False)
    else:
        assert chosen == "" or model_py.probe_python(chosen) == (version, False)


SPAWN_SCRIPT = """
import json, multiprocessing, multiprocessing.spawn, os
report, wrapper = sys.argv[1], sys.argv[2]
before = multiprocessing.spawn.get_executable()
with m.engine_core_spawned_by(wrapper):
    method = os.environ["VLLM_WORKER_MULTIPROC_METHOD"]  # what vLLM's get_mp_context reads
    child = multiprocessing.get_context(method).Process(
        target=exec, args=(f"import os; open({report!r}, 'w').write(os.environ.get('STARTED_BY_WRAPPER', ''))",))
    child.start(); child.join(60)
print(json.dumps({"method": method, "exitcode": child.exitcode, "env_after": os.environ.get("VLLM_WORKER_MULTIPROC_METHOD"),
                  "executable_restored": multiprocessing.spawn.get_executable() == before}))
"""


def test_engine_core_python_spawns_vllms_children_through_it_while_vllm_starts(tmp_path):
    """In a child process (the setting changes process-wide multiprocessing state): inside the
    context, a process started the way vLLM starts its engine core is spawned by the given
    python (a wrapper that marks its children's environment), and afterwards the method and
    the executable are what they were."""
    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text(f"#!/bin/sh\nSTARTED_BY_WRAPPER=yes exec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    report = tmp_path / "report"
    env = {k: v for k, v in os.environ.items() if k != "VLLM_WORKER_MULTIPROC_METHOD"}
    got = run_beside_model_py(SPAWN_SCRIPT, str(report), str(wrapper), env=env)
    assert got == {"method": "spawn", "exitcode": 0, "env_after": None, "executable_restored": True}
    assert report.read_text() == "yes"
