"""``coalesced``: chunks that are ready together go out as one; none waits for a later one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from switchboard.api.coalesce import MAX_BATCH, coalesced
from switchboard.api.event_stream import EventStream


async def _reads(reads: list[list[bytes]], gate: asyncio.Queue[None]) -> AsyncIterator[bytes]:
    """A source like the pipeline's: each "read" waits on ``gate``, then its chunks follow
    without waiting (an uncontended lock in between, as the hot path has)."""
    lock = asyncio.Lock()
    for read in reads:
        await gate.get()
        for chunk in read:
            async with lock:
                yield chunk


async def test_one_read_is_one_write_and_nothing_waits_for_the_next_read() -> None:
    gate: asyncio.Queue[None] = asyncio.Queue()
    out = coalesced(_reads([[b"a", b"b", b"c"], [b"d"], [b"e", b"f"]], gate))
    got = []
    for _ in range(3):
        gate.put_nowait(None)
        # the batch is written before the next read is released: no added latency
        got.append(await asyncio.wait_for(anext(out), 5))
    assert got == [b"abc", b"d", b"ef"]
    with pytest.raises(StopAsyncIteration):
        await anext(out)


async def test_batches_are_bounded() -> None:
    async def ready() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"x" * 4096

    got = [chunk async for chunk in coalesced(ready())]
    assert b"".join(got) == b"x" * 409600
    assert max(map(len, got)) <= MAX_BATCH + 4096
    assert len(got) > 1


async def test_a_failure_comes_after_the_chunks_before_it() -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"a"
        yield b"b"
        raise OSError("upstream went away")

    out = coalesced(failing())
    assert await anext(out) == b"ab"
    with pytest.raises(OSError, match="upstream went away"):
        await anext(out)


async def test_empty_source() -> None:
    async def empty() -> AsyncIterator[bytes]:
        return
        yield b""  # pragma: no cover

    assert [c async for c in coalesced(empty())] == []


async def test_cancelled_while_waiting_reaches_the_source() -> None:
    seen: list[str] = []
    gate: asyncio.Event = asyncio.Event()

    async def source() -> AsyncIterator[bytes]:
        try:
            yield b"a"
            await gate.wait()
            yield b"b"  # pragma: no cover
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise

    out = coalesced(source())

    async def consume() -> list[bytes]:
        return [c async for c in out]

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert seen == ["cancelled"]


async def test_closed_with_a_pending_read_cleans_the_source_up() -> None:
    """The client went away while a batch was being written and the source was half-way
    through its next read: closing cancels that read, so the source's clean-up runs."""
    seen: list[str] = []
    gate: asyncio.Event = asyncio.Event()

    async def source() -> AsyncIterator[bytes]:
        try:
            yield b"a"
            await gate.wait()
            yield b"b"  # pragma: no cover
        finally:
            await asyncio.sleep(0)  # clean-up that itself awaits (metering)
            seen.append("cleaned")

    out = coalesced(source())
    assert await anext(out) == b"a"
    await out.aclose()
    assert seen == ["cleaned"]


@pytest.mark.parametrize("keep_alive", [None, 15.0])
async def test_an_event_stream_writes_one_read_in_one_send(keep_alive: float | None) -> None:
    gate: asyncio.Queue[None] = asyncio.Queue()
    gate.put_nowait(None)
    sent: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        sent.append(message)
        if message["type"] == "http.response.body":
            gate.put_nowait(None)  # the vendor's next read arrives after this write

    stream = EventStream(_reads([[b"data: 1\n\n", b"data: 2\n\n"], [b"data: 3\n\n"]], gate),
                         keep_alive=keep_alive)
    await stream.stream_response(send)  # type: ignore[arg-type]
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert bodies == [b"data: 1\n\ndata: 2\n\n", b"data: 3\n\n", b""]


async def test_an_event_stream_whose_write_fails_cleans_the_source_up_at_once() -> None:
    """The client went away during a write while the vendor's next read was pending: the
    source's clean-up runs before ``stream_response`` returns, in the same task."""
    seen: list[object] = []
    gate = asyncio.Event()

    async def source() -> AsyncIterator[bytes]:
        try:
            yield b"data: 1\n\n"
            await gate.wait()
            yield b"data: 2\n\n"  # pragma: no cover
        finally:
            seen.append(asyncio.current_task())

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.body":
            raise OSError("the client went away")

    for keep_alive in (None, 15.0):
        seen.clear()
        with pytest.raises(OSError):
            await EventStream(source(), keep_alive=keep_alive).stream_response(
                send)  # type: ignore[arg-type]
        assert seen == [asyncio.current_task()]
