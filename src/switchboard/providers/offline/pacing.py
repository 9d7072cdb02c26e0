"""The offline model's stream paced against a deadline, not by a sleep per delta.

The pauses are there so a person sees the answer being written (``chunk_delay_ms``).
They were a fixed sleep before each delta, and every sleep ends late under CPU load (the
loop wakes up late; making and sending the delta takes time on top): the lateness added
up delta after delta, and an answer meant to stream for 2 s took many times that on a
loaded CI machine, where browser tests waiting for it timed out. Now delta ``i`` is due
at ``start + i * interval``: a stream that has fallen behind sends the next deltas
without a pause until it is on time again, so a late wake-up costs once, not per delta.
On a quiet machine the stream looks as it did (one delta every ``interval``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

from switchboard.spec import StreamEvent, TextDelta, ToolCallDelta

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


async def paced(events: Iterable[StreamEvent], interval: float, *, clock: Clock | None = None,
                sleep: Sleep = asyncio.sleep) -> AsyncIterator[StreamEvent]:
    """``events`` with text and tool-argument delta ``i`` (from 1) let out no earlier than
    ``interval * i`` seconds after the stream began; the other events go at once.

    Behind schedule, a delta goes with ``sleep(0)``: no pause, but the event loop still
    gets a turn between deltas (a long answer that has fallen behind must not hold the
    loop for all its remaining deltas at once). ``clock`` and ``sleep`` are the event
    loop's by default; tests pass their own and never really sleep."""
    if interval <= 0:
        for event in events:
            yield event
        return
    now = clock or asyncio.get_running_loop().time
    start = now()
    sent = 0
    for event in events:
        if isinstance(event, TextDelta | ToolCallDelta):
            sent += 1
            await sleep(max(start + sent * interval - now(), 0.0))
        yield event
