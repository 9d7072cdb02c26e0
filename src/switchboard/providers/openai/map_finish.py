"""Chat Completions ``finish_reason`` -> ``FinishReason`` (the raw value is kept).

https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices
``function_call`` is the deprecated name for ``tool_calls``.
"""

from __future__ import annotations

from switchboard.spec.events import FinishReason, UnifiedFinish

_MAP: dict[str, UnifiedFinish] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


def map_finish(raw: str | None) -> FinishReason:
    return FinishReason(_MAP.get(raw or "", "other"), raw)
