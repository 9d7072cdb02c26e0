"""``services.database_prep``: ``serve`` prepares the database once and the lifespan of
the app it starts skips the same work, only for the database it was done on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from switchboard.db import Database, migrate
from switchboard.services.database_prep import PREPARED_ENV, mark_prepared, prepare_database
from switchboard.services.seed import is_seeded


@pytest.fixture
def empty_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    # setenv records the variable's state, so the tests' mark_prepared writes are undone
    # afterwards (delenv of an unset variable would record nothing).
    monkeypatch.setenv(PREPARED_ENV, "")
    return f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"


async def test_a_marked_database_is_left_alone(empty_url: str) -> None:
    mark_prepared(empty_url)
    db = Database.from_url(empty_url)
    try:
        await prepare_database(empty_url, db)
        assert await migrate.current(empty_url) is None  # no query ran the migrations
    finally:
        await db.dispose()


async def test_another_databases_marker_does_not_skip_the_work(
    empty_url: str, tmp_path: Path
) -> None:
    mark_prepared(f"sqlite+aiosqlite:///{tmp_path / 'other.db'}")
    db = Database.from_url(empty_url)
    try:
        await prepare_database(empty_url, db)
        assert await migrate.current(empty_url) == migrate.HEAD
        assert await is_seeded(db)
    finally:
        await db.dispose()


def test_the_marker_does_not_carry_the_url(empty_url: str) -> None:
    url = "postgresql+asyncpg://app:s3cret-pw@db.internal:5432/switchboard"
    mark_prepared(url)
    marker = os.environ[PREPARED_ENV]
    assert "s3cret-pw" not in marker and "db.internal" not in marker
    assert marker.startswith(migrate.HEAD)
