"""A non-streaming Chat Completions response -> the same neutral events a stream gives,
so both modes are folded by one ``collect``.

https://platform.openai.com/docs/api-reference/chat/object
Refusals are text, marked in the metadata, as in ``convert_stream``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from switchboard.providers.openai.convert_stream import (
    as_dict,
    logprobs_of,
    metadata_of,
    tagged,
)
from switchboard.providers.openai.convert_usage import convert_usage
from switchboard.providers.openai.map_finish import map_finish
from switchboard.providers.openai.quirks import ReasoningField
from switchboard.spec.choices import ZERO_USAGE
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
    n: int = 1,
) -> list[StreamEvent]:
    """Events from ``metadata`` to ``Finish``; raises a ``ProviderError`` for an error body
    (some compatible servers answer 200 with ``{"error": ...}``)."""
    if not isinstance(body, dict):
        raise StreamBrokenError(f"{provider}: response is not a JSON object",
                                provider=provider, request_id=request_id, secrets=secrets)
    if body.get("error"):
        raise error_from_event(provider, body, request_id=request_id, secrets=secrets)
    metadata = metadata_of(body, request_id)
    choices = [as_dict(c) for c in body.get("choices") or ()]
    usage = convert_usage(body.get("usage")) or Usage()
    if n == 1:
        choice = choices[0] if choices else {}
        return [metadata, *_choice_events(choice, reasoning_field),
                Finish(map_finish(choice.get("finish_reason")), usage)]
    by_index = {c.get("index", 0): c for c in choices}
    # ``n`` forwarded (decision 0084): choice i >= 1 tagged, its usage explicit zeros;
    # choice 0 last, untagged, with the vendor's usage (as ``StreamConverter`` does).
    events: list[StreamEvent] = []
    for index in range(1, n):
        choice = as_dict(by_index.get(index))
        events.extend(tagged(index, [
            replace(metadata, extra=dict(metadata.extra)),
            *_choice_events(choice, reasoning_field),
            Finish(map_finish(choice.get("finish_reason")), ZERO_USAGE)]))
    first = as_dict(by_index.get(0))
    events.extend([metadata, *_choice_events(first, reasoning_field),
                   Finish(map_finish(first.get("finish_reason")), usage)])
    return events


def _choice_events(choice: dict[str, Any],
                   reasoning_field: ReasoningField | None) -> list[StreamEvent]:
    """One choice's answer, from its reasoning to its tool calls."""
    events: list[StreamEvent] = []
    message = as_dict(choice.get("message"))
    if reasoning_field is not None:
        reasoning = message.get(reasoning_field)
        if isinstance(reasoning, str) and reasoning:
            events.append(ReasoningDelta(text=reasoning))
    content = message.get("content")
    if isinstance(content, str) and content:
        # ``"logprobs": null`` unless they were asked for (``logprobs_of`` of it is None)
        events.append(TextDelta(text=content, logprobs=logprobs_of(choice)
                                if choice.get("logprobs") else None))
    refusal = message.get("refusal")
    if isinstance(refusal, str) and refusal:
        events.append(ResponseMetadata(extra={"refusal": True}))
        events.append(TextDelta(text=refusal))
    for index, tc in enumerate(message.get("tool_calls") or ()):
        fn = tc.get("function") if isinstance(tc, dict) else None
        if isinstance(fn, dict):
            events.append(ToolCall(id=tc.get("id") or f"call_{index}", name=fn.get("name", ""),
                                   arguments=fn.get("arguments") or "", index=index))
    return events
