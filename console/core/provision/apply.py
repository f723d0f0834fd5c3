"""The staged apply: VPC, then EKS, then everything else, as the upstream install.sh does.

Staging keeps each terraform run small enough to read and retry: a failure names its stage,
the stage is recorded in a resume file under ``paths.data_dir()/provision/``, and the next
run starts from it (terraform's own state already holds what the failed run created).
Every event goes to the caller and, redacted, to a log file under ``paths.data_dir()/logs``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from console.core import paths
from console.core import terraform as tf
from console.core.secrets import redact
from console.core.provision.settings import ProvisionSettings


@dataclass(frozen=True)
class Stage:
    key: str
    title: str
    targets: tuple[str, ...]  # empty = the whole configuration


STAGES = (
    Stage("vpc", "Network (VPC, subnets, NAT)", ("module.vpc",)),
    Stage("eks", "EKS cluster and core nodes", ("module.eks",)),
    Stage("rest", "Karpenter, add-ons, monitoring, model repository, Triton", ()),
)
STAGE_KEYS = tuple(s.key for s in STAGES)

# How long AWS usually takes per resource type (seconds), for an ETA before the pace is known.
TYPICAL_SECONDS = {
    "aws_eks_cluster": 600, "aws_eks_node_group": 240, "aws_eks_addon": 90, "aws_nat_gateway": 120,
    "helm_release": 120, "aws_eip": 5, "aws_iam_role": 3, "kubectl_manifest": 5,
}


def typical_seconds(resource: tf.ResourceState) -> float:
    return float(TYPICAL_SECONDS.get(resource.resource_type, 15))


# ------------------------------------------------------------------------ what the caller sees


@dataclass(frozen=True)
class StageStarted:
    stage: Stage
    index: int
    command: str  # e.g. "terraform apply -target=module.vpc"


@dataclass(frozen=True)
class StageEvent:
    """One terraform event inside a stage, with the stage's progress so far."""

    stage: Stage
    event: tf.Event
    progress: tf.Progress


@dataclass(frozen=True)
class StageFinished:
    stage: Stage
    progress: tf.Progress
    ok: bool
    errors: tuple[tf.Diagnostic, ...] = ()


@dataclass(frozen=True)
class RunFinished:
    ok: bool
    dry_run: bool
    log_path: Path
    failed_stage: str | None = None
    outputs: dict[str, object] = field(default_factory=dict)
    kubeconfig: str = ""  # what was set up, or why not
    message: str = ""


ProvisionEvent = StageStarted | StageEvent | StageFinished | RunFinished


# ------------------------------------------------------------------------ the resume file


def resume_file(settings: ProvisionSettings) -> Path:
    return paths.data_dir() / "provision" / f"{settings.name}-{settings.region}.json"


def load_resume(settings: ProvisionSettings) -> dict:
    try:
        return json.loads(resume_file(settings).read_text())
    except (OSError, ValueError):
        return {}


def _save_resume(settings: ProvisionSettings, **values) -> None:
    path = paths.ensure_dir(resume_file(settings).parent) / resume_file(settings).name
    data = {**load_resume(settings), **values, "updated": datetime.now(timezone.utc).isoformat()}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)


def resume_stage(settings: ProvisionSettings) -> str | None:
    """The stage the last run failed in (or was stopped in); None when there is nothing to resume."""
    state = load_resume(settings)
    failed = state.get("failed")
    return failed if failed in STAGE_KEYS else None


# ------------------------------------------------------------------------ the run


class Provisioner:
    def __init__(self, settings: ProvisionSettings, hf_token: str, binary: str | None = None) -> None:
        self.settings = settings
        self.hf_token = hf_token
        env = {**settings.tf_vars(), **settings.aws_env(), "TF_VAR_huggingface_token": hf_token}
        self.terraform = tf.Terraform(settings.terraform_dir, binary=binary, env=env, secrets=(hf_token,))
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.log_path = paths.ensure_dir(paths.data_dir() / "logs") / f"provision-{settings.name}-{stamp}.log"
        self._log = None

    def cancel(self) -> bool:
        """Stop gracefully (one SIGINT to terraform); the run ends as a failure you can resume."""
        return self.terraform.cancel()

    def _write(self, text: str) -> None:
        if self._log is None:
            self._log = self.log_path.open("a", encoding="utf-8")
        stamp = datetime.now().strftime("%H:%M:%S")
        for line in redact(text, (self.hf_token,)).splitlines() or [""]:
            self._log.write(f"{stamp} {line}\n")
        self._log.flush()

    async def run(self, start: str | None = None, dry_run: bool = False, setup_kubeconfig: bool = True,
                  kubeconfig_path: Path | None = None) -> AsyncIterator[ProvisionEvent]:
        """Init, then plan (dry run) or apply stage by stage from ``start``; ends with RunFinished."""
        if start is not None and start not in STAGE_KEYS:
            raise ValueError(f"unknown stage {start!r}: one of {', '.join(STAGE_KEYS)}")
        try:
            self._write(f"provisioning {self.settings.name} in {self.settings.region}"
                        f" ({'plan only' if dry_run else 'apply'}; from stage {start or STAGE_KEYS[0]})")
            init_stage = Stage("init", "terraform init", ())
            ok = True
            async for item in self._stage(init_stage, -1, self.terraform.init_args()):
                yield item
                if isinstance(item, StageFinished):
                    ok = item.ok
            if not ok:
                yield self._finish(False, dry_run, "init", message="terraform init failed")
                return
            if dry_run:
                plan = Stage("plan", "Plan everything (no changes)", ())
                async for item in self._stage(plan, 0, tf.Terraform.plan_args()):
                    yield item
                    if isinstance(item, StageFinished):
                        ok = item.ok
                yield self._finish(ok, True, None if ok else "plan",
                                   message="plan finished: nothing was changed" if ok else "plan failed")
                return
            first = STAGE_KEYS.index(start) if start else 0
            _save_resume(self.settings, failed=None, running=True, log=str(self.log_path))
            for index, stage in enumerate(STAGES[first:], start=first):
                async for item in self._stage(stage, index, tf.Terraform.apply_args(targets=stage.targets)):
                    yield item
                    if isinstance(item, StageFinished):
                        ok = item.ok
                if not ok:
                    _save_resume(self.settings, failed=stage.key, running=False)
                    why = "stopped" if self.terraform._cancelled else "failed"
                    yield self._finish(False, False, stage.key,
                                       message=f"stage {stage.key} {why}; retry resumes from it")
                    return
                _save_resume(self.settings, completed=list(STAGE_KEYS[: index + 1]))
            # blocking calls (subprocess, AWS API) off the event loop: the UI stays live
            try:
                outputs = await asyncio.to_thread(self.terraform.output)
            except tf.TerraformError as exc:
                outputs = {}
                self._write(f"terraform output failed: {exc}")
            kube = await asyncio.to_thread(self._kubeconfig, kubeconfig_path) if setup_kubeconfig else ""
            _save_resume(self.settings, failed=None, running=False, completed=list(STAGE_KEYS), outputs=outputs)
            yield self._finish(True, False, None, outputs=outputs, kubeconfig=kube, message="provisioned")
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None

    async def _stage(self, stage: Stage, index: int, args: list[str]) -> AsyncIterator[ProvisionEvent]:
        command = "terraform " + " ".join(a for a in args if a not in ("-json", "-input=false", "-no-color"))
        self._write(f"== {stage.title}: {command}")
        yield StageStarted(stage, index, command)
        progress = tf.Progress(typical_s=typical_seconds)
        started = time.monotonic()
        try:
            async for event in self.terraform.stream(args):
                progress.update(event)
                if event.message:
                    self._write(event.message if not isinstance(event, tf.Diagnostic) else event.describe())
                yield StageEvent(stage, event, progress)
        except tf.TerraformError as exc:
            diag = tf.Diagnostic(type="diagnostic", message=str(exc), level="error", summary=str(exc))
            progress.update(diag)
            progress.update(tf.Exited(type="exited", returncode=127))
            self._write(f"error: {exc}")
        ok = progress.returncode == 0
        self._write(f"== {stage.key} {'done' if ok else 'FAILED'} after {time.monotonic() - started:.0f}s "
                    f"({progress.done} resources changed)")
        yield StageFinished(stage, progress, ok, tuple(progress.errors))

    def _kubeconfig(self, path: Path | None) -> str:
        from console.core.provision.kubeconfig import update_kubeconfig

        try:
            entry = update_kubeconfig(self.settings.name, self.settings.region, self.settings.profile, path=path)
        except Exception as exc:  # the cluster exists; a kubeconfig problem must not hide that
            note = f"kubeconfig not updated ({type(exc).__name__}: {exc}); run the configure_kubectl output"
            self._write(note)
            return redact(note)
        note = f"kubeconfig {entry.path}: context {entry.context} (current)"
        self._write(note)
        return note

    def _finish(self, ok: bool, dry_run: bool, failed: str | None, **kw) -> RunFinished:
        self._write(kw.get("message", ""))
        return RunFinished(ok=ok, dry_run=dry_run, log_path=self.log_path, failed_stage=failed, **kw)
