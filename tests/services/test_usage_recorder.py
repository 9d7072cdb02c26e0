"""The usage recorder loses nothing at shutdown, even with a flush in flight."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import func, select

from switchboard.db import Database
from switchboard.db.migrate import upgrade
from switchboard.db.models import UsageEvent
from switchboard.services.usage import UsageRecord, UsageRecorder


async def _until_flushing(recorder: UsageRecorder) -> None:
    """Yield to the loop until a flush holds the recorder's lock (bounded; no timers)."""
    for _ in range(10_000):
        if recorder._lock.locked():
            return
        await asyncio.sleep(0)
    raise AssertionError("the flush never started")


async def _count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(UsageEvent)) or 0)


async def test_close_during_an_in_flight_flush_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    db = Database.from_url(url)
    recorder = UsageRecorder(db, interval=0.01)
    recorder.start()
    # Another connection holds the write lock, so the recorder's flush is stuck in its
    # INSERT (waiting on the busy timeout) when shutdown comes.
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        for i in range(7):
            recorder.record(UsageRecord(provider="p", model=f"m{i}", source="test",
                                        status="ok", input_tokens=1, output_tokens=1))
        await _until_flushing(recorder)  # the background flush is stuck in its INSERT
        closing = asyncio.create_task(recorder.close())
        for _ in range(20):
            await asyncio.sleep(0)
        assert not closing.done()
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    await closing
    assert await _count(db) == 7
    assert recorder.pending == 0
    await db.dispose()


async def test_a_cancelled_flush_puts_its_rows_back(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    url = f"sqlite+aiosqlite:///{path}"
    await upgrade(url)
    db = Database.from_url(url)
    recorder = UsageRecorder(db)
    recorder.record(UsageRecord(provider="p", model="m", source="test", status="ok"))
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        flush = asyncio.create_task(recorder.flush())
        await _until_flushing(recorder)
        for _ in range(5):
            await asyncio.sleep(0)
        flush.cancel()
        try:
            await flush
        except asyncio.CancelledError:
            pass
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    assert recorder.pending == 1  # not lost: written by the next flush
    assert await recorder.flush() == 1
    assert await _count(db) == 1
    await db.dispose()
