"""Mistral's ``usage`` block -> ``Usage``.

``prompt_tokens`` already includes cached tokens, which matches our convention. Cached
prompt tokens are reported as ``prompt_tokens_details.cached_tokens`` (prompt caching,
https://docs.mistral.ai/studio-api/conversations/advanced/prompt-caching); some responses
use the spellings ``prompt_token_details`` or a top-level ``num_cached_tokens``, so all
three are read. Mistral reports no reasoning-token count apart (Magistral's thinking is
inside ``completion_tokens``).
"""

from __future__ import annotations

from typing import Any

from switchboard.spec import Usage


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _cached(block: dict[str, Any]) -> int | None:
    top = _int(block.get("num_cached_tokens"))
    if top is not None:
        return top
    for key in ("prompt_tokens_details", "prompt_token_details"):
        details = block.get(key)
        if isinstance(details, dict):
            value = _int(details.get("cached_tokens"))
            if value is not None:
                return value
    return None


def convert_usage(block: Any) -> Usage | None:
    """``None`` when there is no usage block (most stream chunks)."""
    if not isinstance(block, dict):
        return None
    return Usage(
        input_tokens=_int(block.get("prompt_tokens")),
        output_tokens=_int(block.get("completion_tokens")),
        cached_input_tokens=_cached(block),
        raw=dict(block),
    )
