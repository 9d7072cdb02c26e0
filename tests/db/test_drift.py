"""The tables and the migrations describe the same schema, on every database.

A change to ``switchboard/db/tables.py`` without a migration (or the reverse) fails here;
the message lists what Alembic's autogenerate would write.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import Connection

from switchboard.db import Database
from switchboard.db.models import Base


def _diff(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(
        conn, opts={"compare_type": True, "compare_server_default": True}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_models_and_migrations_agree(migrated_database_url: str) -> None:
    db = Database.from_url(migrated_database_url, pooled=False)
    try:
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await db.dispose()
    assert diff == [], "tables.py and migrations/ differ; write a migration:\n" + "\n".join(
        map(str, diff)
    )


async def test_drift_check_notices_a_missing_migration(migrated_database_url: str) -> None:
    """The check can fail: drop an index the tables declare and it is reported."""
    db = Database.from_url(migrated_database_url, pooled=False)
    try:
        async with db.engine.begin() as conn:
            await conn.exec_driver_sql("DROP INDEX ix_usage_events_model_created_at")
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await db.dispose()
    assert [(d[0], d[1].name) for d in diff] == [("add_index", "ix_usage_events_model_created_at")]
