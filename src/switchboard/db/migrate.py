"""Schema migrations, as a Python API (the ``switchboard db`` CLI and server start use it).

The Alembic scripts ship inside the package (``switchboard/db/migrations``) and Alembic is
configured here in code, so no ``alembic.ini`` is needed in the working directory.

Every command runs in ONE transaction on one connection, which makes a migration atomic on
both databases (PostgreSQL and — with our explicit ``BEGIN`` — SQLite have transactional
DDL) and lets us serialise concurrent runs:

- PostgreSQL: ``pg_advisory_xact_lock`` first, so when several server processes start at
  once, one migrates and the others wait, then find the schema already at head.
- SQLite: ``BEGIN IMMEDIATE`` takes the write lock up front (other processes wait up to the
  busy timeout). Foreign keys are OFF on the migration connection (a batch table rebuild
  would otherwise cascade deletes) and ``PRAGMA foreign_key_check`` must pass before commit.
"""

from __future__ import annotations

import re
import tempfile
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection

from switchboard.db.asyncio_engine import AsyncConnection
from switchboard.db.engine import SQLITE_BEGIN_OPTION, create_engine, database_url, safe_url
from switchboard.db.problems import connecting
from switchboard.spec.errors import SwitchboardError

if TYPE_CHECKING:  # Alembic is imported only when a migration actually runs
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# A fixed key for pg_advisory_xact_lock (takes a bigint), derived from a name so it is recognisable.
ADVISORY_LOCK_KEY = zlib.crc32(b"switchboard.db.migrate")


class MigrationError(SwitchboardError):
    """A migration command could not run (unknown revision, database ahead of the code…)."""

    code = "migration_error"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic ``Config`` pointing at the packaged scripts (no ini file involved)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["url"] = database_url(url)
    return cfg


def head() -> str:
    """The newest revision this version of Switchboard knows."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(":memory:"))
    rev = script.get_current_head()
    assert rev is not None, "no migration scripts found"
    return rev


MIGRATION_BUSY_TIMEOUT_MS = 120_000


@asynccontextmanager
async def migration_connection(url: str | None = None) -> AsyncIterator[AsyncConnection]:
    """A connection inside one locked transaction, committed when the block succeeds."""
    url = database_url(url)
    # Waiting for another process's migration is the expected case at start-up, and a
    # migration on a loaded machine can hold the lock for seconds: wait up to 2 minutes.
    engine = create_engine(url=url, pooled=False, sqlite_foreign_keys=False,
                           sqlite_busy_timeout_ms=MIGRATION_BUSY_TIMEOUT_MS)
    try:
        async with connecting(engine) as conn:
            sqlite = engine.dialect.name == "sqlite"
            if sqlite:
                await conn.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            async with conn.begin():
                if engine.dialect.name == "postgresql":
                    await conn.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                    )
                yield conn
                if sqlite:
                    await _check_sqlite_foreign_keys(conn)
    finally:
        await engine.dispose()


async def _check_sqlite_foreign_keys(conn: AsyncConnection) -> None:
    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise MigrationError(
            f"migration left rows with dangling foreign keys in {', '.join(tables)}; "
            "nothing was changed (the migration was rolled back)"
        )


async def _run(url: str | None, action: Callable[[Config], None]) -> str | None:
    """Run an Alembic command on a locked connection; return the revision afterwards."""
    cfg = alembic_config(url)

    def in_transaction(sync_conn: Connection) -> str | None:
        from alembic.util.exc import CommandError

        cfg.attributes["connection"] = sync_conn
        try:
            action(cfg)
        except CommandError as exc:
            raise MigrationError(f"{exc} (database: {safe_url(cfg.attributes['url'])})") from exc
        return _revision_of(sync_conn)

    async with migration_connection(cfg.attributes["url"]) as conn:
        return await conn.run_sync(in_transaction)


def _revision_of(sync_conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(sync_conn).get_current_revision()


async def upgrade(url: str | None = None, revision: str = "head") -> str | None:
    """Upgrade to ``revision`` (default: the newest); idempotent. Returns the new revision."""
    def action(cfg: Config) -> None:
        from alembic import command

        command.upgrade(cfg, revision)

    return await _run(url, action)


async def downgrade(url: str | None = None, revision: str = "-1") -> str | None:
    """Downgrade to ``revision`` (default: one step back; ``base`` = empty schema)."""
    if revision != "base":
        current_rev = await current(url)
        if current_rev is None:
            raise MigrationError(
                f"cannot downgrade {safe_url(database_url(url))}: it has no schema yet "
                "(nothing to undo)"
            )
    def action(cfg: Config) -> None:
        from alembic import command

        command.downgrade(cfg, revision)

    return await _run(url, action)


async def current(url: str | None = None) -> str | None:
    """The database's revision, or None for an empty (never migrated) database."""
    engine = create_engine(url=database_url(url), pooled=False)
    try:
        async with connecting(engine) as conn:
            return await conn.run_sync(_revision_of)
    finally:
        await engine.dispose()


# The newest revision shipped. ``ensure_schema`` compares the database with it using one
# plain query, so a server whose schema is current never imports Alembic (about 7 MB of
# resident memory and its script parsing). tests/db/test_migrations.py keeps it equal to
# the scripts' head.
HEAD = "0029_image_edits"


async def _revision_sql(url: str | None) -> str | None:
    """``alembic_version``'s value by plain SQL; ``None`` if the table does not exist."""
    engine = create_engine(url=database_url(url), pooled=False)
    try:
        async with connecting(engine) as conn:
            exists = await conn.run_sync(
                lambda c: c.dialect.has_table(c, "alembic_version"))
            if not exists:
                return None
            row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
            return str(row[0]) if row is not None else None
    finally:
        await engine.dispose()


async def at_head(url: str | None = None) -> bool:
    """Whether the database is at this version's head, by plain SQL (no Alembic): the
    question every start asks first."""
    return await _revision_sql(url) == HEAD


async def ensure_schema(url: str | None = None) -> str:
    """Bring the database to head at server start; cheap when it already is.

    Safe when several processes start at once (see the module docstring). Refuses to run
    against a database migrated by a NEWER Switchboard, instead of failing obscurely later.
    """
    if await at_head(url):
        return HEAD
    newest = head()
    rev = await current(url)
    if rev == newest:
        return rev
    if rev is not None and not _known(rev):
        raise MigrationError(
            f"the database {safe_url(database_url(url))} is at revision {rev!r}, which this "
            f"version of Switchboard does not know (newest here: {newest!r}); upgrade "
            "Switchboard, or point SWITCHBOARD_DATABASE_URL at another database"
        )
    after = await upgrade(url)
    assert after == newest, f"upgrade stopped at {after!r}, expected {newest!r}"
    return after


async def revision(message: str, *, directory: Path | None = None) -> Path:
    """Write the next migration script, generated from the schema (``db.tables``; Alembic
    autogenerate).

    The schema is compared with a scratch SQLite database migrated to head, not with the
    configured database: that one may be behind, ahead or holding data, and the script
    must describe the step from head to the schema whatever it is. The script is named
    and numbered like the others (``0010_budgets.py``, revision ``0010_budgets``, after the
    current head), rendered for batch mode so its ALTERs also run on SQLite. Nothing is
    written when schema and migrations already agree. Read and edit the result (data
    moves, server defaults, CHECK constraints are not detected): docs/howto/add-a-migration.md.
    """
    from alembic.operations.ops import MigrationScript

    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]
    if not slug:
        raise MigrationError("give the migration a name with letters or digits, such as "
                             "'add budgets'")
    current_head = head()
    number = int(current_head.split("_", 1)[0]) + 1
    rev_id = f"{number:04d}_{slug}"
    written: list[Path] = []

    def check(_context: object, _revision: object, directives: list[MigrationScript]) -> None:
        if directives and directives[0].upgrade_ops is not None \
                and directives[0].upgrade_ops.is_empty():
            directives.clear()  # nothing differs: write no file

    def action(cfg: Config) -> None:
        from alembic import command

        cfg.set_main_option("file_template", "%%(rev)s")
        if directory is not None:  # tests: write elsewhere, still chained on ours
            cfg.set_main_option("version_locations",
                                f"{MIGRATIONS_DIR / 'versions'} {directory}")
            cfg.set_main_option("path_separator", "space")
        scripts = command.revision(
            cfg, message=message, autogenerate=True, rev_id=rev_id,
            version_path=str(directory) if directory is not None else None,
            process_revision_directives=check)
        for script in scripts if isinstance(scripts, list) else [scripts]:
            if script is not None:
                written.append(Path(script.path))

    with tempfile.TemporaryDirectory(prefix="switchboard-revision-") as scratch:
        url = f"sqlite+aiosqlite:///{Path(scratch) / 'head.db'}"
        await upgrade(url)
        await _run(url, action)
    if not written:
        raise MigrationError(f"the tables and the migrations already agree (head: "
                             f"{current_head}); nothing to generate")
    return written[0]


def _known(rev: str) -> bool:
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    script = ScriptDirectory.from_config(alembic_config(":memory:"))
    try:
        return script.get_revision(rev) is not None
    except CommandError:
        return False


def describe(rev: str | None) -> str:
    """``0002_accounts_chat_usage`` -> ``0002_accounts_chat_usage (head)``; None -> ``(empty)``."""
    if rev is None:
        return "(empty: no schema)"
    return f"{rev} (head)" if rev == head() else rev


__all__ = [
    "ADVISORY_LOCK_KEY",
    "MIGRATIONS_DIR",
    "MigrationError",
    "alembic_config",
    "current",
    "describe",
    "downgrade",
    "ensure_schema",
    "head",
    "migration_connection",
    "revision",
    "upgrade",
]
