"""A non-streaming Chat Completions response -> the same neutral events a stream gives,
so both modes are folded by one ``collect``.

https://platform.openai.com/docs/api-reference/chat/object
Refusals are text, marked in the metadata, as in ``convert_stream``.
"""

from __future__ import annotations

from typing import Any

from switchboard.providers.openai.convert_stream import as_dict, logprobs_of, metadata_of
from switchboard.providers.openai.convert_usage import convert_usage
from switchboard.providers.openai.map_finish import map_finish
from switchboard.providers.openai.quirks import ReasoningField
from switchboard.spec.errors import StreamBrokenError
from switchboard.spec.events import (
    Finish,
    ReasoningDelta,
    ResponseMetadata,
    StreamEvent,
    TextDelta,
    ToolCall,
)
from switchboard.spec.usage import Usage
from switchboard.upstream.errors import error_from_event


def convert_response(
    provider: str,
    body: Any,
    request_id: str | None,
    reasoning_field: ReasoningField | None,
    secrets: tuple[str, ...] = (),
) -> list[StreamEvent]:
    """Events from ``metadata`` to ``Finish``; raises a ``ProviderError`` for an error body
    (some compatible servers answer 200 with ``{"error": ...}``)."""
    if not isinstance(body, dict):
        raise StreamBrokenError(f"{provider}: response is not a JSON object",
                                provider=provider, request_id=request_id, secrets=secrets)
    if body.get("error"):
        raise error_from_event(provider, body, request_id=request_id, secrets=secrets)
    events: list[StreamEvent] = [metadata_of(body, request_id)]
    choices = body.get("choices") or []
    choice = as_dict(choices[0]) if choices else {}
    message = as_dict(choice.get("message"))
    if reasoning_field is not None:
        reasoning = message.get(reasoning_field)
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(text=reasoning))
    content = message.get("content")
    if isinstance(content, str) and content:
        events.append(TextDelta(text=content, logprobs=logprobs_of(choice)))
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        events.append(ResponseMetadata(extra={"refusal": True}))
        events.append(TextDelta(text=refusal))
    for index, tc in enumerate(message.get("tool_calls") or ()):
        fn = tc.get("function") if isinstance(tc, dict) else None
        if isinstance(fn, dict):
            events.append(ToolCall(id=tc.get("id") or f"call_{index}", name=fn.get("name", ""),
                                   arguments=fn.get("arguments") or "", index=index))
    usage = convert_usage(body.get("usage")) or Usage()
    events.append(Finish(map_finish(choice.get("finish_reason")), usage))
    return events
