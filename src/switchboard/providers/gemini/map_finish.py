"""Gemini's ``finishReason`` / ``promptFeedback.blockReason`` -> the unified finish reason.

https://ai.google.dev/api/generate-content#FinishReason
https://ai.google.dev/api/generate-content#BlockReason
"""

from __future__ import annotations

from switchboard.spec import FinishReason, UnifiedFinish

_FILTERED = frozenset({
    "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION",
})


def map_finish(raw: str, *, has_tool_calls: bool) -> FinishReason:
    """``STOP`` with a function call in the answer is a tool-call turn: Gemini has no
    finish reason of its own for that."""
    unified: UnifiedFinish
    if raw == "STOP":
        unified = "tool_calls" if has_tool_calls else "stop"
    elif raw == "MAX_TOKENS":
        unified = "length"
    elif raw in _FILTERED:
        unified = "content_filter"
    elif raw in ("MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL"):
        unified = "error"
    else:  # LANGUAGE, OTHER, FINISH_REASON_UNSPECIFIED, TOO_MANY_TOOL_CALLS, future values
        unified = "other"
    return FinishReason(unified, raw)


def map_block(block_reason: str) -> FinishReason:
    """The prompt itself was blocked (no candidates at all): always a content filter.
    ``raw`` says where it came from, since the vendor's field is not ``finishReason``."""
    return FinishReason("content_filter", f"promptFeedback.blockReason={block_reason}")
