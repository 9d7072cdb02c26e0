"""One upstream stream of n choices -> n single-choice event streams (decision 0084).

A vendor that takes ``n`` natively (OpenAI) answers the n choices in ONE response, its
chunks interleaving the choice indexes. The neutral events stay single-choice (the
Collector, metering and the renderers all read one answer), so the adapter tags the
events of choice ``i >= 1`` with ``Choice(i, event)`` and this splitter hands every
choice its own stream:

- an untagged event belongs to choice 0, except ``StreamStart`` and ``ErrorEvent``,
  which belong to every choice (an error chunk ends the whole response);
- an ``ErrorEvent`` reaching choices 1..n-1 carries zero usage: the vendor's usage is
  choice 0's alone, so the n usage rows sum to what the vendor billed.

Reads are pulled, not pushed: a stream with nothing queued reads the source (one reader
at a time) and queues what belongs to the others. ``fanout.merged_sse`` keeps one read
outstanding per choice, so nothing piles up beyond what the vendor already sent.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator

from switchboard.spec.events import Choice, ErrorEvent, StreamEvent, StreamStart
from switchboard.spec.usage import Usage

ZERO_USAGE = Usage(input_tokens=0, output_tokens=0)
"""The usage of choices 1..n-1: explicit zeros (not unknown), so metering does not
estimate tokens the vendor already counted on choice 0."""


class _Splitter:
    __slots__ = ("source", "queues", "closed", "ended", "lock")

    def __init__(self, source: AsyncIterator[StreamEvent], n: int) -> None:
        self.source = source
        self.queues: list[deque[StreamEvent]] = [deque() for _ in range(n)]
        self.closed = [False] * n
        self.ended = False
        self.lock = asyncio.Lock()

    def dispatch(self, event: StreamEvent) -> None:
        queues = self.queues
        if isinstance(event, Choice):
            if 0 < event.index < len(queues) and not self.closed[event.index]:
                queues[event.index].append(event.event)
        elif isinstance(event, StreamStart):
            for queue in queues:
                queue.append(event)
        elif isinstance(event, ErrorEvent):
            queues[0].append(event)
            for queue in queues[1:]:
                queue.append(ErrorEvent(event.error, usage=ZERO_USAGE))
        else:
            queues[0].append(event)

    async def pull(self, index: int) -> StreamEvent | None:
        """The next event of choice ``index``; None once the source is over."""
        queue = self.queues[index]
        while not queue:
            if self.ended:
                return None
            async with self.lock:
                if queue or self.ended:
                    continue
                try:
                    event = await anext(self.source)
                except StopAsyncIteration:
                    self.ended = True
                    continue
                except BaseException:
                    self.ended = True  # the reader gets the error; the others just end
                    raise
                self.dispatch(event)
        return queue.popleft()

    async def close(self, index: int) -> None:
        self.closed[index] = True
        self.queues[index].clear()
        if all(self.closed):
            aclose = getattr(self.source, "aclose", None)
            if aclose is not None:
                await aclose()


async def _choice(splitter: _Splitter, index: int) -> AsyncGenerator[StreamEvent, None]:
    try:
        while (event := await splitter.pull(index)) is not None:
            yield event
    finally:
        await splitter.close(index)


def split_choices(source: AsyncIterator[StreamEvent],
                  n: int) -> list[AsyncGenerator[StreamEvent, None]]:
    """``n`` streams, choice ``i`` at position ``i``; the source is closed when all are."""
    splitter = _Splitter(source, n)
    return [_choice(splitter, i) for i in range(n)]
