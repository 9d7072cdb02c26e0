"""Anthropic usage -> neutral ``Usage``.

Anthropic reports the prompt in three disjoint counts: ``input_tokens`` (after the last
cache breakpoint), ``cache_creation_input_tokens`` and ``cache_read_input_tokens``
(https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance).
Our convention (``spec.usage``) wants the total prompt, so they are added up.
``output_tokens`` already includes thinking; Anthropic does not count thinking apart, so
``reasoning_tokens`` stays unknown. In a stream the counts arrive in pieces
(``message_start``, then cumulative ``message_delta``); the caller merges the raw blocks
and converts the result once.
"""

from __future__ import annotations

from typing import Any

from switchboard.spec import Usage

_COUNTS = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def convert_usage(raw: dict[str, Any]) -> Usage:
    counts = [raw.get(name) for name in _COUNTS]
    known = [c for c in counts if isinstance(c, int)]
    written, read = (c if isinstance(c, int) else None for c in counts[1:])
    output = raw.get("output_tokens")
    return Usage(
        input_tokens=sum(known) if known else None,
        output_tokens=output if isinstance(output, int) else None,
        cached_input_tokens=read,
        cache_write_tokens=written,
        raw=dict(raw),
    )


def merge_raw(into: dict[str, Any], update: Any) -> None:
    """Fold a later usage block into the running one (null values do not erase)."""
    if isinstance(update, dict):
        into.update({k: v for k, v in update.items() if v is not None})
