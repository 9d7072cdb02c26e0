"""A non-streaming Messages API response -> the same neutral events a stream gives, so
``spec.collect`` is the one accumulation path (https://docs.anthropic.com/en/api/messages,
"Response")."""

from __future__ import annotations

from typing import Any

import orjson

from switchboard.spec import (
    ErrorEvent,
    Finish,
    ReasoningDelta,
    ResponseMetadata,
    StreamEvent,
    TextDelta,
    ToolCall,
)
from switchboard.upstream import error_from_event

from .convert_usage import convert_usage
from .map_finish import map_finish

KIND = "anthropic"


def convert_response(
    data: dict[str, Any], *, provider: str = KIND, request_id: str | None = None,
    answer_tool: str | None = None, secrets: tuple[str, ...] = (),
) -> list[StreamEvent]:
    if data.get("type") == "error":
        return [ErrorEvent(error_from_event(provider, data, request_id=request_id,
                                            secrets=secrets))]
    extra = {"stop_sequence": data["stop_sequence"]} if data.get("stop_sequence") else {}
    events: list[StreamEvent] = [ResponseMetadata(
        response_id=data.get("id"), model=data.get("model"), request_id=request_id,
        extra=extra,
    )]
    tools = 0
    answered = False
    for index, block in enumerate(data.get("content") or []):
        kind = block.get("type")
        if kind == "text" and block.get("text"):
            events.append(TextDelta(block["text"]))
        elif kind == "thinking":
            meta = {KIND: {"signature": block["signature"]}} if block.get("signature") else None
            events.append(ReasoningDelta(block.get("thinking", ""), str(index), meta))
        elif kind == "redacted_thinking":
            redacted = {KIND: {"redacted_data": block.get("data")}}
            events.append(ReasoningDelta("", str(index), redacted))
        elif kind == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            if answer_tool is not None and block.get("name") == answer_tool:
                answered = True
                events.append(TextDelta(arguments))
            else:
                events.append(ToolCall(str(block.get("id")), str(block.get("name")),
                                       arguments, tools))
                tools += 1
    reason = map_finish(data.get("stop_reason"), answer_tool=answered and not tools)
    events.append(Finish(reason, convert_usage(data.get("usage") or {})))
    return events
