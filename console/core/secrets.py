"""Secrets (HF token, Grafana password, AWS keys): read from the environment, never shown.

Anything that writes text an operator or a file may see (logs, screens, transcripts, test
output) passes it through :func:`redact`, which masks every known secret value, and the
``SecretFilter`` does the same for the logging module.
"""

from __future__ import annotations

import logging
import os
import re

HF_TOKEN_VARS = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HUGGING_FACE_TOKEN", "TF_VAR_huggingface_token")
SECRET_VARS = HF_TOKEN_VARS + (
    "GRAFANA_ADMIN_PASSWORD",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
)
MASK = "********"
PLACEHOLDERS = {"", "hf_xxx", "<your huggingface token>", "changeme", "your-token", "xxx", "none", "null"}
# Shapes of secrets worth masking even when we were not told their value.
_PATTERNS = [
    re.compile(r"hf_[A-Za-z0-9]{20,}"),
    re.compile(r"k8s-aws-v1\.[A-Za-z0-9_\-]{20,}"),
    re.compile(r"(?i)(aws_secret_access_key\s*[=:]\s*)\S+"),
]


def hf_token(environ: dict[str, str] | None = None) -> str | None:
    """The Hugging Face token from the environment, or None when unset or a placeholder."""
    env = os.environ if environ is None else environ
    for name in HF_TOKEN_VARS:
        value = env.get(name, "").strip()
        if value:
            return None if is_placeholder(value) else value
    return None


def is_placeholder(value: str) -> bool:
    text = value.strip().lower()
    return text in PLACEHOLDERS or text.startswith("<") or set(text) <= {"x", "*"}


def known_secret_values(environ: dict[str, str] | None = None) -> list[str]:
    env = os.environ if environ is None else environ
    return [env[name] for name in SECRET_VARS if len(env.get(name, "")) >= 4]


def redact(text: str, extra: list[str] | tuple[str, ...] = ()) -> str:
    """Mask every secret value we know of, plus token-shaped strings."""
    for value in sorted({*known_secret_values(), *(e for e in extra if e and len(e) >= 4)}, key=len, reverse=True):
        text = text.replace(value, MASK)
    for pattern in _PATTERNS:
        if pattern.groups:
            text = pattern.sub(lambda m: m.group(1) + MASK, text)
        else:
            text = pattern.sub(MASK, text)
    return text


class SecretFilter(logging.Filter):
    """A logging filter that redacts every record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        return True
