"""``terraform destroy`` in the order that avoids stuck deletions: add-ons, EKS, VPC, the rest.

Add-ons first (Helm releases and their AWS side: load balancers, IAM roles) while the cluster is
still there to uninstall them from; then the EKS module; then the VPC (nothing of the cluster's
uses it any more); then a plain ``destroy`` for whatever is left. The targets are the modules the
``.tf`` files declare, so a renamed or missing module is simply not targeted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Notify = Callable[[str], None]


class TerraformStageError(RuntimeError):
    pass


@dataclass(frozen=True)
class TerraformSituation:
    runnable: bool
    why_not: str = ""  # the note shown when the stages are skipped
    targets: tuple[str, ...] = ()


def _declared_modules(workdir: Path) -> list[str]:
    import hcl2

    names: list[str] = []
    for tf in sorted(workdir.glob("*.tf")):
        try:
            with tf.open(encoding="utf-8") as handle:
                parsed = hcl2.load(handle)
        except Exception:  # noqa: BLE001 - a file hcl2 cannot read adds no targets; terraform will say why
            continue
        for block in parsed.get("module", []):
            names.extend(str(name).strip('"') for name in block)
    return names


def _rank(module: str) -> int:
    name = module.lower()
    if "addon" in name or "triton" in name or "helm" in name or "karpenter" in name:
        return 0
    if "eks" in name:
        return 1
    if "vpc" in name:
        return 2
    return 3


def destroy_targets(workdir: Path) -> tuple[str, ...]:
    """Modules in destroy order (add-ons → eks → vpc); the final untargeted destroy takes the rest."""
    modules = [m for m in _declared_modules(workdir) if _rank(m) < 3]
    return tuple(f"module.{m}" for m in sorted(dict.fromkeys(modules), key=lambda m: (_rank(m), m)))


def state_has_resources(workdir: Path) -> bool | None:
    """True/False for a local state; None when the state lives in a remote backend (unknown here)."""
    local = workdir / "terraform.tfstate"
    if local.is_file():
        try:
            return bool(json.loads(local.read_text(encoding="utf-8")).get("resources"))
        except (OSError, ValueError):
            return True  # unreadable: let terraform judge
    if (workdir / ".terraform" / "terraform.tfstate").is_file():
        return None  # backend configured (e.g. S3): terraform knows
    return False


def situation(workdir: Path, binary: str | None = None) -> TerraformSituation:
    """Whether the terraform stages can run, and if not, the honest reason."""
    if not workdir.is_dir():
        return TerraformSituation(False, f"no terraform directory at {workdir}")
    if state_has_resources(workdir) is False:
        return TerraformSituation(False, f"no terraform state with resources in {workdir} (made elsewhere, or already destroyed)")
    try:
        from console.core import terraform as tf_mod
    except ImportError:
        return TerraformSituation(False, "the terraform runner is not part of this build")
    if not (binary or tf_mod.find_binary()):
        return TerraformSituation(False, f"no terraform binary (install terraform or set {tf_mod.BINARY_ENV})")
    return TerraformSituation(True, "", destroy_targets(workdir))


def destroy_one(workdir: Path, target: str | None, notify: Notify, binary: str | None = None, env: dict[str, str] | None = None) -> None:
    """``terraform destroy -target=<target>`` (everything when ``target`` is None); raises when it fails."""
    import asyncio

    from console.core import terraform as tf_mod

    tf = tf_mod.Terraform(workdir, binary=binary, env=env)
    label = target or "everything else"
    notify(f"terraform destroy {label}")
    errors: list[str] = []

    async def run() -> int:
        code = 1
        async for event in tf.stream(tf.destroy_args([target] if target else [])):
            if isinstance(event, tf_mod.ApplyComplete):
                notify(f"  destroyed {event.addr}")
            elif isinstance(event, tf_mod.ApplyErrored):
                errors.append(f"{event.addr}: {event.message}")
            elif isinstance(event, tf_mod.Diagnostic) and event.severity == "error":
                errors.append(event.describe())
            elif isinstance(event, tf_mod.Exited):
                code = event.returncode
        return code

    code = asyncio.run(run())
    if code != 0:
        raise TerraformStageError(f"terraform destroy {label} failed (exit {code})" + (": " + "; ".join(errors) if errors else ""))
