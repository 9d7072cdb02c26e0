"""A non-streaming ``chat.completion`` body -> the same neutral events as a stream.

The response's ``choices[0].message`` is fed to ``StreamConverter`` as if it were one big
delta, so text, reasoning chunks, tool calls, usage and finish reasons are read by one
piece of code in both modes; ``spec.collect`` then folds the events.
"""

from __future__ import annotations

from typing import Any

from switchboard.providers.mistral.convert_stream import StreamConverter
from switchboard.spec import CallWarning, ErrorEvent, StreamBrokenError, StreamEvent, StreamStart

KIND = "mistral"


def response_events(
    data: Any, warnings: list[CallWarning], request_id: str | None = None,
    secrets: tuple[str, ...] = (),
) -> list[StreamEvent]:
    if not isinstance(data, dict):
        raise StreamBrokenError(f"{KIND}: the response is not a JSON object", provider=KIND,
                                request_id=request_id, secrets=secrets)
    converter = StreamConverter(request_id=request_id, secrets=secrets)
    events: list[StreamEvent] = [StreamStart(warnings)]
    events.extend(converter.feed(data))
    if isinstance(events[-1], ErrorEvent):
        return events
    events.extend(converter.done())
    return events
