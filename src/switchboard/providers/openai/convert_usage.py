"""A Chat Completions ``usage`` block -> ``Usage``.

OpenAI's ``prompt_tokens`` already includes cached tokens and ``completion_tokens``
already includes reasoning tokens, which is exactly our convention (spec/usage.py).
https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
Missing numbers stay ``None``: a server that reports nothing never gets fake zeros.
"""

from __future__ import annotations

from typing import Any

from switchboard.spec.usage import Usage


def _int(value: Any) -> int | None:
    """An integer count, or None (a bool is not one). The exact type first: every number
    from JSON is exactly ``int``, and this runs ~4 times per call (issue 12)."""
    if type(value) is int:
        return value
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _detail(block: dict[str, Any], section: str, name: str) -> int | None:
    details = block.get(section)
    return _int(details.get(name)) if isinstance(details, dict) else None


def convert_usage(block: Any) -> Usage | None:
    """``None`` when there is no usage block at all."""
    if not isinstance(block, dict):
        return None
    cached = _detail(block, "prompt_tokens_details", "cached_tokens")
    if cached is None:
        # DeepSeek reports cache hits at the top level instead.
        # https://api-docs.deepseek.com/api/create-chat-completion
        cached = _int(block.get("prompt_cache_hit_tokens"))
    return Usage(
        input_tokens=_int(block.get("prompt_tokens")),
        output_tokens=_int(block.get("completion_tokens")),
        cached_input_tokens=cached,
        reasoning_tokens=_detail(block, "completion_tokens_details", "reasoning_tokens"),
        raw=dict(block),
    )
