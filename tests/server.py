"""A real Switchboard server on loopback for tests, with helpers to make accounts."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from switchboard.api.app import create_app
from switchboard.config import Settings, load_settings
from switchboard.db import Database
from switchboard.db.models import ApiToken, User
from switchboard.security.passwords import hash_password
from switchboard.security.tokens import generate_token
from tests.conftest import isolate
from tests.fakes.server import serve_in_thread


@dataclass
class Running:
    url: str
    settings: Settings
    app: Any = None
    """The ASGI app (its ``state.sb`` holds what the process holds)."""

    @property
    def v1(self) -> str:
        return f"{self.url}/v1"

    def make_user(self, username: str = "alice", role: str = "user",
                  password: str = "correct horse battery") -> str:
        """Create a user with an API token; return the token (shown once)."""
        return asyncio.run(_make_user(self.settings, username, role, password))

    def query(self, sql: str) -> list[tuple[object, ...]]:
        return asyncio.run(_query(self.settings, sql))


async def _make_user(settings: Settings, username: str, role: str, password: str) -> str:
    db = Database.from_url(settings.database_url, pooled=False)
    new = generate_token()
    try:
        async with db.unit_of_work() as session:
            user = User(username=username, role=role, password_hash=hash_password(password))
            session.add(user)
            await session.flush()
            session.add(ApiToken(user_id=user.id, name="test", token_hash=new.token_hash,
                                 prefix=new.hint))
    finally:
        await db.dispose()
    return new.token


async def _query(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    db = Database.from_url(settings.database_url, pooled=False)
    try:
        async with db.session() as session:
            return [tuple(r) for r in (await session.execute(text(sql))).all()]
    finally:
        await db.dispose()


@contextmanager
def running_server(settings: Settings | None = None) -> Iterator[Running]:
    settings = settings or load_settings()
    app = create_app(settings)
    with serve_in_thread(app, lifespan=True, startup_timeout=60) as url:
        yield Running(url, settings, app)


@contextmanager
def isolated_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Running]:
    """A module-scoped server with its own data directory. Such a server starts before the
    suite's per-test isolation and reads files under ``SWITCHBOARD_DATA_DIR`` at request
    time, so it isolates the environment itself, for the module's whole life (the module
    switches the per-test isolation off)."""
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp(name) / "sb-data")
        with running_server() as running:
            yield running
