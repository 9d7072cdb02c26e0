"""Column types that behave the same on SQLite and PostgreSQL.

- ``BigIntPK``: BIGINT identity on PostgreSQL, but plain INTEGER on SQLite, because only an
  ``INTEGER PRIMARY KEY`` column is SQLite's auto-incrementing rowid alias.
- ``UTCDateTime``: always timezone-aware UTC in Python. PostgreSQL stores ``timestamptz``;
  SQLite has no time zones, so the value is stored as naive UTC text and the zone is put
  back on read. A naive datetime is rejected on write: it is almost always a bug
  (``datetime.now()`` instead of ``utcnow()``), and guessing its zone would corrupt data.
- ``JSONType``: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
- ``partial_index``: an index over the rows a WHERE clause selects, on both backends.

Nothing here imports a dialect's module: the PostgreSQL dialect (JSONB, ``postgresql_*``
index options) is loaded only when PostgreSQL is in use (decision 0183), so a SQLite
server does not carry it (~1.7 MB resident, ~30 ms at start).
- ``Money`` / ``PricePerMillion``: exact decimals. PostgreSQL keeps them exact; SQLite stores
  NUMERIC as a double, which is exact to ~15 significant digits — ample for costs, and the
  scale is restored on read.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Dialect, Index, Integer, Numeric, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import CreateIndex
from sqlalchemy.sql.compiler import DDLCompiler
from sqlalchemy.types import TypeDecorator, TypeEngine

BigIntPK = BigInteger().with_variant(Integer(), "sqlite")
Money = Numeric(20, 10)
"""A cost in US dollars (10 decimals: one token at $0.01 per million is 1e-8)."""
PricePerMillion = Numeric(14, 6)
"""A price in US dollars per million tokens."""


class _JSONType(TypeDecorator[Any]):
    """JSON, stored as JSONB on PostgreSQL.

    ``JSON().with_variant(JSONB(), "postgresql")`` said the same but needs a ``JSONB``
    instance when the models are declared, i.e. the PostgreSQL dialect imported on every
    backend; here JSONB is chosen when a PostgreSQL connection asks for the type."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            # the dialect's own module, already imported by the PostgreSQL engine in use
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


JSONType = _JSONType()


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """``CREATE [UNIQUE] INDEX name ON ... (columns) WHERE where`` on SQLite and PostgreSQL.

    SQLite's option is given as such; PostgreSQL's is added when the index's DDL is
    compiled for PostgreSQL (``_postgresql_partial_index``): naming ``postgresql_where``
    at declaration would make SQLAlchemy import the PostgreSQL dialect to validate the
    keyword, on every backend (decision 0183)."""
    return Index(name, *columns, unique=unique, sqlite_where=text(where),
                 info={"where": where})


@compiles(CreateIndex, "postgresql")
def _postgresql_partial_index(create: CreateIndex, compiler: DDLCompiler,
                              **kw: Any) -> str:
    """PostgreSQL's WHERE for a ``partial_index``, set now that its dialect is loaded."""
    index = create.element
    where = index.info.get("where")
    if where is not None and index.dialect_options["postgresql"]["where"] is None:
        index.dialect_kwargs["postgresql_where"] = text(where)
    sql: str = compiler.visit_create_index(create, **kw)  # type: ignore[no-untyped-call]
    return sql


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
