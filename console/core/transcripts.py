"""Chat transcripts on disk: JSON (reloadable) and Markdown (readable), under the data dir.

Both hold the models, the sampling of every answer, the timings and the marks. Text passes
through :func:`console.core.secrets.redact` before it is written.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from console.core import paths
from console.core.chat import MARKS, Answer, ChatSession, Exchange, Pane
from console.core.completion import Completion, Sampling
from console.core.latency import RequestTiming, ms
from console.core.secrets import redact

FORMAT = "triton-console transcript"
VERSION = 1


class TranscriptError(ValueError):
    """A file that is not a transcript we can read; the message names it and why."""


def transcripts_dir() -> Path:
    return paths.data_dir() / "transcripts"


def _answer_json(answer: Answer) -> dict:
    c, t = answer.completion, answer.completion.timing
    return {
        "model": c.model,
        "text": redact(c.text),
        "finish_reason": c.finish_reason,
        "stopped": answer.stopped,
        "error": redact(c.error) if c.error else None,
        "error_kind": c.error_kind,
        "input_tokens": c.input_tokens,
        "output_tokens": t.output_tokens if t else 0,
        "timings": {"ttft_s": t.ttft, "e2e_s": t.e2e, "itl_s": t.itl, "tokens_per_s": t.tokens_per_s} if t else None,
        "sampling": _sampling_json(answer.sampling),
    }


def _sampling_json(sampling: Sampling) -> dict:
    data = asdict(sampling)
    data["system_prompt"] = redact(data["system_prompt"])
    return data


def to_json(session: ChatSession) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "id": session.id,
        "created": session.created,
        "url": session.url,
        "models": {pane.id: pane.model for pane in session.panes.values()},
        "shared_sampling": _sampling_json(session.shared),
        "overrides": {p.id: _sampling_json(p.override) for p in session.panes.values() if p.override is not None},
        "exchanges": [
            {
                "at": ex.at,
                "prompt": redact(ex.prompt),
                "mark": ex.mark,
                "answers": {pane: _answer_json(answer) for pane, answer in ex.answers.items()},
            }
            for ex in session.exchanges
        ],
    }


def _sampling_from(data: dict | None) -> Sampling:
    data = data or {}
    return Sampling(**{k: data.get(k) for k in ("temperature", "top_p", "max_tokens")}, system_prompt=data.get("system_prompt") or "")


def _answer_from(data: dict) -> Answer:
    timings = data.get("timings")
    timing = None
    if timings:
        # Reconstructed on a zero origin: the durations are what a transcript keeps.
        e2e = timings.get("e2e_s") or 0.0
        ttft = timings.get("ttft_s")
        timing = RequestTiming(0.0, ttft, e2e, int(data.get("output_tokens") or 0), error=data.get("error"))
    completion = Completion(
        model=data.get("model", ""),
        text=data.get("text", ""),
        finish_reason=data.get("finish_reason"),
        input_tokens=data.get("input_tokens"),
        timing=timing,
        error=data.get("error"),
        error_kind=data.get("error_kind"),
    )
    return Answer(completion, _sampling_from(data.get("sampling")), bool(data.get("stopped")))


def from_json(data: dict) -> ChatSession:
    if data.get("format") != FORMAT:
        raise TranscriptError("not a triton-console transcript")
    models = data.get("models") or {}
    overrides = data.get("overrides") or {}
    panes = {pid: Pane(pid, models.get(pid, ""), _sampling_from(overrides[pid]) if pid in overrides else None) for pid in ("A", "B")}
    exchanges = []
    for ex in data.get("exchanges", []):
        mark = ex.get("mark")
        exchanges.append(
            Exchange(
                prompt=ex.get("prompt", ""),
                answers={pid: _answer_from(a) for pid, a in (ex.get("answers") or {}).items()},
                mark=mark if mark in MARKS else None,
                at=ex.get("at", ""),
            )
        )
    return ChatSession(
        url=data.get("url", ""),
        panes=panes,
        shared=_sampling_from(data.get("shared_sampling")),
        exchanges=exchanges,
        id=data.get("id") or "reopened",
        created=data.get("created", ""),
    )


def to_markdown(session: ChatSession) -> str:
    a, b = session.panes["A"].model, session.panes["B"].model
    lines = [
        f"# Chat {session.id}",
        "",
        f"- server: `{session.url}`",
        f"- created: {session.created}",
        f"- pane A: **{a}**, pane B: **{b}**",
        f"- shared sampling: {session.shared.describe()}",
    ]
    if session.shared.system_prompt:
        lines.append(f"- system prompt: {redact(session.shared.system_prompt)}")
    lines.append("")
    for number, ex in enumerate(session.exchanges, 1):
        lines += [f"## {number}. {redact(ex.prompt)}", ""]
        if ex.mark:
            lines += [f"**Mark:** {MARKS[ex.mark]}", ""]
        for pid, answer in ex.answers.items():
            c, t = answer.completion, answer.completion.timing
            lines.append(f"### {pid}: {c.model}")
            lines.append("")
            lines.append(redact(c.text) if c.text else "_(no text)_")
            lines.append("")
            if not c.ok:
                lines += [f"> failed ({c.error_kind}): {redact(c.error or '')}", ""]
            finish = "stopped" if answer.stopped else (c.finish_reason or "—")
            rate = t.tokens_per_s if t else None
            lines.append(
                f"_TTFT {ms(t.ttft if t else None)} ms · e2e {ms(t.e2e if t else None)} ms · "
                f"{t.output_tokens if t else 0} tokens · {'—' if rate is None else f'{rate:.1f}'} tok/s · "
                f"finish: {finish} · sampling: {answer.sampling.describe()}_"
            )
            lines.append("")
    return "\n".join(lines)


def save(session: ChatSession, directory: Path | None = None) -> tuple[Path, Path]:
    """Write (or overwrite) <id>.json and <id>.md; returns both paths."""
    folder = paths.ensure_dir(directory or transcripts_dir())
    json_path = folder / f"{session.id}.json"
    md_path = folder / f"{session.id}.md"
    tmp = json_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(to_json(session), indent=2, ensure_ascii=False), encoding="utf-8")
    tmp.replace(json_path)  # a crash mid-write never leaves a half transcript
    md_path.write_text(to_markdown(session), encoding="utf-8")
    return json_path, md_path


def load(path: Path) -> ChatSession:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TranscriptError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise TranscriptError(f"{path}: not readable JSON: {exc}") from None
    try:
        return from_json(data)
    except TranscriptError as exc:
        raise TranscriptError(f"{path}: {exc}") from None


@dataclass(frozen=True)
class TranscriptInfo:
    path: Path
    id: str
    created: str
    models: str
    title: str
    exchanges: int


def list_transcripts(directory: Path | None = None) -> list[TranscriptInfo]:
    """Saved conversations, newest first; unreadable files are skipped."""
    found = []
    for path in sorted((directory or transcripts_dir()).glob("*.json"), reverse=True):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if data.get("format") != FORMAT:
            continue
        models = data.get("models") or {}
        exchanges = data.get("exchanges") or []
        title = exchanges[0].get("prompt", "")[:60] if exchanges else "(empty)"
        found.append(TranscriptInfo(path, data.get("id", path.stem), data.get("created", ""), " | ".join(models.get(p, "?") for p in ("A", "B")), title, len(exchanges)))
    return found
