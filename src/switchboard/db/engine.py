"""The async engine, session factory and unit of work.

Two ways to run a transaction: ``Database.unit_of_work()`` gives an ORM ``AsyncSession``
(the REST API, the CLI: objects, relationships), ``Database.transaction()`` a Core
``AsyncConnection`` (the ``/v1`` path, the start-up and the background rounds: Core
statements on ``db.tables``). Same commit / rollback and SQLite locking rules for both. The
session machinery (``sqlalchemy.orm``, ~6 MB resident) is imported with the first session:
a server that only answers ``/v1`` never loads it (decision 0237).

One ``Database`` per process (the server creates it at startup and keeps it in app state):
engines own connection pools, so creating one per request would throw the pool away.

SQLite (the default, in the data directory):

- Every connection gets ``journal_mode=WAL`` (readers never block the writer),
  ``foreign_keys=ON`` (SQLite's default is OFF!), ``busy_timeout`` (wait for a lock instead
  of failing at once) and ``synchronous=NORMAL`` (safe with WAL, far fewer fsyncs).
  https://www.sqlite.org/pragma.html
- The driver's own implicit transaction handling is switched off and we emit ``BEGIN``
  ourselves (the recipe in SQLAlchemy's SQLite dialect docs, "Serializable isolation /
  Savepoints / Transactional DDL"). Without it, pysqlite does not start a transaction
  before DDL or SELECT, so migrations would not be atomic. A connection may ask for
  ``BEGIN IMMEDIATE`` (take the write lock up front) with the execution option
  ``sqlite_begin="IMMEDIATE"``; migrations do, so two processes upgrading at once queue
  instead of both creating the same table.

PostgreSQL: asyncpg with a bounded pool. No ``pool_pre_ping`` (it costs a round trip on every
checkout); connections are recycled hourly instead.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, InvalidRequestError, OperationalError
from sqlalchemy.pool import NullPool, PoolResetState
from sqlalchemy.util import await_only

from switchboard.config import Settings, load_settings, normalise_database_url
from switchboard.db.asyncio_engine import AsyncConnection, AsyncEngine, create_async_engine
from switchboard.db.errors import InvalidValue
from switchboard.db.ids import MAX_ID
from switchboard.db.problems import bad_url, cannot_connect

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_BEGIN_OPTION = "sqlite_begin"
PG_POOL_SIZE = 10
PG_MAX_OVERFLOW = 10
PG_POOL_RECYCLE_S = 3600
SUPPORTED_BACKENDS = ("sqlite", "postgresql")


# A JSON NUL escape not itself escaped: an even number of backslashes (maybe none) before
# "\u0000". The text "\\u0000" (a user writing about escapes) is not a NUL.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _json_dumps(value: Any) -> str:
    """JSON for a JSON column. Refuses (``InvalidValue``) what the column cannot hold on
    PostgreSQL — integers beyond 64 bits, NUL characters (jsonb rejects ``\u0000``) — on
    every backend, so SQLite and PostgreSQL accept the same data."""
    # OPT_NON_STR_KEYS: like the standard json module, {1: x} becomes {"1": x}.
    try:
        out = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError as exc:
        raise InvalidValue("a value in the request cannot be stored as JSON (numbers must "
                           "fit in 64 bits)") from exc
    if b"\\u0000" in out and _JSON_NUL.search(out):
        raise InvalidValue(NUL_MESSAGE)
    return out.decode()


NUL_MESSAGE = "text must not contain NUL characters (\\u0000)"


def _check_parameter(value: Any) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidValue(NUL_MESSAGE)
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -MAX_ID - 1 <= value <= MAX_ID:
            raise InvalidValue("a number in the request is too large (at most 2^63-1)")


def _install_value_guard(engine: AsyncEngine) -> None:
    """Refuse, before the driver sees them, the values a database cannot take: text with
    NUL characters (PostgreSQL refuses them in ``text``; SQLite would store them and cut
    them short in some functions) and integers beyond 64 bits (SQLite raises
    ``OverflowError``, asyncpg a ``DataError``). Whatever the route or the column, the
    caller gets a 4xx (``db.errors.InvalidValue``) instead of a 500. One pass over the
    parameters of each statement: a few comparisons, far below a query's cost."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _guard(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
               executemany: bool) -> None:
        _check_parameters(parameters)


_HARMLESS: frozenset[type] = frozenset({float, bool, type(None), bytes, Decimal, datetime,
                                         date})
"""Exact types no database refuses (checked by ``type() is``: a subclass of ``str`` or
``int`` still takes the full check)."""


def _check_parameters(parameters: Any) -> None:
    """Every value in a statement's parameters: a dict or a sequence, or (executemany)
    a list of them; "insertmanyvalues" batches arrive as one flat sequence.

    The common exact types are checked inline (a usage batch passes ~15 values a row
    through here); anything else goes through ``_check_parameter`` as before."""
    values = parameters.values() if isinstance(parameters, dict) else parameters
    for value in values or ():
        kind = type(value)
        if kind is str:
            if "\x00" in value:
                raise InvalidValue(NUL_MESSAGE)
        elif kind is int:
            if not -MAX_ID - 1 <= value <= MAX_ID:
                _check_parameter(value)
        elif kind in _HARMLESS:
            continue
        elif isinstance(value, list | tuple | dict):
            _check_parameters(value)
        else:
            _check_parameter(value)


def database_url(url: str | None = None) -> str:
    """``url`` with its async driver, or the configured one (``SWITCHBOARD_DATABASE_URL``
    or SQLite in ``SWITCHBOARD_DATA_DIR``)."""
    if url:
        return normalise_database_url(url)
    return load_settings().database_url


def safe_url(url: str | URL) -> str:
    """The URL with any password masked, fit for messages and logs."""
    parsed = url if isinstance(url, URL) else parse_database_url(url)
    return parsed.render_as_string(hide_password=True)


def create_engine(
    settings: Settings | None = None,
    *,
    url: str | None = None,
    pooled: bool = True,
    sqlite_foreign_keys: bool = True,
    sqlite_busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> AsyncEngine:
    """An engine for the configured database (``url`` overrides ``settings``).

    ``pooled=False`` gives a pool-less engine for one-shot jobs (migrations, CLI commands)
    that must not leave connections behind. ``sqlite_foreign_keys=False`` is for migrations
    only: SQLite cannot change that pragma inside a transaction, and a table rebuild (batch
    ALTER) with foreign keys ON would cascade-delete the children of the rebuilt table.
    """
    raw = url or (settings or load_settings()).database_url
    parsed = parse_database_url(raw)
    kwargs: dict[str, Any] = {
        "json_serializer": _json_dumps, "json_deserializer": orjson.loads,
        # Never put SQL parameters in exception messages or SQL logging: they hold CSRF
        # tokens, token and password hashes and key ciphertexts, and an exception's text
        # ends up in the log (decision 0016).
        "hide_parameters": True,
    }
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_path(parsed)
        if not pooled:
            kwargs["poolclass"] = NullPool
        kwargs["pool_reset_on_return"] = None  # _on_reset rolls back only what is open
        engine = _create(parsed, kwargs)
        _install_sqlite_hooks(engine, foreign_keys=sqlite_foreign_keys,
                              busy_timeout_ms=sqlite_busy_timeout_ms)
        _install_value_guard(engine)
        return engine
    if pooled:
        kwargs.update(
            pool_size=PG_POOL_SIZE, max_overflow=PG_MAX_OVERFLOW, pool_recycle=PG_POOL_RECYCLE_S
        )
    else:
        kwargs["poolclass"] = NullPool
    engine = _create(parsed, kwargs)
    _install_value_guard(engine)
    return engine


def parse_database_url(raw: str) -> URL:
    """The URL, parsed, of a database we can drive; else a one-line ``DatabaseConfigError``
    (see ``db.problems``) instead of SQLAlchemy's traceback."""
    try:
        parsed = make_url(normalise_database_url(raw))
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        raise bad_url("is not a database URL") from None
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise bad_url(f"names a database Switchboard does not support ({backend!r})")
    return parsed


def _create(url: URL, kwargs: dict[str, Any]) -> AsyncEngine:
    try:
        return create_async_engine(url, **kwargs)
    except (ArgumentError, InvalidRequestError, ImportError):
        # NoSuchModuleError (an unknown driver) is an ArgumentError; a sync driver such as
        # psycopg2 is an InvalidRequestError; a known driver not installed, ImportError.
        raise bad_url(f"names a driver that is not installed or not asynchronous "
                      f"({url.drivername!r}; use postgresql+asyncpg or sqlite+aiosqlite)"
                      ) from None


def _prepare_sqlite_path(url: URL) -> None:
    """Create the database file's directory, private to this user (it holds the keys'
    ciphertexts and, by default, the master key file)."""
    path = url.database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    directory = Path(path).expanduser().parent
    if not directory.exists():
        try:
            directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.chmod(directory, 0o700)  # mkdir's mode is filtered by the umask
        except OSError as exc:
            raise cannot_connect(url, exc, doing=f"create the directory {directory} for") from None


def _ensure_wal(cursor: Any, busy_timeout_ms: int) -> None:
    """Switch the database to WAL once (the mode is stored in the file).

    Switching needs an exclusive lock. On a new database still in rollback-journal mode,
    a connection that asks while another holds the write lock (several processes starting
    at once, one migrating) gets SQLITE_BUSY at once: SQLite skips the busy handler where
    waiting could deadlock (https://www.sqlite.org/c3ref/busy_handler.html). So: read
    the mode first (no lock needed when it is already WAL), and retry the switch for up to
    the busy timeout. Runs in the driver's connection thread, where sleeping blocks nothing
    else.
    """
    import time

    cursor.execute("PRAGMA journal_mode")
    row = cursor.fetchone()
    if row is not None and str(row[0]).lower() == "wal":
        return
    deadline = time.monotonic() + busy_timeout_ms / 1000
    delay = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:  # the driver's OperationalError, maybe adapted
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.2)


def _install_sqlite_hooks(engine: AsyncEngine, *, foreign_keys: bool,
                          busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see module doc)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            _ensure_wal(cursor, busy_timeout_ms)
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        """Emit our BEGIN in ONE trip to aiosqlite's thread (``execute_fetchall``: the
        cursor is made, run and dropped there) instead of the three of
        ``exec_driver_sql`` (cursor, execute, close): a trip is most of what a short
        write transaction costs (decision 0197). An error comes back as SQLAlchemy's
        ``OperationalError`` around the driver's, as ``exec_driver_sql`` would raise it."""
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "")
        begin = f"BEGIN {mode}" if mode in ("IMMEDIATE", "EXCLUSIVE") else "BEGIN"
        fetchall = getattr(connection.connection.driver_connection, "execute_fetchall", None)
        if fetchall is None:  # not through aiosqlite
            connection.exec_driver_sql(begin)
            return
        try:
            await_only(fetchall(begin))
        except sqlite3.Error as exc:
            raise OperationalError(begin, None, exc) from exc

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(dbapi_connection: Any, _record: Any, state: PoolResetState) -> None:
        """A connection back in the pool is rolled back only if SQLite says a
        transaction is still open: after a COMMIT there is none, and the pool's default
        ROLLBACK would be one more trip to aiosqlite's thread per unit of work (decision
        0197). ``in_transaction`` is sqlite3's own flag, read while that thread is idle
        (the connection is being checked in, nothing runs on it)."""
        if state.terminate_only or not state.asyncio_safe:
            return
        driver = getattr(dbapi_connection, "driver_connection", None)
        if getattr(driver, "in_transaction", True):  # True: not aiosqlite, so ask anyway
            dbapi_connection.rollback()


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit (an async session cannot
    lazily refresh an expired attribute).

    Imports the async session, and with it ``sqlalchemy.orm``, here rather than with this
    module: see the module doc (decision 0237)."""
    from sqlalchemy.ext.asyncio.session import async_sessionmaker

    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


@asynccontextmanager
async def unit_of_work(
    sessionmaker: async_sessionmaker[AsyncSession], *, read_only: bool = False,
) -> AsyncIterator[AsyncSession]:
    """One transaction: commit when the block ends normally, roll back if it raises.

    On SQLite a writing unit of work starts with ``BEGIN IMMEDIATE``: a deferred
    transaction that reads and then writes fails at once with "database is locked"
    (SQLITE_BUSY_SNAPSHOT, which the busy timeout does not cover) if another connection
    committed in between; taking the write lock up front makes it wait its turn instead.

    ``read_only=True`` is for pure reads: a plain (deferred) ``BEGIN``, which on SQLite in
    WAL mode never waits for the write lock, so a long write elsewhere (another process,
    a migration, the CLI) does not stall the pages and ``/v1`` calls that only read
    (decision 0027). Writing inside one is a bug; on SQLite it may fail when it races.
    """
    async with sessionmaker() as session, session.begin():
        if (not read_only and session.bind is not None
                and session.bind.dialect.name == "sqlite"):
            await session.connection(execution_options={SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        yield session


@asynccontextmanager
async def transaction(engine: AsyncEngine, *, read_only: bool = False,
                      ) -> AsyncIterator[AsyncConnection]:
    """One transaction on a Core connection, with ``unit_of_work``'s rules: commit when
    the block ends normally, roll back if it raises; on SQLite a writing one starts with
    ``BEGIN IMMEDIATE`` and ``read_only=True`` with a plain ``BEGIN`` (see there)."""
    async with engine.connect() as conn:
        if not read_only and engine.dialect.name == "sqlite":
            await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
        async with conn.begin():
            yield conn


class Database:
    """An engine and its session factory: create one per process, ``dispose()`` at exit.

    The session factory is made with the first session (``sqlalchemy.orm`` with it)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        if self._sessionmaker is None:
            self._sessionmaker = create_sessionmaker(self.engine)
        return self._sessionmaker

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Database:
        return cls(create_engine(settings))

    @classmethod
    def from_url(cls, url: str, *, pooled: bool = True) -> Database:
        return cls(create_engine(url=url, pooled=pooled))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def unit_of_work(self, *, read_only: bool = False
                     ) -> AbstractAsyncContextManager[AsyncSession]:
        """``async with db.unit_of_work() as session:`` — one transaction.
        ``read_only=True`` for pure reads: it never takes SQLite's write lock."""
        return unit_of_work(self.sessionmaker, read_only=read_only)

    def session(self) -> AsyncSession:
        """A bare session (for reads; begin transactions yourself)."""
        return self.sessionmaker()

    def session_on(self, conn: AsyncConnection) -> AsyncSession:
        """A session inside ``conn``'s transaction (``async with db.session_on(conn)``):
        ORM work joined to a Core transaction that mostly needs none, so the ORM loads
        only when there is such work. Closing it leaves the transaction to ``conn``."""
        return self.sessionmaker(bind=conn)

    def transaction(self, *, read_only: bool = False
                    ) -> AbstractAsyncContextManager[AsyncConnection]:
        """``async with db.transaction() as conn:`` — one transaction on a Core connection
        (no ORM). ``read_only=True`` for pure reads: it never takes SQLite's write lock."""
        return transaction(self.engine, read_only=read_only)

    async def dispose(self) -> None:
        await self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({safe_url(self.engine.url)})"
