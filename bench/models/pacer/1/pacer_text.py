"""The pacer's fixed text (Markdown), split into whitespace-delimited tokens."""

import re

TEXT = (
    "## Pacer\n\n"
    "The pacer streams **fixed text** at a fixed rate, so every timing is known in advance.\n\n"
    "- the first token leaves after `ttft_ms`\n"
    "- then one token every `1/rate` seconds\n"
    "- nothing here is random\n\n"
)
WORDS = re.findall(r"\S+\s*", TEXT)


def token(i):
    return WORDS[i % len(WORDS)]


def text(tokens):
    """What the pacer sends for ``tokens`` output tokens."""
    return "".join(token(i) for i in range(tokens))
