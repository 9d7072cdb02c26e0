"""Alembic environment, run by every ``switchboard.db.migrate`` command.

Normally ``switchboard.db.migrate`` hands us an open, locked connection inside a transaction
(``config.attributes["connection"]``) and commits it itself. Run standalone (the ``alembic``
command with a config pointing here), we open one the same way through
``migrate.migration_connection``. Offline mode (``--sql``) renders SQL for the given URL.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import TextClause
from sqlalchemy.engine import Connection
from sqlalchemy.sql.elements import False_, True_
from sqlalchemy.sql.functions import now
from sqlalchemy.sql.schema import DefaultClause

from switchboard.db import types as column_types
from switchboard.db.models import Base

config = context.config
target_metadata = Base.metadata


def _render_item(kind: str, obj: Any, autogen: AutogenContext) -> str | Literal[False]:
    """How ``switchboard db revision`` writes what Alembic would render for ONE dialect
    (the scratch SQLite database): our column types by their import (Alembic would write
    ``switchboard.db.types.UTCDateTime`` without importing it), and server defaults as
    the portable expressions the tables use (``sa.false()``, ``sa.func.now()``) instead
    of SQLite's ``'0'`` and ``(CURRENT_TIMESTAMP)``, which PostgreSQL would refuse or
    read differently. False: Alembic's own rendering."""
    if kind == "type" and type(obj).__module__ == column_types.__name__:
        name = type(obj).__name__
        autogen.imports.add(f"from {column_types.__name__} import {name}")
        return f"{name}()"
    if kind == "server_default" and isinstance(obj, DefaultClause):
        arg = obj.arg
        if isinstance(arg, False_):
            return "sa.false()"
        if isinstance(arg, True_):
            return "sa.true()"
        if isinstance(arg, now):
            return "sa.func.now()"
        if isinstance(arg, TextClause):
            return f"sa.text({arg.text!r})"
    return False


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
        render_item=_render_item,
        **kwargs,  # type: ignore[arg-type]
    )


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    from switchboard.db.engine import database_url

    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    url = database_url(url)
    _configure(
        url=url,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from switchboard.db.migrate import migration_connection

    async def standalone() -> None:
        url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
        async with migration_connection(url) as conn:
            await conn.run_sync(_run)

    asyncio.run(standalone())


if context.is_offline_mode():
    run_offline()
else:
    run_online()
