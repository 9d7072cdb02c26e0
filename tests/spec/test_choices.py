"""``spec.choices.split_choices``: one stream of n choices -> n single-choice streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

from switchboard.spec import (
    ErrorEvent,
    Finish,
    FinishReason,
    ProviderError,
    StreamStart,
    TextDelta,
    Usage,
    collect_stream,
)
from switchboard.spec.choices import ZERO_USAGE, split_choices
from switchboard.spec.events import Choice, StreamEvent

STOP = FinishReason("stop", "stop")


async def _source(events: list[StreamEvent], closed: list[bool]
                  ) -> AsyncGenerator[StreamEvent, None]:
    try:
        for event in events:
            yield event
    finally:
        closed.append(True)


def test_each_choice_gets_its_own_events_and_choice_0_the_vendor_usage() -> None:
    billed = Usage(input_tokens=10, output_tokens=6)
    events: list[StreamEvent] = [
        StreamStart(), TextDelta("a"), Choice(1, TextDelta("b")), Choice(2, TextDelta("c")),
        Choice(1, TextDelta("B")), TextDelta("A"),
        Choice(1, Finish(STOP, ZERO_USAGE)), Choice(2, Finish(STOP, ZERO_USAGE)),
        Finish(STOP, billed)]

    async def run() -> list[tuple[str, Usage]]:
        closed: list[bool] = []
        streams = split_choices(_source(events, closed), 3)
        # Read the LAST choice first: the splitter queues what belongs to the others.
        results = [await collect_stream(s) for s in reversed(streams)]
        assert closed == [True]
        return [(r.text, r.usage) for r in reversed(results)]

    assert asyncio.run(run()) == [("aA", billed), ("bB", ZERO_USAGE), ("c", ZERO_USAGE)]


def test_an_error_reaches_every_choice_with_the_usage_on_choice_0_only() -> None:
    seen = Usage(input_tokens=10, output_tokens=1)
    error = ProviderError("cut", provider="openai")
    events: list[StreamEvent] = [StreamStart(), TextDelta("a"), Choice(1, TextDelta("b")),
                                 ErrorEvent(error, usage=seen)]

    async def run() -> list[list[StreamEvent]]:
        closed: list[bool] = []
        streams = split_choices(_source(events, closed), 2)
        return [[e async for e in s] for s in streams]

    first, second = asyncio.run(run())
    assert isinstance(first[-1], ErrorEvent) and first[-1].usage == seen
    assert isinstance(second[-1], ErrorEvent) and second[-1].usage == ZERO_USAGE
    assert [type(e) for e in second] == [StreamStart, TextDelta, ErrorEvent]


def test_the_source_is_closed_only_when_every_choice_is() -> None:
    events: list[StreamEvent] = [StreamStart(), TextDelta("a"), Choice(1, TextDelta("b")),
                                 TextDelta("more")]

    async def run() -> list[bool]:
        closed: list[bool] = []
        streams = split_choices(_source(events, closed), 2)
        await anext(streams[0])
        await anext(streams[1])
        await streams[0].aclose()
        assert closed == []
        assert isinstance(await anext(streams[1]), TextDelta)  # "b", read past "a"
        await streams[1].aclose()
        return closed

    assert asyncio.run(run()) == [True]
