"""The one retry policy, exercised with real async generators (no mocks of our code)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from switchboard.spec import (
    ErrorEvent,
    Finish,
    FinishReason,
    OverloadedError,
    RateLimitError,
    ResponseMetadata,
    ServerError,
    StreamBrokenError,
    StreamEvent,
    StreamStart,
    TextDelta,
    UpstreamConnectionError,
    collect,
)
from switchboard.upstream.retry import RetryPolicy, retrying_events, retrying_stream


class Script:
    """Each attempt plays the next list: events, or an exception to raise at that point."""

    def __init__(self, *attempts: list[StreamEvent | Exception]) -> None:
        self.attempts = list(attempts)
        self.opened = 0
        self.closed = 0

    def open(self) -> AsyncIterator[StreamEvent]:
        plan = self.attempts[min(self.opened, len(self.attempts) - 1)]
        self.opened += 1
        return self._play(plan)

    async def _play(self, plan: list[StreamEvent | Exception]) -> AsyncIterator[StreamEvent]:
        try:
            for step in plan:
                if isinstance(step, Exception):
                    raise step
                yield step
        finally:
            self.closed += 1


DONE = Finish(FinishReason("stop", "stop"))
waits: list[float] = []


async def no_sleep(seconds: float) -> None:
    waits.append(seconds)


async def run(script: Script, policy: RetryPolicy | None = None) -> list[StreamEvent]:
    waits.clear()
    stream = retrying_stream(script.open, policy or RetryPolicy(max_retries=2), sleep=no_sleep)
    return [e async for e in stream]


async def test_retries_before_first_event_then_succeeds() -> None:
    s = Script([RateLimitError("429", retry_after=1.5)], [ServerError("500")],
               [StreamStart(), TextDelta("ok"), DONE])
    events = await run(s)
    assert collect(events).text == "ok"
    assert s.opened == 3 and s.closed == 3
    assert waits[0] == 1.5  # Retry-After honoured
    assert 0.5 * 2 * 0.75 <= waits[1] <= 1.0  # second backoff step with jitter


async def test_gives_up_after_max_retries() -> None:
    s = Script([OverloadedError("busy")])
    with pytest.raises(OverloadedError):
        await run(s)
    assert s.opened == 3


async def test_non_retryable_is_raised_at_once() -> None:
    s = Script([RateLimitError("quota", retryable=False)])
    with pytest.raises(RateLimitError):
        await run(s)
    assert s.opened == 1 and waits == []


async def test_never_retried_after_first_event() -> None:
    s = Script([StreamStart(), TextDelta("partial"), UpstreamConnectionError("reset")],
               [StreamStart(), TextDelta("again"), DONE])
    events = await run(s)
    assert s.opened == 1
    assert isinstance(events[-1], ErrorEvent)
    assert collect(events).text == "partial"


async def test_in_band_retryable_error_as_first_event_is_retried() -> None:
    s = Script([ErrorEvent(OverloadedError("busy"))], [StreamStart(), TextDelta("x"), DONE])
    events = await run(s)
    assert collect(events).text == "x" and s.opened == 2


async def test_stream_that_just_stops_gets_an_error_event() -> None:
    s = Script([StreamStart(), TextDelta("half")])
    events = await run(s)
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, StreamBrokenError)


async def test_empty_stream_is_an_error() -> None:
    events = await run(Script([]))
    assert len(events) == 1 and isinstance(events[0], ErrorEvent)


async def test_consumer_stopping_early_closes_the_adapter() -> None:
    s = Script([StreamStart(), TextDelta("a"), TextDelta("b"), DONE])
    stream = retrying_stream(s.open, RetryPolicy(), sleep=no_sleep)
    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()  # type: ignore[attr-defined]
    assert s.closed == 1


def test_backoff_is_capped() -> None:
    p = RetryPolicy(initial_delay=1, max_delay=4, jitter=0)
    assert [p.delay(n, ServerError("x")) for n in (1, 2, 3, 4, 5)] == [1, 2, 4, 4, 4]
    assert p.delay(1, ServerError("x", retry_after=500)) == 60


async def test_in_band_error_right_after_the_start_is_retried() -> None:
    """Adapters always yield StreamStart first; an "overloaded" chunk right after it has
    still delivered nothing to the caller, so it is retried."""
    s = Script([StreamStart(), ErrorEvent(OverloadedError("busy", retry_after=2.0))],
               [StreamStart(), TextDelta("fine"), DONE])
    events = await run(s)
    assert s.opened == 2 and waits == [2.0]
    assert [type(e).__name__ for e in events] == ["StreamStart", "TextDelta", "Finish"]


async def test_failure_after_the_start_but_before_content_is_retried() -> None:
    s = Script([StreamStart(), UpstreamConnectionError("reset")],
               [StreamStart(), TextDelta("ok"), DONE])
    events = await run(s)
    assert s.opened == 2 and collect(events).text == "ok"


async def test_start_is_released_with_the_first_content() -> None:
    from switchboard.spec import CallWarning, ResponseMetadata

    warn = CallWarning("unsupported-setting", "no seed", "seed")
    s = Script([StreamStart([warn]), ResponseMetadata(response_id="r"), TextDelta("a"), DONE])
    events = await run(s)
    assert isinstance(events[0], StreamStart) and events[0].warnings == [warn]
    assert isinstance(events[1], ResponseMetadata) and collect(events).text == "a"


async def test_non_retryable_failure_after_the_start_is_reported_in_band() -> None:
    from switchboard.spec import CallWarning

    warn = CallWarning("unsupported-setting", "no seed", "seed")
    s = Script([StreamStart([warn]), RateLimitError("quota", retryable=False)])
    events = await run(s)
    assert s.opened == 1
    assert isinstance(events[0], StreamStart) and events[0].warnings == [warn]
    assert isinstance(events[-1], ErrorEvent) and isinstance(events[-1].error, RateLimitError)


async def test_exhausted_in_band_retries_surface_the_error() -> None:
    s = Script([StreamStart(), ErrorEvent(ServerError("down"))])
    events = await run(s)
    assert s.opened == 3  # 1 try + 2 retries
    assert isinstance(events[-1], ErrorEvent)


async def test_a_slow_first_token_releases_the_start_after_the_hold() -> None:
    """A model that thinks before its first token: the caller sees the start at once
    (after ``hold``), and a failure after that is in-band, not retried."""
    import asyncio

    gate = asyncio.Event()

    async def slow() -> AsyncIterator[StreamEvent]:
        yield StreamStart()
        await gate.wait()
        raise ServerError("died while thinking")

    opened = 0

    def open_stream() -> AsyncIterator[StreamEvent]:
        nonlocal opened
        opened += 1
        return slow()

    stream = retrying_stream(open_stream, RetryPolicy(max_retries=2), sleep=no_sleep,
                             hold=0.01)
    first = await anext(stream)  # released by the hold although no content came
    assert isinstance(first, StreamStart)
    gate.set()
    rest = [e async for e in stream]
    assert opened == 1
    assert isinstance(rest[-1], ErrorEvent) and isinstance(rest[-1].error, ServerError)


async def test_closing_while_a_read_is_pending_closes_the_adapter() -> None:
    import asyncio

    closed = asyncio.Event()

    async def hanging() -> AsyncIterator[StreamEvent]:
        try:
            yield StreamStart()
            await asyncio.Event().wait()
            yield TextDelta("never")
        finally:
            closed.set()

    stream = retrying_stream(hanging, RetryPolicy(), sleep=no_sleep, hold=0.01)
    assert isinstance(await anext(stream), StreamStart)
    await stream.aclose()  # type: ignore[attr-defined]
    assert closed.is_set()


async def test_a_budget_stops_retries_whose_wait_would_overrun_it() -> None:
    # A Retry-After longer than the budget: no retry at all, the caller (the fallback
    # router) gets the error at once.
    s = Script([RateLimitError("429", retry_after=20)], [StreamStart(), TextDelta("ok"), DONE])
    with pytest.raises(RateLimitError):
        await run(s, RetryPolicy(max_retries=2, budget=1.0))
    assert s.opened == 1 and waits == []
    # Backoffs 0.5 then ~1.0: the second would take the total past 1.0 s.
    s = Script([ServerError("500")], [ServerError("500")], [StreamStart(), TextDelta("x"), DONE])
    with pytest.raises(ServerError):
        await run(s, RetryPolicy(max_retries=5, budget=1.0, jitter=0.0))
    assert s.opened == 2 and waits == [0.5]
    # An in-band overload right after the start counts against the budget the same way.
    s = Script([StreamStart(), ErrorEvent(OverloadedError("busy", retry_after=5))],
               [StreamStart(), TextDelta("ok"), DONE])
    events = await run(s, RetryPolicy(max_retries=2, budget=1.0))
    assert isinstance(events[-1], ErrorEvent) and s.opened == 1
    # Without a budget the same script is retried (today's behaviour).
    s = Script([RateLimitError("429", retry_after=20)], [StreamStart(), TextDelta("ok"), DONE])
    assert collect(await run(s)).text == "ok" and waits == [20]


ANSWERS: list[list[list[StreamEvent | Exception]]] = [
    [[StreamStart(), TextDelta("a"), DONE]],
    [[StreamStart(), ErrorEvent(OverloadedError("busy", retry_after=2.0))],
     [StreamStart(), TextDelta("fine"), DONE]],
    [[UpstreamConnectionError("reset")], [StreamStart(), TextDelta("ok"), DONE]],
    [[RateLimitError("429", retry_after=3.0)], [ServerError("500")], [ServerError("500")]],
    [[RateLimitError("quota", retryable=False)]],
    [[StreamStart(), ErrorEvent(ServerError("down"))]],
    [[StreamStart(), ErrorEvent(RateLimitError("quota", retryable=False))]],
    [[StreamStart()]],
    [[]],
    [[StreamStart(), ResponseMetadata(response_id="r"), TextDelta("no end")]],
    [[StreamStart(), TextDelta("a"), DONE, TextDelta("after the end"), DONE]],
    [[StreamStart(), ErrorEvent(ServerError("down")), TextDelta("x"), DONE],
     [StreamStart(), ResponseMetadata(model="m"), TextDelta("b"), DONE]],
    [[StreamStart(), TextDelta("a"), ErrorEvent(ServerError("cut")), DONE]],
]


@pytest.mark.parametrize("plan", ANSWERS)
async def test_an_answer_list_is_retried_and_shaped_as_its_stream_would_be(
        plan: list[list[StreamEvent | Exception]]) -> None:
    """``retrying_events`` (a non-streaming answer, all its events at once: decision 0210)
    gives the events, retries, waits and errors ``retrying_stream`` gives for the same
    answers replayed as streams (each answer raises, or is a list of events)."""

    async def streamed() -> tuple[list[str], list[float], int]:
        waits.clear()
        script = Script(*plan)
        stream = retrying_stream(script.open, RetryPolicy(max_retries=2, jitter=0),
                                 sleep=no_sleep)
        try:
            events = [repr(e) for e in [e async for e in stream]]
        except Exception as exc:  # compared below
            events = [f"raised {exc!r}"]
        return events, list(waits), script.opened

    async def listed() -> tuple[list[str], list[float], int]:
        waits.clear()
        opened = 0

        async def answer() -> list[StreamEvent]:
            nonlocal opened
            steps = plan[min(opened, len(plan) - 1)]
            opened += 1
            if steps and isinstance(steps[0], Exception):
                raise steps[0]
            return [step for step in steps if not isinstance(step, Exception)]

        try:
            got = await retrying_events(answer, RetryPolicy(max_retries=2, jitter=0),
                                        sleep=no_sleep)
            events = [repr(e) for e in got]
        except Exception as exc:  # compared below
            events = [f"raised {exc!r}"]
        return events, list(waits), opened

    assert await listed() == await streamed()


async def test_retrying_events_reports_each_retry() -> None:
    seen: list[tuple[int, str, float]] = []
    answers: list[list[StreamEvent] | Exception] = [
        RateLimitError("429", retry_after=1.0), [StreamStart(), ErrorEvent(ServerError("x"))],
        [StreamStart(), TextDelta("ok"), DONE]]

    async def answer() -> list[StreamEvent]:
        step = answers.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    events = await retrying_events(
        answer, RetryPolicy(max_retries=2, jitter=0), sleep=no_sleep,
        on_retry=lambda n, error, wait: seen.append((n, error.message, wait)))
    assert collect(events).text == "ok"
    assert seen == [(1, "429", 1.0), (2, "x", 1.0)]
