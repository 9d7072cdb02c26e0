"""The one streaming driver of the HTTP adapters: open -> start -> SSE -> errors.

Every HTTP adapter used to carry its own copy of this loop, and the copies drifted (some
named the provider *kind* in their errors, others the configured *instance*). Now an
adapter only builds an ``HttpCall`` (URL, headers, body, key) and a converter; this
module does the I/O, the same way for all of them:

- the response is opened (status checked) *before* anything is yielded, so a refused
  call raises a ``ProviderError`` that ``retry.retrying_stream`` can still retry;
- ``StreamStart`` comes first, then whatever the converter makes of each SSE event;
- the stream stops at the first batch ending in ``Finish`` or ``ErrorEvent`` (the
  converter decides what ends a stream: ``[DONE]``, ``message_stop``, an in-band error);
- a ``ProviderError`` while reading (a cut connection, a read timeout) becomes an
  in-band ``ErrorEvent`` carrying the usage seen so far;
- a body that ends before the converter said "finished" is the converter's call
  (``end()``): a ``Finish`` for vendors without an end marker, else a broken stream;
- the response is closed in every case (``client.open_stream``).

The call is prepared (key looked up, body built) on the stream's first read, as when
each adapter wrote its own generator, and the adapter returns the driver's generator as
is: one generator layer per event, not two (measured: the extra layer cost ~5% CPU per
stream of 20 chunks).

Errors name the *instance* (``HttpCall.instance``, e.g. ``work-gemini``), the name a
member sees in their provider list, and carry the call's key as a secret, so the one
redaction place (``spec.redaction``, applied by every ``ProviderError``) removes it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from switchboard.spec.collect import ChatResult, collect
from switchboard.spec.errors import ProviderError
from switchboard.spec.events import CallWarning, ErrorEvent, Finish, StreamEvent, StreamStart
from switchboard.spec.usage import Usage
from switchboard.upstream.client import iter_bytes, open_stream, request_json
from switchboard.upstream.sse import SSEEvent, aiter_sse


class StreamConverter(Protocol):
    """What an adapter supplies to turn one vendor's SSE events into neutral events.
    It is pure (no I/O) and built per call from the response headers (its request id)."""

    @property
    def usage(self) -> Usage | None:
        """Usage reported so far: attached to an error that cuts the stream."""
        ...

    def sse(self, event: SSEEvent) -> list[StreamEvent]:
        """Events for one SSE event; a batch ending in ``Finish`` / ``ErrorEvent`` ends
        the stream."""
        ...

    def end(self) -> list[StreamEvent]:
        """Events when the body ended before a batch ended the stream."""
        ...


# Built once the response headers are known (they hold the vendor's request id).
StartStream = Callable[[httpx.Headers], StreamConverter]
# A non-streaming body -> the same events a stream gives (from metadata to Finish), so
# ``spec.collect`` is the one accumulation path; raises or ends in ``ErrorEvent`` on error.
ConvertResponse = Callable[[httpx.Headers, Any], list[StreamEvent]]


# A tuple, not ``Finish | ErrorEvent``: that union would be built again on every event.
_ENDS = (Finish, ErrorEvent)


def _unchanged(error: ProviderError) -> ProviderError:
    return error


@dataclass(frozen=True, slots=True)
class HttpCall:
    """One POST to a vendor. ``instance`` names the provider row in every error;
    ``key`` is redacted from every error; ``warnings`` go in the ``StreamStart``;
    ``map_error`` refines a vendor's status error (Gemini answers a bad key with 400)
    before the retry layer sees it."""

    instance: str
    url: str
    headers: Mapping[str, str]
    body: Any
    key: str | None
    warnings: list[CallWarning] = field(default_factory=list)
    params: Mapping[str, str] | None = None
    read_timeout: float | None = None
    map_error: Callable[[ProviderError], ProviderError] = _unchanged

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.key,) if self.key else ()


async def stream_call(
    prepare: Callable[[], tuple[HttpCall, StartStream]],
) -> AsyncGenerator[StreamEvent, None]:
    """Run the call ``prepare()`` returns as a stream, converting with the converter its
    ``StartStream`` builds; see the module docstring for the contract."""
    call, start = prepare()
    opened = False
    try:
        async with open_stream(
            call.instance, "POST", call.url, headers=call.headers, body=call.body,
            params=call.params, secrets=call.secrets, read_timeout=call.read_timeout,
        ) as response:
            opened = True
            converter = start(response.headers)
            yield StreamStart(call.warnings)
            try:
                async for sse in aiter_sse(iter_bytes(call.instance, response)):
                    events = converter.sse(sse)
                    for event in events:
                        yield event
                    if events and isinstance(events[-1], _ENDS):
                        return
            except ProviderError as exc:
                yield ErrorEvent(exc, usage=converter.usage)
                return
            for event in converter.end():
                yield event
    except ProviderError as exc:
        if opened:
            raise
        raise call.map_error(exc) from None  # a status error: nothing was yielded


async def post_call(call: HttpCall) -> tuple[Any, httpx.Headers]:
    """Run ``call`` without streaming: the decoded JSON body and the response headers,
    or the ``ProviderError`` (refined by ``call.map_error``). The one non-streaming POST
    of the HTTP adapters: chat (``generate_call``) and embeddings alike."""
    try:
        return await request_json(
            call.instance, "POST", call.url, headers=call.headers, body=call.body,
            params=call.params, secrets=call.secrets, read_timeout=call.read_timeout)
    except ProviderError as exc:
        raise call.map_error(exc) from None


async def answer_call(call: HttpCall, convert: ConvertResponse) -> list[StreamEvent]:
    """Run ``call`` without streaming: the converted body as the events of a stream
    (``ChatModel.generate_events``)."""
    data, headers = await post_call(call)
    return [StreamStart(call.warnings), *convert(headers, data)]


async def generate_call(call: HttpCall, convert: ConvertResponse) -> ChatResult:
    """Run ``call`` without streaming and fold the converted body with ``collect``."""
    return collect(await answer_call(call, convert))
