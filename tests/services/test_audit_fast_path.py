"""The audit chain's fast path (decision 0151): a process remembers the head it last
moved and moves it with one conditional UPDATE; a stale memory (another engine or worker
appended, a transaction rolled back) falls back to the locked read, so the chain never
forks. SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import audit_trail
from switchboard.services.audit import CLI, record


async def _append(db: Database, tag: str, i: int) -> None:
    async with db.unit_of_work() as session:
        record(session, CLI, "test.append", target_type=tag, target_id=i, details={"i": i})


async def _chain(db: Database) -> list[m.AuditLog]:
    async with db.session() as session:
        return list((await session.scalars(select(m.AuditLog).order_by(m.AuditLog.seq))).all())


def _assert_unbroken(rows: list[m.AuditLog], count: int) -> None:
    assert [r.seq for r in rows] == list(range(1, count + 1))
    for before, after in itertools.pairwise(rows):
        assert after.prev_hash == before.hash


@contextmanager
def _statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def _on(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())
    event.listen(db.engine.sync_engine, "before_cursor_execute", _on)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", _on)


async def test_an_append_writes_without_reading_the_head(database: Database) -> None:
    """After the first append the head is not read again: SQLite, one INSERT (its trigger
    checks and moves the head); PostgreSQL, the conditional UPDATE and the INSERT."""
    await _append(database, "warm", 0)
    with _statements(database) as seen:
        await _append(database, "fast", 1)
    expected = ["INSERT"] if database.is_sqlite else ["UPDATE", "INSERT"]
    assert [s for s in seen if s not in ("BEGIN", "COMMIT")] == expected
    _assert_unbroken(await _chain(database), 2)


async def test_a_stale_head_falls_back_to_the_locked_read(
        database: Database, migrated_database_url: str) -> None:
    """Another engine appends behind this one's back, and a transaction that moved the
    remembered head rolls back: both times the next append reads the head under its lock
    and the chain stays whole."""
    other = Database.from_url(migrated_database_url)
    try:
        await _append(database, "a", 0)
        await _append(other, "b", 0)  # ``database``'s memory is stale now
        with _statements(database) as seen:
            await _append(database, "a", 1)
        assert "SELECT" in seen
        with pytest.raises(RuntimeError):
            async with database.unit_of_work() as session:
                record(session, CLI, "test.rolled_back")
                await session.flush()
                raise RuntimeError("roll back")
        await _append(database, "a", 2)
    finally:
        await other.dispose()
    rows = await _chain(database)
    _assert_unbroken(rows, 4)
    assert "test.rolled_back" not in [r.action for r in rows]
    assert (await audit_trail.verify(database)).ok


async def test_concurrent_appenders_from_two_engines_keep_one_chain(
        database: Database, migrated_database_url: str) -> None:
    """Two engines (two workers' worth of connections), four tasks each, appending at
    once: every row gets its own position and follows the one before."""
    other = Database.from_url(migrated_database_url)
    per_task, tasks = 15, 4
    try:
        async def appender(db: Database, tag: str) -> None:
            for i in range(per_task):
                await _append(db, tag, i)
        await asyncio.gather(*(appender(db, f"{name}{t}")
                               for db, name in ((database, "a"), (other, "b"))
                               for t in range(tasks)))
    finally:
        await other.dispose()
    rows = await _chain(database)
    _assert_unbroken(rows, 2 * tasks * per_task)
    assert {r.target_type for r in rows} == {f"{n}{t}" for n in "ab" for t in range(tasks)}
    verdict = await audit_trail.verify(database)
    assert verdict.ok and verdict.checked == len(rows)
