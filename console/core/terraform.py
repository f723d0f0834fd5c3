"""Run terraform and turn its machine-readable UI stream into typed events.

``terraform plan|apply|destroy -json`` writes one JSON object per line (the documented
"machine-readable UI", https://developer.hashicorp.com/terraform/internals/machine-readable-ui):
``version``, ``planned_change``, ``change_summary``, ``apply_start``, ``apply_progress``,
``apply_complete``, ``apply_errored``, ``refresh_*``, ``provision_*``, ``diagnostic``,
``outputs``, ``log`` ... :class:`Terraform` runs the binary (``$TERRAFORM_BIN`` or PATH), parses
each line into an :class:`Event` and yields it; provisioning (apply) and teardown (destroy) both
build on it. :class:`Progress` folds events into counts, per-resource state and an ETA.

Cancelling is graceful: one SIGINT, then we wait. Terraform finishes the operations in flight
and writes its state; a second interrupt (or SIGKILL) is what leaves state half-written, and we
never send either.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from console.core.secrets import redact

BINARY_ENV = "TERRAFORM_BIN"


class TerraformError(Exception):
    """terraform could not be run, or it failed; ``diagnostics`` carries its own errors."""

    def __init__(self, message: str, diagnostics: Iterable["Diagnostic"] = ()) -> None:
        super().__init__(message)
        self.diagnostics = list(diagnostics)


class TerraformNotFound(TerraformError):
    pass


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Event:
    """One line of terraform's stream. ``message`` is terraform's own human text (redacted)."""

    type: str
    message: str = ""
    level: str = "info"
    timestamp: str = ""


@dataclass(frozen=True)
class VersionInfo(Event):
    terraform: str = ""
    ui: str = ""


@dataclass(frozen=True)
class Log(Event):
    """A ``log`` message, or a line that was not JSON (init output, provider chatter)."""


@dataclass(frozen=True)
class ResourceEvent(Event):
    """Something that happened to one resource: plan, apply, refresh or provisioner hooks."""

    addr: str = ""
    module: str = ""
    resource_type: str = ""
    action: str = ""  # create | update | delete | replace | read | noop | move | import
    elapsed_s: float | None = None
    id_value: str | None = None


@dataclass(frozen=True)
class PlannedChange(ResourceEvent):
    pass


@dataclass(frozen=True)
class ApplyStart(ResourceEvent):
    pass


@dataclass(frozen=True)
class ApplyProgress(ResourceEvent):
    pass


@dataclass(frozen=True)
class ApplyComplete(ResourceEvent):
    pass


@dataclass(frozen=True)
class ApplyErrored(ResourceEvent):
    pass


@dataclass(frozen=True)
class ChangeSummary(Event):
    add: int = 0
    change: int = 0
    remove: int = 0
    import_: int = 0
    operation: str = ""  # plan | apply | destroy


@dataclass(frozen=True)
class Diagnostic(Event):
    severity: str = "error"  # error | warning
    summary: str = ""
    detail: str = ""
    address: str = ""
    filename: str = ""
    line: int | None = None

    def describe(self) -> str:
        where = f" ({self.filename}:{self.line})" if self.filename else ""
        what = f" [{self.address}]" if self.address else ""
        text = f"{self.severity.capitalize()}: {self.summary}{what}{where}"
        return text + (f"\n  {self.detail}" if self.detail else "")


@dataclass(frozen=True)
class Outputs(Event):
    outputs: Mapping[str, object] = field(default_factory=dict)  # name -> value (sensitive masked)


@dataclass(frozen=True)
class Exited(Event):
    """The last event of every run: terraform's exit status."""

    returncode: int = 0
    cancelled: bool = False


_RESOURCE_TYPES: dict[str, type[ResourceEvent]] = {
    "planned_change": PlannedChange,
    "resource_drift": ResourceEvent,
    "apply_start": ApplyStart,
    "apply_progress": ApplyProgress,
    "apply_complete": ApplyComplete,
    "apply_errored": ApplyErrored,
    "refresh_start": ResourceEvent,
    "refresh_complete": ResourceEvent,
    "provision_start": ResourceEvent,
    "provision_progress": ResourceEvent,
    "provision_complete": ResourceEvent,
    "provision_errored": ResourceEvent,
    "ephemeral_op_start": ResourceEvent,
    "ephemeral_op_complete": ResourceEvent,
}


def parse_line(line: str, extra_secrets: tuple[str, ...] = ()) -> Event | None:
    """One line of ``-json`` output as an event; None for a blank line."""
    text = line.strip()
    if not text:
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if not isinstance(obj, dict) or "type" not in obj:
        return Log(type="log", message=redact(text, extra_secrets), level="info")
    return parse_message(obj, extra_secrets)


def parse_message(obj: Mapping, extra_secrets: tuple[str, ...] = ()) -> Event:
    kind = str(obj.get("type", "log"))
    base = {
        "type": kind,
        "message": redact(str(obj.get("@message", "")), extra_secrets),
        "level": str(obj.get("@level", "info")),
        "timestamp": str(obj.get("@timestamp", "")),
    }
    if kind == "version":
        return VersionInfo(**base, terraform=str(obj.get("terraform", "")), ui=str(obj.get("ui", "")))
    if kind in _RESOURCE_TYPES:
        hook = obj.get("hook") or obj.get("change") or {}
        res = hook.get("resource") or {}
        elapsed = hook.get("elapsed_seconds")
        id_value = hook.get("id_value")
        return _RESOURCE_TYPES[kind](
            **base,
            addr=str(res.get("addr", "")),
            module=str(res.get("module", "")),
            resource_type=str(res.get("resource_type", "")),
            action=str(hook.get("action", "")),
            elapsed_s=float(elapsed) if isinstance(elapsed, (int, float)) else None,
            id_value=redact(str(id_value), extra_secrets) if id_value is not None else None,
        )
    if kind == "change_summary":
        ch = obj.get("changes") or {}
        return ChangeSummary(
            **base,
            add=int(ch.get("add", 0)),
            change=int(ch.get("change", 0)),
            remove=int(ch.get("remove", 0)),
            import_=int(ch.get("import", 0)),
            operation=str(ch.get("operation", "")),
        )
    if kind == "diagnostic":
        d = obj.get("diagnostic") or {}
        rng = d.get("range") or {}
        return Diagnostic(
            **base,
            severity=str(d.get("severity", "error")),
            summary=redact(str(d.get("summary", "")), extra_secrets),
            detail=redact(str(d.get("detail", "")), extra_secrets),
            address=str(d.get("address", "")),
            filename=str(rng.get("filename", "")),
            line=(rng.get("start") or {}).get("line"),
        )
    if kind == "outputs":
        outs = {}
        for name, spec in (obj.get("outputs") or {}).items():
            spec = spec or {}
            outs[name] = "(sensitive)" if spec.get("sensitive") else spec.get("value")
        return Outputs(**base, outputs=outs)
    return Log(**base)


# --------------------------------------------------------------------------- progress


@dataclass
class ResourceState:
    addr: str
    action: str
    status: str = "planned"  # planned | running | done | failed
    elapsed_s: float = 0.0
    resource_type: str = ""


class Progress:
    """Folds a run's events into what an operator watches: counts, per-resource state, ETA.

    ``expected`` comes from the plan's change_summary (or is given up front, e.g. from an
    earlier plan); resources that start without having been planned still count.
    """

    def __init__(
        self,
        expected: int = 0,
        clock: Callable[[], float] = time.monotonic,
        typical_s: Callable[[ResourceState], float] | None = None,
    ) -> None:
        self.expected = expected
        self.typical_s = typical_s
        self.resources: dict[str, ResourceState] = {}
        self.errors: list[Diagnostic] = []
        self.warnings: list[Diagnostic] = []
        self.outputs: dict[str, object] = {}
        self.summary: ChangeSummary | None = None
        self._clock = clock
        self.started = clock()
        self.finished: float | None = None
        self.returncode: int | None = None

    def _state(self, event: ResourceEvent) -> ResourceState:
        state = self.resources.setdefault(event.addr, ResourceState(event.addr, event.action))
        state.resource_type = state.resource_type or event.resource_type
        return state

    def update(self, event: Event) -> None:
        if isinstance(event, PlannedChange) and event.action not in ("noop", "read"):
            self._state(event)
            self.expected = max(self.expected, len(self.resources))
        elif isinstance(event, ChangeSummary):
            self.summary = event
            if event.operation in ("plan", ""):
                self.expected = max(self.expected, event.add + event.change + event.remove)
        elif isinstance(event, (ApplyStart, ApplyProgress)):
            state = self._state(event)
            state.status = "running"
            state.elapsed_s = event.elapsed_s or state.elapsed_s
            self.expected = max(self.expected, len(self.resources))
        elif isinstance(event, ApplyComplete):
            state = self._state(event)
            state.status, state.elapsed_s = "done", event.elapsed_s or state.elapsed_s
        elif isinstance(event, ApplyErrored):
            state = self._state(event)
            state.status, state.elapsed_s = "failed", event.elapsed_s or state.elapsed_s
        elif isinstance(event, Diagnostic):
            (self.errors if event.severity == "error" else self.warnings).append(event)
        elif isinstance(event, Outputs):
            self.outputs.update(event.outputs)
        elif isinstance(event, Exited):
            self.finished, self.returncode = self._clock(), event.returncode

    def count(self, status: str) -> int:
        return sum(1 for r in self.resources.values() if r.status == status)

    @property
    def done(self) -> int:
        return self.count("done")

    @property
    def total(self) -> int:
        return max(self.expected, len(self.resources))

    @property
    def fraction(self) -> float:
        if self.returncode == 0:
            return 1.0
        return self.done / self.total if self.total else 0.0

    @property
    def elapsed_s(self) -> float:
        return (self.finished or self._clock()) - self.started

    def eta_s(self) -> float | None:
        """Seconds left: the pace so far, or (with ``typical_s``) at least the longest typical
        remaining time of a resource not done yet (terraform runs them in parallel). None
        while nothing is known."""
        if self.finished is not None:
            return 0.0
        pace = self.elapsed_s / self.done * max(self.total - self.done, 0) if self.done and self.total else None
        if self.typical_s is None:
            return pace
        left = [max(self.typical_s(r) - r.elapsed_s, 0.0) for r in self.resources.values() if r.status in ("planned", "running")]
        if not left:
            return pace
        return max(pace or 0.0, max(left))

    def running(self) -> list[ResourceState]:
        return [r for r in self.resources.values() if r.status == "running"]


# --------------------------------------------------------------------------- runner


def find_binary(environ: Mapping[str, str] | None = None) -> str | None:
    env = os.environ if environ is None else environ
    explicit = env.get(BINARY_ENV, "").strip()
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return shutil.which("terraform", path=env.get("PATH"))


class Terraform:
    """terraform in one working directory.

    ``env`` is added to the process environment (``TF_VAR_*`` carries variables, so secrets
    never appear on a command line); ``secrets`` are extra values masked in every event.
    """

    def __init__(
        self,
        workdir: Path | str,
        binary: str | None = None,
        env: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
    ) -> None:
        self.workdir = Path(workdir)
        self.binary = binary or find_binary()
        self.env = dict(env or {})
        self.secrets = tuple(s for s in secrets if s)
        self._proc: asyncio.subprocess.Process | None = None
        self._cancelled = False

    def _require_binary(self) -> str:
        if not self.binary:
            raise TerraformNotFound(
                f"terraform not found: install it (https://developer.hashicorp.com/terraform/install) "
                f"or set {BINARY_ENV} to its path"
            )
        return self.binary

    def _environ(self) -> dict[str, str]:
        env = {**os.environ, **self.env}
        env.setdefault("TF_IN_AUTOMATION", "1")
        env["TF_INPUT"] = "0"
        return env

    # -- one-shot commands -------------------------------------------------------------

    def version(self) -> str:
        """terraform's version string (``terraform version -json``)."""
        out = self._run_capture(["version", "-json"])
        try:
            return str(json.loads(out)["terraform_version"])
        except (ValueError, KeyError) as exc:
            raise TerraformError(f"unexpected `terraform version -json` output: {out[:200]!r}") from exc

    def output(self) -> dict[str, object]:
        """``terraform output -json`` as name -> value (sensitive values masked)."""
        out = self._run_capture(["output", "-json"])
        try:
            data = json.loads(out or "{}")
        except ValueError as exc:
            raise TerraformError(f"unexpected `terraform output -json` output: {out[:200]!r}") from exc
        return {k: "(sensitive)" if (v or {}).get("sensitive") else (v or {}).get("value") for k, v in data.items()}

    def _run_capture(self, args: list[str]) -> str:
        binary = self._require_binary()
        try:
            done = subprocess.run(
                [binary, *args], cwd=self.workdir, env=self._environ(), capture_output=True, text=True, timeout=120
            )
        except OSError as exc:
            raise TerraformNotFound(f"cannot run {binary}: {exc}") from exc
        except subprocess.TimeoutExpired as exc:
            raise TerraformError(f"`terraform {' '.join(args)}` did not finish in 120 s") from exc
        if done.returncode != 0:
            diags = [e for e in map(lambda l: parse_line(l, self.secrets), done.stdout.splitlines()) if isinstance(e, Diagnostic)]
            msg = redact((done.stderr or done.stdout).strip(), self.secrets)
            raise TerraformError(f"`terraform {args[0]}` failed (exit {done.returncode}): {msg[-2000:]}", diags)
        return done.stdout

    # -- streamed commands -------------------------------------------------------------

    def init_args(self, upgrade: bool = False) -> list[str]:
        # `init -json` only exists in newer terraform; plain text lines become Log events.
        return ["init", "-input=false", "-no-color"] + (["-upgrade"] if upgrade else [])

    @staticmethod
    def plan_args(out: str | None = None, targets: Iterable[str] = (), destroy: bool = False) -> list[str]:
        args = ["plan", "-json", "-input=false"]
        args += ["-destroy"] if destroy else []
        args += [f"-out={out}"] if out else []
        return args + [f"-target={t}" for t in targets]

    @staticmethod
    def apply_args(plan_file: str | None = None, targets: Iterable[str] = ()) -> list[str]:
        if plan_file:
            return ["apply", "-json", "-input=false", plan_file]
        return ["apply", "-json", "-input=false", "-auto-approve"] + [f"-target={t}" for t in targets]

    @staticmethod
    def destroy_args(targets: Iterable[str] = ()) -> list[str]:
        return ["destroy", "-json", "-input=false", "-auto-approve"] + [f"-target={t}" for t in targets]

    async def stream(self, args: list[str]) -> AsyncIterator[Event]:
        """Run ``terraform *args`` and yield its events, ending with :class:`Exited`.

        Leaving the iteration early (or cancelling the task) interrupts terraform gracefully
        and waits for it to exit. terraform writes to a spool file, not a pipe, in its own
        session: if the console dies (crash, closed terminal, dropped SSH) terraform neither
        gets the terminal's signals nor a broken pipe, and finishes writing its state.
        """
        binary = self._require_binary()
        self._cancelled = False
        fd, spool = tempfile.mkstemp(prefix="terraform-", suffix=".jsonl")
        try:
            with os.fdopen(fd, "wb") as out:  # the child keeps its own copy of the descriptor
                proc = await asyncio.create_subprocess_exec(
                    binary,
                    *args,
                    cwd=self.workdir,
                    env=self._environ(),
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                    start_new_session=True,
                )
        except OSError as exc:
            os.unlink(spool)
            raise TerraformNotFound(f"cannot run {binary}: {exc}") from exc
        self._proc = proc
        finished = False
        try:
            with open(spool, "rb") as reader:
                async for raw in _follow(reader, proc):
                    event = parse_line(raw.decode("utf-8", "replace"), self.secrets)
                    if event is not None:
                        yield event
            code = await proc.wait()
            finished = True
            yield Exited(type="exited", message=f"terraform exited with {code}", returncode=code, cancelled=self._cancelled)
        finally:
            if not finished and proc.returncode is None:
                self._interrupt()
                task = asyncio.current_task()
                if not (task is not None and getattr(task, "cancelling", lambda: 0)()):
                    await asyncio.shield(proc.wait())
                # else the app is shutting down: terraform stops gracefully without us
            self._proc = None
            os.unlink(spool)

    def cancel(self) -> bool:
        """Ask the running terraform to stop gracefully (one SIGINT). True when one was sent."""
        if self._proc is None or self._proc.returncode is not None or self._cancelled:
            return False
        return self._interrupt()

    def _interrupt(self) -> bool:
        if self._proc is None or self._proc.returncode is not None or self._cancelled:
            return False
        self._cancelled = True
        try:
            self._proc.send_signal(signal.SIGINT)
        except ProcessLookupError:
            return False
        return True

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None


async def _follow(reader, proc: asyncio.subprocess.Process, poll_s: float = 0.05) -> AsyncIterator[bytes]:
    """Lines appended to a file by a running process, until it exits and the file is drained."""
    pending = b""
    exited = False
    while True:
        chunk = reader.read(1 << 16)
        if chunk:
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                yield line
            continue
        if exited:
            break  # drained after the exit: nothing more can come
        if proc.returncode is not None:
            exited = True  # read once more: it may have written just before exiting
            continue
        try:
            await asyncio.wait_for(asyncio.shield(proc.wait()), poll_s)
        except asyncio.TimeoutError:
            pass
    if pending:
        yield pending


async def collect(tf: Terraform, args: list[str], on_event: Callable[[Event], None] | None = None) -> Progress:
    """Run one streamed command to the end, folding events into a :class:`Progress`."""
    progress = Progress()
    async for event in tf.stream(args):
        progress.update(event)
        if on_event is not None:
            on_event(event)
    return progress
