"""model.py's own parsing of config.pbtxt parameters, run here without a server.

model.py is loaded as tritonserver's Python backend loads it, with the backend's real
``triton_python_backend_utils`` beside it; the error texts are the ones a failed model load
shows in the server log.
"""

from __future__ import annotations

import importlib.util
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
