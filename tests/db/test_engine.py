"""The engine: SQLite pragmas and data directory, unit of work, and the column types
(UTC timestamps, exact decimals, JSON) behaving the same on both databases."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiosqlite.core
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from switchboard.config import load_settings
from switchboard.db import Database, create_engine, migrate, safe_url
from switchboard.db import models as m


async def test_sqlite_connections_get_the_pragmas(sqlite_database: Database) -> None:
    async with sqlite_database.engine.connect() as conn:
        values = {
            name: (await conn.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
        }
    assert values == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000,
                      "synchronous": 1}  # 1 = NORMAL


async def test_default_database_is_sqlite_in_a_private_data_dir(_isolated_env: Path) -> None:
    data_dir = _isolated_env  # SWITCHBOARD_DATA_DIR, set by conftest; does not exist yet
    assert not data_dir.exists()
    db = Database.from_settings(load_settings())
    try:
        assert await migrate.ensure_schema() == migrate.head()
        async with db.unit_of_work() as session:
            session.add(m.Provider(name="p", kind="openai"))
    finally:
        await db.dispose()
    assert (data_dir / "switchboard.db").is_file()
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700


async def test_unit_of_work_commits_or_rolls_back(sqlite_database: Database) -> None:
    async with sqlite_database.unit_of_work() as session:
        session.add(m.Provider(name="kept", kind="openai"))

    with pytest.raises(RuntimeError, match=r"boom"):
        async with sqlite_database.unit_of_work() as session:
            session.add(m.Provider(name="discarded", kind="openai"))
            await session.flush()  # written inside the transaction ...
            raise RuntimeError("boom")  # ... and rolled back

    async with sqlite_database.session() as session:
        names = (await session.scalars(select(m.Provider.name))).all()
    assert names == ["kept"]


async def test_timestamps_are_utc_aware_and_naive_ones_are_refused(database: Database) -> None:
    paris_noon = datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    async with database.unit_of_work() as session:
        added = m.Provider(name="p", kind="openai", status_checked_at=paris_noon)
        session.add(added)
    async with database.session() as session:
        provider = await session.get(m.Provider, added.id)
    assert provider is not None
    assert provider.status_checked_at == paris_noon
    assert provider.status_checked_at.tzinfo == UTC
    assert provider.status_checked_at.hour == 10
    # Defaults (Python side) and server defaults (raw SQL) are aware UTC too.
    assert provider.created_at.tzinfo == UTC
    async with database.unit_of_work() as session:
        await session.execute(text("INSERT INTO providers (name, kind, settings) "
                                   "VALUES ('raw', 'openai', '{}')"))
    async with database.session() as session:
        raw = (await session.scalars(select(m.Provider).where(m.Provider.name == "raw"))).one()
    assert raw.created_at.tzinfo == UTC
    assert abs(raw.created_at - datetime.now(UTC)) < timedelta(minutes=5)

    with pytest.raises(StatementError, match=r"naive datetime .* datetime.now\(UTC\)"):
        async with database.unit_of_work() as session:
            session.add(m.Provider(name="n", kind="openai", status_checked_at=datetime(2025, 1, 1)))


async def test_decimals_and_json_round_trip(database: Database) -> None:
    async with database.unit_of_work() as session:
        added = m.Provider(name="p", kind="openai",
                           settings={"headers": {"X-Ü": "✓"}, 1: [None, 1.5, True]})
        session.add(added)
        await session.flush()
        session.add(m.ProviderModel(
            provider_id=added.id, name="M", model_sdk_id="m", price_input=Decimal("2.5"),
            price_cached_input=Decimal("0.075"), price_output=Decimal("123456.123456"),
        ))
        session.add(m.UsageEvent(provider="p", model="m", source="test", status="ok",
                                 cost=Decimal("0.0000000123")))
    async with database.session() as session:
        provider = await session.get(m.Provider, added.id)
        model = (await session.scalars(select(m.ProviderModel))).one()
        cost = await session.scalar(select(m.UsageEvent.cost))
    assert provider is not None and model is not None
    assert provider.settings == {"headers": {"X-Ü": "✓"}, "1": [None, 1.5, True]}
    assert [model.price_input, model.price_cached_input, model.price_output] == [
        Decimal("2.5"), Decimal("0.075"), Decimal("123456.123456")
    ]
    assert cost == Decimal("0.0000000123")
    assert [mm.model_sdk_id for mm in provider.models] == ["m"]  # eager-loaded relationship


def test_urls_in_messages_hide_the_password() -> None:
    url = "postgresql+asyncpg://app:s3cret-pw@db.example:5432/switchboard"
    assert "s3cret-pw" not in safe_url(url)
    engine = create_engine(url=url)  # no connection is made until first use
    assert "s3cret-pw" not in repr(Database(engine))


async def test_sqlite_write_transaction_trips_and_rollback_when_left_open(
        sqlite_database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Decision 0197: a one-statement write transaction makes five trips to aiosqlite's
    thread (BEGIN in one; the statement's cursor, execute and close; COMMIT) and no
    ROLLBACK after its COMMIT; a transaction an error left open is still rolled back
    when its connection goes back to the pool."""
    trips: list[str] = []
    original = aiosqlite.core.Connection._execute

    async def counted(self: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", repr(fn)))
        return await original(self, fn, *args, **kwargs)

    async with sqlite_database.unit_of_work() as session:  # warm the pool
        await session.execute(text("DELETE FROM providers WHERE name = 'x'"))
    monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)
    async with sqlite_database.unit_of_work() as session:
        await session.execute(text("DELETE FROM providers WHERE name = 'x'"))
    assert "rollback" not in trips
    assert trips.count("_execute_fetchall") == 1  # the BEGIN IMMEDIATE
    assert len(trips) == 5, trips

    trips.clear()
    with pytest.raises(RuntimeError):
        async with sqlite_database.unit_of_work() as session:
            await session.execute(text("DELETE FROM providers WHERE name = 'x'"))
            raise RuntimeError("boom")
    assert "rollback" in trips
    async with sqlite_database.unit_of_work() as session:  # the write lock was released
        await session.execute(text("DELETE FROM providers WHERE name = 'x'"))
def test_value_guard_checks_every_value_whatever_its_exact_type() -> None:
    """The guard's fast path (exact ``str``/``int``, harmless types skipped) refuses the
    same values as the full check, subclasses and nested batches included."""
    from datetime import UTC, datetime
    from decimal import Decimal

    from switchboard.db.engine import _check_parameters
    from switchboard.db.errors import InvalidValue
    from switchboard.db.ids import MAX_ID

    class Text(str):
        pass

    class Number(int):
        pass

    fine = {"a": "text", "b": MAX_ID, "c": -MAX_ID - 1, "d": 1.5, "e": None, "f": True,
            "g": Decimal("1.25"), "h": datetime.now(UTC), "i": b"\x00", "j": Text("ok")}
    _check_parameters(fine)
    _check_parameters([tuple(fine.values()), list(fine.values())])
    for bad in ("a\x00b", Text("a\x00b"), MAX_ID + 1, -MAX_ID - 2, Number(MAX_ID + 1)):
        with pytest.raises(InvalidValue):
            _check_parameters({"x": 1, "y": bad})
        with pytest.raises(InvalidValue):
            _check_parameters([("ok", 1), ("ok", bad)])
