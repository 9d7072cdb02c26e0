"""``coalesced``: the chunks of a byte stream that are ready together, written as one.

One upstream read usually carries several SSE events (a vendor flushes a handful of
tokens at once, and a 20-chunk answer from a fast model arrives in one or two reads).
The call pipeline hands them on one by one, and a response that writes each as its own
ASGI ``send`` pays uvicorn's per-write cost (flow-control check, transport write,
message checks) per event: 8.6 % of the main thread on a 20-chunk stream (issue 12's
profile, docs/performance.md). Joining them is only right if it adds no latency, so no
chunk ever waits for a later one: after each chunk the next one is taken *if the source
can produce it without waiting*, and as soon as it would wait, what was gathered is
written.

"Without waiting" is decided by stepping the source's ``__anext__`` coroutine by hand:
a coroutine that finishes without yielding to the event loop had its chunk ready; one
that yields would suspend, so the batch is flushed and the half-run coroutine is then
finished under the event loop by ``_resume``, which passes on what it yielded exactly
as ``await`` would (the same future, the same task, cancellation thrown into it).
Decision 0090.
"""

from __future__ import annotations

import asyncio
import contextlib
import types
from collections.abc import AsyncGenerator, AsyncIterable, Coroutine, Generator
from typing import Any

MAX_BATCH = 64 * 1024
"""Bytes gathered into one write at most: a source that has a lot ready at once (an
answer replayed from its buffer) still goes out in bounded writes."""


@types.coroutine
def _resume(step: Coroutine[Any, Any, bytes], signal: Any,
            throw: BaseException | None = None) -> Generator[Any, Any, bytes]:
    """Finish ``step``, which already ran until it yielded ``signal`` to the event loop
    (or, with ``throw``, first throw that into it instead of waiting for ``signal``).

    ``yield from`` does the same for a coroutine that has not started; this one picks up
    after the first yield: each value goes out to the task driving us, each result or
    exception (a cancellation) comes back into ``step``."""
    if throw is not None:
        try:
            signal = step.throw(throw)
        except StopIteration as done:
            return done.value  # type: ignore[no-any-return]
    while True:
        try:
            sent = yield signal
        except GeneratorExit:
            step.close()
            raise
        except BaseException as exc:
            try:
                signal = step.throw(exc)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]
        else:
            try:
                signal = step.send(sent)
            except StopIteration as done:
                return done.value  # type: ignore[no-any-return]


async def coalesced(source: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    """``source``'s bytes, those that are ready together joined into one chunk.

    ``source`` is an async generator (every SSE body is one): its ``__anext__`` returns a
    coroutine-like object that can be stepped with ``send``."""
    chunks = aiter(source)
    try:
        nxt: bytes = await anext(chunks)
    except StopAsyncIteration:
        return
    while True:
        parts = [nxt]
        size = len(nxt)
        ended = False
        waiting: Any = None
        step: Coroutine[Any, Any, bytes] | None = None
        try:
            while size < MAX_BATCH:
                step = chunks.__anext__()  # type: ignore[assignment]
                try:
                    waiting = step.send(None)  # type: ignore[union-attr]
                except StopIteration as done:  # ready without waiting
                    step = None
                    parts.append(done.value)
                    size += len(done.value)
                    continue
                break  # it would wait: write what we have first
            else:
                step = None
        except StopAsyncIteration:
            ended, step = True, None
        except BaseException:
            # what came before the failure goes out first, as it would unjoined
            yield b"".join(parts)
            raise
        try:
            yield parts[0] if len(parts) == 1 else b"".join(parts)
        except BaseException:
            if step is not None:
                # Closed (the client went away) while the source is half-way through
                # producing its next chunk: cancel that wait, as a cancelled task would,
                # so the source's own clean-up (metering the cut answer) runs now and the
                # source is not left "already running" for its finaliser.
                with contextlib.suppress(BaseException):
                    await _resume(step, waiting, asyncio.CancelledError())
            raise
        if ended:
            return
        try:
            if step is None:
                nxt = await anext(chunks)
            else:
                nxt = await _resume(step, waiting)
        except StopAsyncIteration:
            return
