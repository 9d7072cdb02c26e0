"""Column types that behave the same on SQLite and PostgreSQL.

- ``BigIntPK``: BIGINT identity on PostgreSQL, but plain INTEGER on SQLite, because only an
  ``INTEGER PRIMARY KEY`` column is SQLite's auto-incrementing rowid alias.
- ``UTCDateTime``: always timezone-aware UTC in Python. PostgreSQL stores ``timestamptz``;
  SQLite has no time zones, so the value is stored as naive UTC text and the zone is put
  back on read. A naive datetime is rejected on write: it is almost always a bug
  (``datetime.now()`` instead of ``utcnow()``), and guessing its zone would corrupt data.
- ``JSONType``: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
- ``Money`` / ``PricePerMillion``: exact decimals. PostgreSQL keeps them exact; SQLite stores
  NUMERIC as a double, which is exact to ~15 significant digits — ample for costs, and the
  scale is restored on read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Integer, Numeric
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeDecorator

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
JSONType = JSON().with_variant(JSONB(), "postgresql")
Money = Numeric(20, 10)
"""A cost in US dollars (10 decimals: one token at $0.01 per million is 1e-8)."""
PricePerMillion = Numeric(14, 6)
"""A price in US dollars per million tokens."""


def utcnow() -> datetime:
    """Now, timezone-aware UTC (the only kind of datetime this schema accepts)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is stored in UTC and always comes back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} given for a UTC timestamp column; "
                "pass an aware datetime, e.g. datetime.now(UTC) or switchboard.db.utcnow()"
            )
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if isinstance(value, str):  # e.g. a raw CURRENT_TIMESTAMP on SQLite
            value = datetime.fromisoformat(value)
        if not isinstance(value, datetime):
            raise TypeError(f"unexpected {type(value).__name__} in a timestamp column: {value!r}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
