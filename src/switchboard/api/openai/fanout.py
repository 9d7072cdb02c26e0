"""``n > 1``: n choices as n independent model calls, merged into one response (decision
0034).

Every choice is one routed call of the pipeline (``Pipeline.open_n`` / ``complete_n``:
one admission for the request, n routed and metered calls, decision 0054), so each
records its own usage row (its tokens, latency, status); this module only merges their
streams. The caller sees OpenAI's shape: choices indexed ``0..n-1``, stream
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
from collections.abc import AsyncGenerator, Sequence

from switchboard.api.openai.render import ChunkEncoder, sum_usage
from switchboard.spec import ErrorEvent, Finish, StreamEvent, Usage

Events = AsyncGenerator[StreamEvent, None]


async def close_all(streams: Sequence[Events]) -> None:
    for stream in streams:
        with contextlib.suppress(Exception):
            await stream.aclose()


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
