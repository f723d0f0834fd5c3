from __future__ import annotations

import pytest

from console.core import config as config_mod
from console.core import paths


def test_defaults_without_a_file():
    cfg = config_mod.load()
    assert cfg.triton.url == "localhost:8001"
    assert cfg.kube.namespace == "triton-vllm"
    assert cfg.source == "defaults"


def test_file_then_environment_overrides(tmp_path):
    path = paths.config_file()
    path.parent.mkdir(parents=True)
    path.write_text('[triton]\nurl = "gpu-box:8001"\nmodels = ["a", "b"]\n[kube]\nnamespace = "prod"\n')
    cfg = config_mod.load(environ={"TRITON_CONSOLE_KUBE_NAMESPACE": "staging", "TRITON_CONSOLE_TRITON_MODELS": "x, y"})
    assert cfg.triton.url == "gpu-box:8001"
    assert cfg.triton.models == ["x", "y"]
    assert cfg.kube.namespace == "staging"
    assert cfg.source == str(path)


@pytest.mark.parametrize(
    "text, message",
    [
        ("[triton\nurl=1", "not valid TOML"),
        ("[nope]\na = 1\n", "unknown section [nope]"),
        ("[triton]\nurll = 'x'\n", "unknown setting 'urll'"),
        ("[local]\ngrpc_port = 'abc'\n", "grpc_port"),
        ("[local]\ngrpc_port = true\n", "a boolean is not a number"),
    ],
)
def test_broken_file_gives_a_clear_error(tmp_path, text, message):
    path = tmp_path / "c.toml"
    path.write_text(text)
    with pytest.raises(config_mod.ConfigError, match=message.replace("[", r"\[")):
        config_mod.load(path)


def test_bad_environment_override_names_the_variable():
    with pytest.raises(config_mod.ConfigError, match="TRITON_CONSOLE_LOCAL_HTTP_PORT"):
        config_mod.load(environ={"TRITON_CONSOLE_LOCAL_HTTP_PORT": "eighty"})


def test_rendered_toml_reloads_to_the_same_config(tmp_path):
    cfg = config_mod.load(environ={"TRITON_CONSOLE_TRITON_URL": 'odd"host:1'})
    path = tmp_path / "round.toml"
    path.write_text(config_mod.render_toml(cfg))
    again = config_mod.load(path, environ={})
    assert again.as_dict() == cfg.as_dict()


def test_empty_config_parameters_show_as_empty_strings():
    from console.core.server_info import config_parameters

    cfg = {"parameters": {"tokenizer": {}, "dtype": {"string_value": "auto"}}}
    assert config_parameters(cfg) == {"tokenizer": "", "dtype": "auto"}
