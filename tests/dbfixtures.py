"""Database fixtures for every test that needs one (loaded from tests/conftest.py).

- ``database_url``: an EMPTY database, parametrized over SQLite (always) and PostgreSQL
  (when ``SWITCHBOARD_TEST_DATABASE_URL`` is set, e.g.
  ``postgresql+asyncpg://postgres@127.0.0.1:5432/postgres``). Each PostgreSQL test gets its
  own fresh database, created through the server's ``postgres`` maintenance database and
  dropped afterwards, so tests never see each other's rows.
- ``migrated_database_url``: the same, upgraded to head.
- ``database``: a ``switchboard.db.Database`` on a migrated database (disposed after).
- ``sqlite_database``: like ``database`` but SQLite only (for tests that are about
  behaviour, not about the database engine).

PostgreSQL unavailable -> the PostgreSQL variant is skipped, or FAILS when
``SWITCHBOARD_TEST_REQUIRE_SERVICES=1`` (CI sets it, so a broken service is never silently
skipped).

Migrating is done once per session per engine into a template (a SQLite file that is copied;
a PostgreSQL ``CREATE DATABASE ... TEMPLATE``), so a migrated database costs a file copy.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from switchboard.config import normalise_database_url
from switchboard.db import Database, migrate

PG_URL_ENV = "SWITCHBOARD_TEST_DATABASE_URL"
REQUIRE_ENV = "SWITCHBOARD_TEST_REQUIRE_SERVICES"
BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
]

# Per-session templates, keyed by backend (migrating once instead of once per test).
_templates: dict[str, str] = {}


def postgres_unavailable(reason: str) -> None:
    """Skip, or fail when the environment says services are required."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"PostgreSQL is required ({REQUIRE_ENV}=1) but {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL not available: {reason}")


def _postgres_server_url() -> URL:
    raw = os.environ.get(PG_URL_ENV)
    if not raw:
        postgres_unavailable(f"{PG_URL_ENV} is not set")
    return make_url(normalise_database_url(raw or ""))


async def _admin(statement: str) -> None:
    """Run one statement on the server's ``postgres`` maintenance database."""
    server = _postgres_server_url()
    admin = create_async_engine(
        server.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(statement)
    finally:
        await admin.dispose()


async def _create_database(template: str | None = None) -> str:
    name = f"sb_{secrets.token_hex(6)}"
    clause = f' TEMPLATE "{template}"' if template else ""
    try:
        await _admin(f'CREATE DATABASE "{name}"{clause}')
    except (OSError, DBAPIError) as exc:
        server = _postgres_server_url().render_as_string(hide_password=True)
        postgres_unavailable(f"cannot create a database on {server}: {exc}")
    return name


async def _drop_database(name: str) -> None:
    try:
        await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    except (OSError, DBAPIError):
        pass  # the server went away; nothing left to clean up there


def _postgres_url(name: str) -> str:
    return _postgres_server_url().set(database=name).render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_postgres_database(template: str | None = None) -> AsyncIterator[str]:
    """Create ``sb_<random>`` on the test server (optionally from a template); drop it after."""
    name = await _create_database(template)
    try:
        yield _postgres_url(name)
    finally:
        await _drop_database(name)


async def _migrated_template(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database to copy from, made once per session per backend: a SQLite file
    path, or a PostgreSQL database name (dropped at session end)."""
    if backend not in _templates:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("db-template") / "template.db"
            await migrate.upgrade(f"sqlite+aiosqlite:///{path}")
            _templates[backend] = str(path)
        else:
            name = await _create_database()
            _templates[backend] = name
            await migrate.upgrade(_postgres_url(name))
    return _templates[backend]


def pytest_sessionfinish(session: pytest.Session) -> None:
    name = _templates.pop("postgres", None)
    if name:
        asyncio.run(_drop_database(name))


@pytest.fixture(params=BACKENDS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database (no schema), on each available backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'db' / 'test.db'}"
        return
    async with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=BACKENDS)
async def migrated_database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[str]:
    """A database at head, on each available backend."""
    if request.param == "sqlite":
        template = await _migrated_template("sqlite", tmp_path_factory)
        target = tmp_path / "db" / "test.db"
        target.parent.mkdir(mode=0o700)
        shutil.copyfile(template, target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    _postgres_server_url()  # skip early, before building a template
    template = await _migrated_template("postgres", tmp_path_factory)
    async with fresh_postgres_database(template=template) as url:
        yield url


@pytest.fixture
async def database(migrated_database_url: str) -> AsyncIterator[Database]:
    """A ``Database`` (engine + sessions) on a migrated database, on each backend."""
    db = Database.from_url(migrated_database_url)
    try:
        yield db
    finally:
        await db.dispose()


@pytest.fixture
async def sqlite_database(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Database]:
    """A ``Database`` on a migrated SQLite file (one backend: fast, always available)."""
    template = await _migrated_template("sqlite", tmp_path_factory)
    target = tmp_path / "db" / "test.db"
    target.parent.mkdir(mode=0o700)
    shutil.copyfile(template, target)
    db = Database.from_url(f"sqlite+aiosqlite:///{target}")
    try:
        yield db
    finally:
        await db.dispose()


# -- Redis ---------------------------------------------------------------------------------

REDIS_ENV = "SWITCHBOARD_TEST_REDIS_URL"


def _per_process(url: str | None) -> str | None:
    """Under pytest-xdist, each test process gets its own Redis database (15, 14, …):
    servers started by tests in two processes at once would otherwise share rate-limit
    buckets, answer streams and invalidation channels (keys are per installation, and
    both test installations have a user 1)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker.startswith("gw"):
        return url
    base, _, db = url.rpartition("/")
    if not db.isdigit():
        return url
    return f"{base}/{(int(db) - int(worker[2:])) % 16}"


@pytest.fixture
async def redis_url() -> AsyncIterator[str]:
    """The test Redis URL; skipped when unset or unreachable, failed instead when
    ``SWITCHBOARD_TEST_REQUIRE_SERVICES=1`` (CI)."""
    url = _per_process(os.environ.get(REDIS_ENV))
    required = os.environ.get("SWITCHBOARD_TEST_REQUIRE_SERVICES") == "1"
    if not url:
        if required:
            pytest.fail(f"Redis is required but {REDIS_ENV} is not set", pytrace=False)
        pytest.skip(f"{REDIS_ENV} is not set")
    from redis import asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        await client.ping()
    except Exception as exc:
        if required:
            pytest.fail(f"Redis is required but {url} does not answer: {exc}", pytrace=False)
        pytest.skip(f"Redis at {url} does not answer: {exc}")
    finally:
        await client.aclose()
    yield url
