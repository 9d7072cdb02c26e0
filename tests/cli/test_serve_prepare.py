"""``switchboard serve`` prepares the database before uvicorn starts and marks it, so
the lifespan of the app it then runs does not repeat the work (decision 0199)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from switchboard.cli.serve import _prepare
from switchboard.config import load_settings
from switchboard.db import Database, migrate
from switchboard.services.database_prep import PREPARED_ENV, prepare_database


async def _lifespan_prepare(database_url: str) -> None:
    settings = load_settings()
    db = Database.from_settings(settings)
    try:
        await prepare_database(database_url, db)
    finally:
        await db.dispose()


def test_serve_prepares_and_the_apps_lifespan_then_skips(
    _isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PREPARED_ENV, "")  # restored afterwards (serve writes it)
    settings = load_settings()
    setup_token = asyncio.run(_prepare(settings))
    assert setup_token  # a fresh database: no admin yet, so a setup link
    assert asyncio.run(migrate.current(settings.database_url)) == migrate.HEAD

    # The lifespan's call on a database emptied behind its back proves it skipped: a
    # real check would migrate it again.
    sqlite_file = Path(settings.database_url.split("///", 1)[1])
    sqlite_file.unlink()
    asyncio.run(_lifespan_prepare(settings.database_url))
    assert asyncio.run(migrate.current(settings.database_url)) is None
