"""model_repository/: one model.py, configs that speak the wire protocol and set every engine setting."""

from __future__ import annotations

import ast
import filecmp
from pathlib import Path

import pytest

from console.core import local_stack

REPO = Path(__file__).resolve().parents[1] / "model_repository"
ENTRIES = ("llama2", "mistral7b")
HF_IDS = {"llama2": "meta-llama/Llama-2-7b-chat-hf", "mistral7b": "mistralai/Mistral-7B-Instruct-v0.2"}


def model_settings() -> set[str]:
    """The SETTINGS keys model.py reads (parsed, not imported: it needs the Triton stub)."""
    tree = ast.parse((REPO / "llama2" / "1" / "model.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "SETTINGS":
            return {key.value for key in node.value.keys}
    raise AssertionError("model.py defines no SETTINGS")


def test_model_py_is_one_source_of_truth():
    first = REPO / ENTRIES[0] / "1" / "model.py"
    for entry in ENTRIES[1:]:
        other = REPO / entry / "1" / "model.py"
        assert filecmp.cmp(first, other, shallow=False), f"{other} differs from {first}: copy it (they must be identical)"


@pytest.mark.parametrize("entry", ENTRIES)
def test_config_speaks_the_wire_protocol(entry):
    text = (REPO / entry / "config.pbtxt").read_text()
    assert "model_transaction_policy { decoupled: true }" in text
    assert 'backend: "python"' in text
    for name, kind in {
        "text_input": "TYPE_STRING",
        "stream": "TYPE_BOOL",
        "sampling_parameters": "TYPE_STRING",
        "exclude_input_in_output": "TYPE_BOOL",
        "text_output": "TYPE_STRING",
        "finish_reason": "TYPE_STRING",
        "num_input_tokens": "TYPE_UINT32",
        "num_output_tokens": "TYPE_UINT32",
    }.items():
        assert f'name: "{name}" data_type: {kind}' in text, name
    assert "name:" not in text.split("input [")[0], "no model name in config.pbtxt: the directory names the model"


@pytest.mark.parametrize("entry", ENTRIES)
def test_config_sets_every_engine_setting(entry):
    params = local_stack.get_parameters((REPO / entry / "config.pbtxt").read_text())
    assert set(params) == model_settings()
    assert params["model"] == HF_IDS[entry]
    assert params["engine"] == "auto"
    assert int(params["default_max_tokens"]) > 16  # never vLLM's silent 16


def test_generated_local_repository(tmp_path):
    names = local_stack.generate_repository(tmp_path)
    assert names == ["smollm2-precise", "smollm2-creative"]
    assert not {"llama2", "mistral7b"} & set(names)
    for name in names:
        assert filecmp.cmp(tmp_path / name / "1" / "model.py", REPO / "llama2" / "1" / "model.py", shallow=False)
        params = local_stack.get_parameters((tmp_path / name / "config.pbtxt").read_text())
        assert set(params) == model_settings()
        assert params["gguf_file"].endswith(".gguf") and (Path(params["model"]) / params["gguf_file"]).is_file()
        assert params["cuda_visible_devices"] == ""
    precise = local_stack.get_parameters((tmp_path / names[0] / "config.pbtxt").read_text())
    creative = local_stack.get_parameters((tmp_path / names[1] / "config.pbtxt").read_text())
    assert float(precise["default_temperature"]) < float(creative["default_temperature"])
    assert local_stack.repository_models(tmp_path) == sorted(names)


def test_set_parameter_replaces_or_adds():
    text = 'parameters { key: "engine" value: { string_value: "auto" } }\n'
    assert local_stack.get_parameters(local_stack.set_parameter(text, "engine", "vllm")) == {"engine": "vllm"}
    both = local_stack.set_parameter(text, "dtype", "float16")
    assert local_stack.get_parameters(both) == {"engine": "auto", "dtype": "float16"}
