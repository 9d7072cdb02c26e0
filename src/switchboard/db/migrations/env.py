"""Alembic environment, run by every ``switchboard.db.migrate`` command.

Normally ``switchboard.db.migrate`` hands us an open, locked connection inside a transaction
(``config.attributes["connection"]``) and commits it itself. Run standalone (the ``alembic``
command with a config pointing here), we open one the same way through
``migrate.migration_connection``. Offline mode (``--sql``) renders SQL for the given URL.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from switchboard.db.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(**kwargs: object) -> None:
    context.configure(
        target_metadata=target_metadata,
        compare_type=True,
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
