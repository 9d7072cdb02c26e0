"""Anthropic ``stop_reason`` -> the unified finish reason (the raw value is kept).

https://docs.anthropic.com/en/api/handling-stop-reasons
"""

from __future__ import annotations

from switchboard.spec import FinishReason, UnifiedFinish

_UNIFIED: dict[str, UnifiedFinish] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    # The server paused a long turn (server tools); the caller sends it back to continue.
    "pause_turn": "other",
}


def map_finish(stop_reason: str | None, *, answer_tool: bool = False) -> FinishReason:
    """``answer_tool``: the only tool called was the JSON answer tool (see
    ``response_format``), whose call is the answer, so ``tool_use`` means ``stop``."""
    if stop_reason == "tool_use" and answer_tool:
        return FinishReason("stop", stop_reason)
    return FinishReason(_UNIFIED.get(stop_reason or "", "other"), stop_reason)
