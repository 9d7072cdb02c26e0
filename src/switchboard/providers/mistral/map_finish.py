"""Mistral's ``finish_reason`` -> the unified finish reason (the raw value is kept).

Documented values (openapi ``ChatCompletionChoice.finish_reason``): ``stop``, ``length``,
``model_length`` (the context window, not ``max_tokens``, ran out), ``error`` and
``tool_calls``. https://docs.mistral.ai/api/#tag/chat
"""

from __future__ import annotations

from switchboard.spec import FinishReason, UnifiedFinish

_MAP: dict[str, UnifiedFinish] = {
    "stop": "stop",
    "length": "length",
    "model_length": "length",
    "tool_calls": "tool_calls",
    "error": "error",
    "content_filter": "content_filter",
}


def map_finish(raw: str | None) -> FinishReason:
    if raw is None:
        return FinishReason("other", None)
    return FinishReason(_MAP.get(raw, "other"), raw)
