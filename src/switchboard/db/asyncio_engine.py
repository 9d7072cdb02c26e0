"""SQLAlchemy's asyncio *engine*, imported without its asyncio *session* (decision 0237).

``sqlalchemy/ext/asyncio/__init__.py`` imports the async session and with it all of
``sqlalchemy.orm`` (~6 MB resident, 40 modules), though an ``AsyncEngine`` and its
``AsyncConnection`` need none of it. The package is registered unexecuted
(``switchboard.packages``), so importing ``sqlalchemy.ext.asyncio.engine`` by its path
loads the engine alone; the first ``from sqlalchemy.ext.asyncio import AsyncSession``
anywhere (the ORM's ``db.orm``, a REST service, Alembic) then completes the package.

Import the engine names from here, and the session ones under ``TYPE_CHECKING`` or where
a session is made (``db.engine.create_sessionmaker``).
"""

from __future__ import annotations

from switchboard.packages import unexecuted

unexecuted("sqlalchemy.ext.asyncio")

from sqlalchemy.ext.asyncio.engine import (  # noqa: E402  (after the registration)
    AsyncConnection,
    AsyncEngine,
    create_async_engine,
)

__all__ = ["AsyncConnection", "AsyncEngine", "create_async_engine"]
