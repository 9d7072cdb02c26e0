"""Persistence: the schema (``tables``, SQLAlchemy Core) and its ORM mapping (``models``),
the engine and unit of work (``engine``) and the migrations (``migrate``, Alembic scripts
shipped in ``migrations/``).

Typical use in a process::

    db = Database.from_settings()          # once, at startup
    async with db.unit_of_work() as session:
        session.add(models.Provider(name="openai", kind="openai"))
    await db.dispose()                     # at shutdown
"""

from switchboard.db.engine import (
    Database,
    create_engine,
    create_sessionmaker,
    database_url,
    safe_url,
    unit_of_work,
)
from switchboard.db.types import utcnow

__all__ = [
    "Database",
    "create_engine",
    "create_sessionmaker",
    "database_url",
    "safe_url",
    "unit_of_work",
    "utcnow",
]
