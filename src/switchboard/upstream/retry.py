"""The one retry policy, applied around a whole stream — never inside an adapter.

Policy (as the official OpenAI and Anthropic SDKs do it): retry a ``ProviderError`` whose
``retryable`` flag is set (408/409/429/5xx/529, timeouts, connection failures), at most
``max_retries`` times, waiting what the vendor asked (``Retry-After``, capped) or an
exponential backoff with jitter. Once the first event has been handed to the caller,
nothing is retried: a failure after that becomes an in-band ``ErrorEvent`` and the
partial answer already forwarded stays the caller's.

The wrapper also guarantees the stream's shape: it always ends with exactly one
``Finish`` or ``ErrorEvent``, even if an adapter just stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from switchboard.spec.errors import ProviderError, StreamBrokenError, SwitchboardError
from switchboard.spec.events import ErrorEvent, Finish, ResponseMetadata, StreamEvent, StreamStart
from switchboard.upstream.errors import error_from_exception


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    retry_after_cap: float = 60.0
    budget: float | None = None
    """Seconds of waiting between attempts this call may spend in all (None: no limit
    beyond ``max_retries``). Set when another model can answer instead (the fallback
    router, decision 0064): a retry whose wait would overrun it — a ``Retry-After: 20``
    say — is not made, and the error goes to the caller at once, who fails over."""

    def delay(self, attempt: int, error: ProviderError) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if error.retry_after is not None:
            return min(float(error.retry_after), self.retry_after_cap)
        base: float = min(self.initial_delay * (2.0 ** (attempt - 1)), self.max_delay)
        return base * (1.0 - self.jitter * random.random())

    def next_wait(self, attempt: int, error: ProviderError, waited: float) -> float | None:
        """The wait before retry number ``attempt + 1`` after ``error``, or None when
        there is no such retry (not retryable, retries or budget spent)."""
        if not error.retryable or attempt >= self.max_retries:
            return None
        wait = self.delay(attempt + 1, error)
        if self.budget is not None and waited + wait > self.budget:
            return None
        return wait


Sleep = Callable[[float], Awaitable[None]]
T = TypeVar("T")

HOLD = 0.25
"""Seconds a stream's start is held back waiting for its first content (see
``retrying_stream``)."""


async def retrying_call(call: Callable[[], Awaitable[T]], policy: RetryPolicy, *,
                        sleep: Sleep = asyncio.sleep) -> T:
    """``call()`` (one request/response vendor call that is not a stream: an embedding
    batch) under the same policy: a ``ProviderError`` it raises is retried while
    ``policy.next_wait`` allows, then raised."""
    attempt = 0
    waited = 0.0
    while True:
        try:
            return await call()
        except ProviderError as exc:
            wait = policy.next_wait(attempt, exc, waited)
            if wait is None:
                raise
            attempt += 1
            waited += wait
            await sleep(wait)


# Tuples, not ``A | B`` unions: a union would be built again on every check.
_PREAMBLE = (StreamStart, ResponseMetadata)
_ENDS = (Finish, ErrorEvent)


def _as_provider_error(provider: str, exc: Exception) -> SwitchboardError:
    if isinstance(exc, SwitchboardError):
        return exc
    return error_from_exception(provider, exc)


async def retrying_stream(
    open_stream: Callable[[], AsyncGenerator[StreamEvent, None]],
    policy: RetryPolicy,
    *,
    provider: str = "provider",
    sleep: Sleep = asyncio.sleep,
    on_retry: Callable[[int, ProviderError, float], None] | None = None,
    hold: float = HOLD,
) -> AsyncIterator[StreamEvent]:
    """Run ``open_stream()`` with retries before the first event; see module doc.

    ``StreamStart`` and ``ResponseMetadata`` are held back for up to ``hold`` seconds,
    until the first event that carries content or ends the stream. While they are held
    nothing has reached the caller, so a retryable failure there — raised, or an in-band
    ``ErrorEvent`` such as a vendor's "overloaded" chunk right after the headers, which
    arrives within milliseconds — is still retried. The hold is short so that a model
    that thinks for a minute before its first token does not keep the caller (and its
    HTTP headers) waiting that long; after it, the preamble is released and failures
    travel in-band as usual. Content arriving within the hold is released with it, so
    the time to first token is unchanged.

    A non-streaming answer, whose events all come at once, goes through
    ``retrying_events`` instead: the same policy and stream shape, on a list.
    """
    attempt = 0
    waited = 0.0
    loop = asyncio.get_running_loop()
    while True:
        events = open_stream()
        held: list[StreamEvent] = []
        failure: ProviderError | None = None
        wait: float | None = None
        released = False
        pending: asyncio.Future[StreamEvent] | None = None
        try:
            first = await anext(events)
            deadline = loop.time() + hold
            while isinstance(first, _PREAMBLE):
                held.append(first)
                pending = asyncio.ensure_future(anext(events))
                if not released:
                    done, _ = await asyncio.wait({pending}, timeout=deadline - loop.time())
                    if not done:  # the hold is over: let the caller see the start
                        for event in held:
                            yield event
                        held, released = [], True
                first = await pending
        except StopAsyncIteration:
            await events.aclose()
            for event in held:
                yield event
            yield ErrorEvent(StreamBrokenError(f"{provider}: empty response stream",
                                               provider=provider))
            return
        except ProviderError as exc:
            await events.aclose()
            wait = None if released else policy.next_wait(attempt, exc, waited)
            if wait is None:
                if not held and not released:
                    raise
                # The adapter had started (its warnings are held): report in-band.
                for event in held:
                    yield event
                yield ErrorEvent(exc)
                return
            failure = exc
        except BaseException:
            # The caller went away (or we were cancelled) while a read may be in flight:
            # stop that read before closing the adapter's generator under it.
            if pending is not None and not pending.done():
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            await events.aclose()
            raise
        if (
            failure is None
            and not released
            and isinstance(first, ErrorEvent)
            and isinstance(first.error, ProviderError)
        ):
            wait = policy.next_wait(attempt, first.error, waited)
            if wait is not None:
                await events.aclose()
                failure = first.error
        if failure is not None and wait is not None:
            attempt += 1
            waited += wait
            if on_retry is not None:
                on_retry(attempt, failure, wait)
            await sleep(wait)
            continue
        break

    for event in held:
        yield event
    ended = isinstance(first, _ENDS)
    try:
        yield first
        if ended:
            return
        try:
            async for event in events:
                yield event
                if isinstance(event, _ENDS):
                    ended = True
                    return
        except (SwitchboardError, OSError, ValueError, KeyError, TypeError) as exc:
            # A vendor stream that breaks midway (or sends something unparseable).
            ended = True
            yield ErrorEvent(_as_provider_error(provider, exc))
            return
        except Exception as exc:
            if type(exc).__module__.startswith(("httpx", "httpcore", "anyio")):
                ended = True
                yield ErrorEvent(_as_provider_error(provider, exc))
                return
            raise
        if not ended:
            ended = True
            yield ErrorEvent(StreamBrokenError(
                f"{provider}: the stream ended before the vendor said it was finished",
                provider=provider,
            ))
    finally:
        await events.aclose()


async def retrying_events(
    answer: Callable[[], Awaitable[list[StreamEvent]]],
    policy: RetryPolicy,
    *,
    provider: str = "provider",
    sleep: Sleep = asyncio.sleep,
    on_retry: Callable[[int, ProviderError, float], None] | None = None,
) -> list[StreamEvent]:
    """``retrying_stream`` for a source whose events all come at once: ``answer()`` is
    one non-streaming vendor call, its answer as the events of a stream. The same policy
    and the same outcome as that source through ``retrying_stream``: a ``ProviderError``
    it raises, or a retryable ``ErrorEvent`` as its first event after the preamble
    (``StreamStart``, ``ResponseMetadata``), is retried while ``policy.next_wait``
    allows; the events returned end with exactly one ``Finish`` or ``ErrorEvent``
    (nothing after the first, "empty response stream" when only a preamble came, "ended
    before the vendor said it was finished" when no end came).

    Why a list and not ``retrying_stream``: nothing of a non-streaming answer reaches
    the caller before all of it came, so there is no hold to time and no event to pass
    on one by one. With the adapter's fold and replay that this replaced, a generator
    resumed per event twice (this layer and the replay under it) measured ~26 Python
    and ~16 C function calls per JSON request (decision 0210)."""
    attempt = 0
    waited = 0.0
    while True:
        try:
            events = await answer()
        except ProviderError as exc:
            wait = policy.next_wait(attempt, exc, waited)
            if wait is None:
                raise
            failure = exc
        else:
            start, count = 0, len(events)
            while start < count and isinstance(events[start], _PREAMBLE):
                start += 1
            if start == count:
                return [*events, ErrorEvent(StreamBrokenError(
                    f"{provider}: empty response stream", provider=provider))]
            first = events[start]
            if not (isinstance(first, ErrorEvent) and isinstance(first.error, ProviderError)):
                return _ended(events, start, provider)
            wait = policy.next_wait(attempt, first.error, waited)
            if wait is None:
                return _ended(events, start, provider)
            failure = first.error
        attempt += 1
        waited += wait
        if on_retry is not None:
            on_retry(attempt, failure, wait)
        await sleep(wait)


def _ended(events: list[StreamEvent], start: int, provider: str) -> list[StreamEvent]:
    """``events`` up to the first ``Finish`` or ``ErrorEvent`` at or after ``start``, or
    with the broken-stream error when none comes (``retrying_stream``'s shape)."""
    for index in range(start, len(events)):
        if isinstance(events[index], _ENDS):
            return events if index == len(events) - 1 else events[:index + 1]
    return [*events, ErrorEvent(StreamBrokenError(
        f"{provider}: the stream ended before the vendor said it was finished",
        provider=provider))]
