"""Repositories of the outbox test model (bench/models/outbox_burst): model.py's own Outbox and
Job, driven by a thread that emits as fast as it is told (tests/test_outbox.py,
bench/outbox_first_response.py, bench/outbox_cpu.py)."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from pathlib import Path

MODEL = Path(__file__).parent / "models" / "outbox_burst"
ROOT = Path(__file__).resolve().parents[1]
MODEL_PY = ROOT / "model_repository" / "llama2" / "1" / "model.py"


def make_repository(dest: Path, entries: dict[str, Path], response_threads: int) -> Path:
    """One entry per name, each loading the model.py at its path, with the served models' own
    inputs and outputs (llama2's config.pbtxt)."""
    head = (ROOT / "model_repository" / "llama2" / "config.pbtxt").read_text().split("instance_group")[0]
    for name, model_py in entries.items():
        shutil.copytree(MODEL, dest / name)
        (dest / name / "config.pbtxt").write_text(
            head + "instance_group [ { count: 1 kind: KIND_CPU } ]\n"
            f'parameters {{ key: "model_py" value: {{ string_value: "{Path(model_py).resolve()}" }} }}\n'
            f'parameters {{ key: "response_threads" value: {{ string_value: "{response_threads}" }} }}\n'
        )
    return dest


@contextlib.contextmanager
def base_and_tree(base: str, response_threads: int):
    """A started tritonserver serving the outbox test model twice: as "base" with ``base``'s
    committed model.py and as "tree" with this tree's (the benches' side-by-side comparisons)."""
    from console.core.tritonserver import Ports, TritonServer, free_ports

    with tempfile.TemporaryDirectory() as tmp:
        base_py = Path(tmp) / "base_model.py"
        base_py.write_text(subprocess.run(["git", "-C", str(ROOT), "show", f"{base}:model_repository/llama2/1/model.py"],
                                          check=True, capture_output=True, text=True).stdout)
        repo = make_repository(Path(tmp) / "repo", {"base": base_py, "tree": MODEL_PY}, response_threads)
        with TritonServer(repo, Ports(*free_ports(3)), log_file=Path(tmp) / "tritonserver.log") as server:
            yield server


def alternating(rounds: int):
    """(round, side) pairs: base first in even rounds, tree first in odd ones."""
    for round_ in range(rounds):
        for name in (("base", "tree") if round_ % 2 == 0 else ("tree", "base")):
            yield round_, name
