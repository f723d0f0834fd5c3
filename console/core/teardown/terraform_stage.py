"""``terraform destroy`` in the order that avoids stuck deletions: add-ons, EKS, VPC, the rest.

Add-ons first (Helm releases, Kubernetes objects, Karpenter: their AWS side goes while the
cluster is still there to uninstall them from); then the EKS module; then the VPC (nothing of
the cluster's uses it any more); then a plain ``destroy`` for whatever is left. The targets come
from the ``.tf`` files (python-hcl2): top-level ``helm_release``, ``kubectl_manifest`` and
``kubernetes_*`` resources and modules named like add-ons/karpenter are add-ons; a module named
``*eks*`` is EKS; ``*vpc*`` is the VPC. A renamed or missing module is simply not targeted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

Notify = Callable[[str], None]


class TerraformStageError(RuntimeError):
    pass


@dataclass(frozen=True)
class TerraformSituation:
    runnable: bool
    why_not: str = ""  # the note shown when the stages are skipped
    groups: tuple[tuple[str, tuple[str, ...]], ...] = ()


ADDON_RESOURCE_TYPES = ("helm_release", "kubectl_manifest")
GROUPS = ("add-ons", "eks", "vpc")


def _declared(workdir: Path) -> list[tuple[str, str]]:
    """``(address, block kind)`` for every top-level module and resource in the ``.tf`` files."""
    try:
        import hcl2
    except ImportError:  # without it: no targeted groups, one plain destroy (terraform orders it)
        return []

    found: list[tuple[str, str]] = []
    for tf in sorted(workdir.glob("*.tf")):
        try:
            with tf.open(encoding="utf-8") as handle:
                parsed = hcl2.load(handle)
        except Exception:  # noqa: BLE001 - a file hcl2 cannot read adds no targets; terraform will say why
            continue
        for block in parsed.get("module", []):
            found.extend((f"module.{str(name).strip(chr(34))}", "module") for name in block)
        for block in parsed.get("resource", []):
            for rtype, named in block.items():
                found.extend((f"{str(rtype).strip(chr(34))}.{str(name).strip(chr(34))}", "resource") for name in named)
    return found


def _group(address: str, kind: str) -> str:
    name = address.split(".", 1)[1].lower() if kind == "module" else address.split(".", 1)[0]
    if kind == "resource":
        return "add-ons" if name in ADDON_RESOURCE_TYPES or name.startswith("kubernetes_") else "rest"
    if any(word in name for word in ("addon", "karpenter", "triton", "helm")):
        return "add-ons"
    if "eks" in name:
        return "eks"
    return "vpc" if "vpc" in name else "rest"


def destroy_groups(workdir: Path) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(group, targets)`` in destroy order: add-ons → eks → vpc; the final untargeted destroy
    takes the rest. Groups with nothing declared are left out."""
    declared = _declared(workdir)
    groups = []
    for group in GROUPS:
        targets = tuple(sorted(dict.fromkeys(a for a, k in declared if _group(a, k) == group)))
        if targets:
            groups.append((group, targets))
    return tuple(groups)


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


def _shown(path: Path) -> str:
    """The path as an operator reads it: relative to the checkout when it lies inside it."""
    from console.core.paths import repo_root

    try:
        return str(path.resolve().relative_to(repo_root())) + "/"
    except ValueError:
        return str(path)


def situation(workdir: Path, binary: str | None = None) -> TerraformSituation:
    """Whether the terraform stages can run, and if not, the honest reason."""
    if not workdir.is_dir():
        return TerraformSituation(False, f"no terraform directory at {_shown(workdir)}")
    if state_has_resources(workdir) is False:
        return TerraformSituation(False, f"no terraform state in {_shown(workdir)} (made elsewhere, or already destroyed)")
    try:
        from console.core import terraform as tf_mod
    except ImportError:
        return TerraformSituation(False, "the terraform runner is not part of this build")
    if not (binary or tf_mod.find_binary()):
        return TerraformSituation(False, f"no terraform binary (install terraform or set {tf_mod.BINARY_ENV})")
    return TerraformSituation(True, "", destroy_groups(workdir))


def destroy_one(workdir: Path, label: str, targets: tuple[str, ...], notify: Notify, binary: str | None = None, env: dict[str, str] | None = None) -> None:
    """``terraform destroy -target=...`` (everything when ``targets`` is empty); raises when it fails."""
    import asyncio

    from console.core import terraform as tf_mod

    tf = tf_mod.Terraform(workdir, binary=binary, env=env)
    notify(f"terraform destroy {label}: " + (" ".join(f"-target={t}" for t in targets) or "everything left in the state"))
    errors: list[str] = []

    async def run() -> int:
        code = 1
        async for event in tf.stream(tf.destroy_args(list(targets))):
            if isinstance(event, tf_mod.ApplyComplete):
                notify(f"  destroyed {event.addr}")
            elif isinstance(event, tf_mod.ApplyErrored):
                errors.append(f"{event.addr}: {event.message}")
            elif isinstance(event, tf_mod.Diagnostic) and event.severity == "error":
                errors.append(event.describe())
            elif isinstance(event, tf_mod.Exited):
                code = event.returncode
        return code

    async def init() -> int:
        code = 1
        async for event in tf.stream(tf.init_args()):
            if isinstance(event, tf_mod.Exited):
                code = event.returncode
        return code

    if not (workdir / ".terraform").is_dir():  # a fresh checkout next to its state: providers first
        notify("terraform init (no .terraform directory yet)")
        if asyncio.run(init()) != 0:
            raise TerraformStageError("terraform init failed; run it in the terraform directory to see why")
    code = asyncio.run(run())
    if code != 0:
        raise TerraformStageError(f"terraform destroy {label} failed (exit {code})" + (": " + "; ".join(errors) if errors else ""))
