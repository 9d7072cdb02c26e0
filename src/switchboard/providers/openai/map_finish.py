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


_KNOWN: dict[str, FinishReason] = {raw: FinishReason(unified, raw)
                                   for raw, unified in _MAP.items()}
"""The reasons a vendor sends, built once: ``FinishReason`` is frozen, so one object per
value serves every call (a frozen dataclass's ``__init__`` per answer saved)."""


def map_finish(raw: str | None) -> FinishReason:
    known = _KNOWN.get(raw) if raw is not None else None
    return known if known is not None else FinishReason(_MAP.get(raw or "", "other"), raw)
