"""INSERT ... ON CONFLICT for the backend in use (SQLite and PostgreSQL spell it alike,
but SQLAlchemy builds it from each dialect's own ``insert``).

The dialect's module is imported when a statement is built for it, i.e. when that
backend's engine is in use: importing ``sqlalchemy.dialects.postgresql`` at module level
put the PostgreSQL dialect into every SQLite server (~1.7 MB resident, decision 0183).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, overload

from switchboard.db.engine import SUPPORTED_BACKENDS

if TYPE_CHECKING:  # for the type checker only: importing it is what this module avoids
    from sqlalchemy.dialects.postgresql import Insert as PostgresqlInsert


@overload
def upsert_insert(dialect: Literal["postgresql"]) -> Callable[..., PostgresqlInsert]: ...
@overload
def upsert_insert(dialect: str) -> Callable[..., Any]: ...


def upsert_insert(dialect: str) -> Callable[..., Any]:
    """The ``insert`` of ``dialect`` ("sqlite" or "postgresql"), whose statements have
    ``on_conflict_do_update`` / ``on_conflict_do_nothing`` and ``excluded``."""
    if dialect not in SUPPORTED_BACKENDS:
        raise RuntimeError(f"upserts support SQLite and PostgreSQL, not {dialect}")
    insert: Callable[..., Any] = importlib.import_module(f"sqlalchemy.dialects.{dialect}").insert
    return insert
