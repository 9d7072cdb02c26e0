"""A database that cannot be used, said in one line that names the setting to fix.

A wrong ``SWITCHBOARD_DATABASE_URL`` (malformed, an unknown driver, a port where nothing
listens, a missing database, a rejected user or password) used to surface as the
driver's 150-line traceback. The two places where it shows up are translated here into a
``DatabaseConfigError`` — a ``ConfigurationError``, which every CLI command prints as one
``error: ...`` line with exit status 1:

- building the engine (``engine.create_engine``): the URL itself is wrong;
- opening the first connection (``connecting``, used by the migration helpers that every
  command and the server run first): the database is not there or refuses us.

Only those two moments are translated: a database that fails *later*, under a running
server, keeps its own errors (and handlers). The message never contains the password:
it names host, port and database only, and is passed through ``spec.redaction.redact``
with the password in case the driver's own text repeats it.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from switchboard.db.asyncio_engine import AsyncConnection, AsyncEngine
from switchboard.spec.errors import ConfigurationError
from switchboard.spec.redaction import redact

URL_ENV = "SWITCHBOARD_DATABASE_URL"
DATA_DIR_ENV = "SWITCHBOARD_DATA_DIR"
EXAMPLES = ("postgresql://USER:PASSWORD@HOST:5432/DATABASE or "
            "sqlite:///PATH/TO/switchboard.db")


class DatabaseConfigError(ConfigurationError):
    """The configured database cannot be used; the message says which setting to fix."""

    code = "database_unavailable"


def setting() -> str:
    """The variable the operator set (or should look at) for the database."""
    return URL_ENV if os.environ.get(URL_ENV) else DATA_DIR_ENV


def bad_url(reason: str) -> DatabaseConfigError:
    """The URL cannot even be parsed or names nothing we can drive. The URL is not
    repeated: unparsed, its password cannot be told from the rest."""
    return DatabaseConfigError(f"{URL_ENV} {reason}; expected {EXAMPLES}")


def _where(url: URL) -> str:
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database or '(in memory)'}"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"database {url.database or '(default)'!r} on {host}{port}"


def _reason(exc: BaseException) -> str:
    """The driver's own words, first line, without SQLAlchemy's decorations."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        cause = exc.orig.__cause__ or exc.orig
        text = str(cause)
    elif isinstance(exc, ConnectionRefusedError):
        text = "connection refused (is the server running, and on this port?)"
    elif isinstance(exc, TimeoutError):
        text = "timed out"
    elif isinstance(exc, OSError):
        text = exc.strerror or str(exc)
    else:
        text = str(exc) or type(exc).__name__
    if text.startswith("<class "):  # SQLAlchemy's adapted asyncpg errors: "<class ...>: why"
        text = text.split(": ", 1)[-1]
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def cannot_connect(url: URL, exc: BaseException, *, doing: str | None = None
                   ) -> DatabaseConfigError:
    message = f"{setting()}: cannot {doing or 'open'} {_where(url)}: {_reason(exc)}"
    return DatabaseConfigError(redact(message, (url.password,) if url.password else ()))


@asynccontextmanager
async def connecting(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """``engine.connect()``, with a failure to *connect* (not of what runs on the
    connection afterwards) turned into a one-line ``DatabaseConfigError``."""
    try:
        conn = await engine.connect()
    except (OSError, DBAPIError) as exc:
        raise cannot_connect(engine.url, exc) from None
    try:
        yield conn
    finally:
        await conn.close()
