"""A deterministic token estimate: words and punctuation marks.

Bedrock's tokenizers are not public. This approximates them (real counts are usually a bit
higher for long or rare words) and is stable, so limits and usage numbers are reproducible.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count(text: str) -> int:
    return sum(1 for _ in _TOKEN.finditer(text))


def truncate(text: str, max_tokens: int, keep_end: bool) -> str:
    """Keep the first (or, with keep_end, the last) max_tokens tokens of text."""
    spans = [m.span() for m in _TOKEN.finditer(text)]
    if len(spans) <= max_tokens:
        return text
    if max_tokens <= 0:
        return ""
    if keep_end:
        return text[spans[-max_tokens][0] :]
    return text[: spans[max_tokens - 1][1]]
