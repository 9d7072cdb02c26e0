"""``n > 1``: n choices as n independent model calls, merged into one response (decision
0034).

Every call is a whole ``metered()`` call, so accounting needs nothing special: each one
records its own usage row (its tokens, latency, status) through the one exit point,
``services.metering``. The caller sees OpenAI's shape: choices indexed ``0..n-1``, stream
chunks of the choices interleaved as they arrive (each carrying its ``index``), one usage
block summing the calls, and one ``[DONE]``.

Streams are read with one outstanding read per call (a select over ``anext``), so a slow
client slows the calls down instead of queueing their output in memory. An error before
any byte (one call's 429, say) answers the whole request with that error's status; an
in-band error in one choice ends the response with that error chunk (the official SDK
raises it), and every call still open is closed — and accounted — as the caller leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence

from switchboard.api.openai.render import ChunkEncoder, sum_usage
from switchboard.spec import ChatResult, ErrorEvent, Finish, StreamEvent, Usage

Events = AsyncGenerator[StreamEvent, None]


async def close_all(streams: Sequence[Events]) -> None:
    for stream in streams:
        with contextlib.suppress(Exception):
            await stream.aclose()


async def first_events(streams: Sequence[Events]) -> list[StreamEvent]:
    """Each call's first event, read concurrently. If one fails before its first event,
    all are closed and that failure is raised (it keeps its HTTP status)."""
    got = await asyncio.gather(*(anext(s) for s in streams), return_exceptions=True)
    failure = next((g for g in got if isinstance(g, BaseException)), None)
    if failure is not None:
        await close_all(streams)
        raise failure
    return [g for g in got if not isinstance(g, BaseException)]


async def merged_sse(streams: Sequence[Events], firsts: Sequence[StreamEvent],
                     encoders: Sequence[ChunkEncoder]) -> AsyncGenerator[bytes, None]:
    """The SSE body of n streams: their chunks as they come, then usage and ``[DONE]``."""
    usages: list[Usage] = []
    reads: dict[asyncio.Future[StreamEvent], int] = {}
    try:
        for i, first in enumerate(firsts):
            data = encoders[i].encode(first)
            if data:
                yield data
            if isinstance(first, ErrorEvent):
                return
            if isinstance(first, Finish):
                usages.append(first.usage)
            reads[asyncio.ensure_future(anext(streams[i]))] = i
        while reads:
            done, _ = await asyncio.wait(reads, return_when=asyncio.FIRST_COMPLETED)
            for read in done:
                i = reads.pop(read)
                try:
                    event = read.result()
                except StopAsyncIteration:
                    continue
                data = encoders[i].encode(event)
                if data:
                    yield data
                if isinstance(event, ErrorEvent):
                    return  # the SDK raises on the error chunk: nothing after it counts
                if isinstance(event, Finish):
                    usages.append(event.usage)
                reads[asyncio.ensure_future(anext(streams[i]))] = i
        yield encoders[0].closing(sum_usage(usages))
    finally:
        for read in reads:
            read.cancel()
        for read in reads:
            with contextlib.suppress(BaseException):
                await read
        await close_all(streams)


async def generate_all(n: int,
                       generate: Callable[[], Awaitable[ChatResult]]) -> list[ChatResult]:
    """n non-streaming calls at once; the first failure is raised (every call, failed or
    not, has already been accounted by its own ``metered`` run)."""
    got = await asyncio.gather(*(generate() for _ in range(n)), return_exceptions=True)
    failure = next((g for g in got if isinstance(g, BaseException)), None)
    if failure is not None:
        raise failure
    return [g for g in got if isinstance(g, ChatResult)]
