"""Generate a copy of the project's model_repository with config.pbtxt parameters overridden.

usage: make_repo.py SRC_REPO DST_REPO [--clone NEW=OLD:MODEL_PY ...] MODEL.KEY=VALUE ...

The committed configs stay as they are; the GPU proof points them at locally built models and
its own engine settings through this copy. Configs are parsed and written with Triton's own
protobuf schema (tritonclient's model_config_pb2), so a typo in a key is added, never silently
lost, and the result is a valid config. ``--clone`` serves OLD's config a second time as NEW
with another model.py, so a change to model.py can be measured side by side with the original.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from google.protobuf import text_format
from tritonclient.grpc import model_config_pb2


def read_config(path: Path) -> model_config_pb2.ModelConfig:
    return text_format.Parse(path.read_text(), model_config_pb2.ModelConfig())


def parameters(config: model_config_pb2.ModelConfig) -> dict[str, str]:
    return {key: value.string_value for key, value in config.parameters.items()}


def generate(src: Path, dst: Path, overrides: list[str], clones: list[str] = ()) -> dict[str, dict[str, str]]:
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    wanted: dict[str, dict[str, str]] = {}
    for item in overrides:
        target, eq, value = item.partition("=")
        model, dot, key = target.partition(".")
        if not (model and key and dot and eq):
            raise SystemExit(f"bad override {item!r}: expected MODEL.KEY=VALUE")
        wanted.setdefault(model, {})[key] = value
    for clone in clones:
        new, _, rest = clone.partition("=")
        old, _, model_py = rest.partition(":")
        if not (new and old and model_py) or not (dst / old).is_dir():
            raise SystemExit(f"bad --clone {clone!r}: expected NEW=OLD:MODEL_PY with OLD a model of {src}")
        shutil.copytree(dst / old, dst / new)
        shutil.copy2(model_py, dst / new / "1" / "model.py")
        wanted[new] = {**wanted.get(old, {}), **wanted.get(new, {})}  # a clone serves OLD's settings
    result = {}
    for model_dir in sorted(p for p in dst.iterdir() if (p / "config.pbtxt").is_file()):
        path = model_dir / "config.pbtxt"
        config = read_config(path)
        for key, value in wanted.get(model_dir.name, {}).items():
            config.parameters[key].string_value = value
        path.write_text(text_format.MessageToString(config))
        result[model_dir.name] = parameters(config)
    missing = set(wanted) - set(result)
    if missing:
        raise SystemExit(f"no such model in {src}: {', '.join(sorted(missing))}")
    return result


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    args, clones = [], []
    rest = iter(sys.argv[3:])
    for item in rest:
        if item == "--clone":
            clones.append(next(rest, ""))
        else:
            args.append(item)
    for model, params in generate(Path(sys.argv[1]), Path(sys.argv[2]), args, clones).items():
        print(f"[repo] {model}: " + " ".join(f"{k}={v}" for k, v in sorted(params.items())))


if __name__ == "__main__":
    main()
