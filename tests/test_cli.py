"""Every command answers --help; unbuilt ones say so and fail rather than pretend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from console import cli

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "console", *args], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)


def test_top_level_help_lists_every_command():
    result = run_cli("--help")
    assert result.returncode == 0
    for name in cli.COMMANDS:
        assert name in result.stdout


@pytest.mark.parametrize("name", cli.COMMANDS)
def test_each_command_has_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main([name, "--help"])
    assert exc.value.code == 0
    assert "usage: triton-console " + name in capsys.readouterr().out


def test_config_command_shows_env_override(monkeypatch, capsys):
    monkeypatch.setenv("TRITON_CONSOLE_TRITON_URL", "elsewhere:9001")
    assert cli.main(["config"]) == 0
    assert 'url = "elsewhere:9001"' in capsys.readouterr().out


def test_broken_config_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[triton]\nport = 1\n")
    assert cli.main(["--config", str(bad), "config"]) == 2
    assert "unknown setting 'port'" in capsys.readouterr().err
