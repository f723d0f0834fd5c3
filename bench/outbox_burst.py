"""Repositories of the outbox test model (bench/models/outbox_burst): model.py's own Outbox and
Job, driven by a thread that emits as fast as it is told (tests/test_outbox.py,
bench/outbox_first_response.py)."""

from __future__ import annotations

import shutil
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
