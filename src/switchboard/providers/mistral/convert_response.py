"""A non-streaming ``chat.completion`` body -> the same neutral events as a stream.

The response's ``choices[0].message`` is fed to ``StreamConverter`` as if it were one big
delta, so text, reasoning chunks, tool calls, usage and finish reasons are read by one
piece of code in both modes; ``spec.collect`` then folds the events.
"""

from __future__ import annotations

from typing import Any

from switchboard.providers.mistral.convert_stream import StreamConverter
from switchboard.spec import ErrorEvent, StreamBrokenError, StreamEvent

KIND = "mistral"


def response_events(
    data: Any, request_id: str | None = None, secrets: tuple[str, ...] = (),
    provider: str = KIND,
) -> list[StreamEvent]:
    """Events from metadata to ``Finish`` (``upstream.driver.generate_call`` puts the
    ``StreamStart`` first)."""
    if not isinstance(data, dict):
        raise StreamBrokenError(f"{provider}: the response is not a JSON object",
                                provider=provider, request_id=request_id, secrets=secrets)
    converter = StreamConverter(request_id=request_id, secrets=secrets, provider=provider)
    events = converter.feed(data)
    if events and isinstance(events[-1], ErrorEvent):
        return events
    events.extend(converter.done())
    return events
