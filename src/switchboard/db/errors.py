"""What went wrong in the database, in the two classes a caller can act on.

- ``InvalidValue``: a value the database cannot store or compare (a NUL character in text,
  which PostgreSQL refuses in ``text`` and ``jsonb``; an integer beyond 64 bits). It is
  the caller's input, so the API answers 4xx, not 500. ``engine`` raises it before the
  statement reaches the driver, on every backend, so SQLite and PostgreSQL agree.
- *busy* (``is_busy``): the database did not answer in time or refused a connection (the
  SQLite write lock held past the busy timeout by another process, the connection pool
  exhausted, PostgreSQL restarting or out of connections). Nothing is wrong with the
  request: the API answers 503 with ``Retry-After``.

Classification reads exception types and SQLite's messages (sqlite3 has one
``OperationalError`` for everything: https://www.sqlite.org/rescode.html), unwrapping
SQLAlchemy's wrappers, so callers need not know which driver raised.
"""

from __future__ import annotations

import sqlite3

from sqlalchemy import exc as sa_exc

BUSY_RETRY_AFTER_S = 2
"""What a 503 for a busy database tells the caller to wait before retrying."""

_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")
_PG_BUSY = ("CannotConnectNowError", "TooManyConnectionsError", "ConnectionDoesNotExistError",
            "ConnectionFailureError", "ConnectionRejectionError", "ClientCannotConnectError",
            "LockNotAvailableError", "QueryCanceledError", "DeadlockDetectedError",
            "PostgresConnectionError")
_PG_INVALID = ("CharacterNotInRepertoireError", "UntranslatableCharacterError",
               "NumericValueOutOfRangeError", "DataError")


class InvalidValue(ValueError):
    """A value the database cannot hold; the message says which kind, never the value."""


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and what it wraps (SQLAlchemy's ``orig``, ``__cause__``), outermost first."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return seen


def invalid_value(exc: BaseException) -> InvalidValue | None:
    """The ``InvalidValue`` behind ``exc``, or one describing PostgreSQL's refusal of a
    value (text it cannot encode, a number out of range)."""
    for err in _chain(exc):
        if isinstance(err, InvalidValue):
            return err
        if type(err).__name__ in _PG_INVALID:
            return InvalidValue("a value in the request cannot be stored (text must not "
                                "contain NUL characters; numbers must fit in 64 bits)")
    return None


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database is busy or unreachable right now"."""
    for err in _chain(exc):
        if isinstance(err, sa_exc.TimeoutError):  # the connection pool stayed full
            return True
        if isinstance(err, sa_exc.DBAPIError) and err.connection_invalidated:
            return True
        if isinstance(err, sqlite3.OperationalError | sa_exc.OperationalError) and any(
                text in str(err) for text in _SQLITE_BUSY):
            return True
        if isinstance(err, ConnectionError | TimeoutError):
            return True
        if type(err).__name__ in _PG_BUSY:
            return True
    return False
