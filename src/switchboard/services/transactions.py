"""Catalog writes: one transaction each, then the catalog cache is invalidated.

A database constraint that fires at commit (a concurrent duplicate name, say) becomes a
``Conflict``; the services check the common cases first so the usual message is specific.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from switchboard.db.engine import Database
from switchboard.services.cache import catalog_cache
from switchboard.services.errors import Conflict

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

_scopes: weakref.WeakKeyDictionary[Database, object] = weakref.WeakKeyDictionary()
_last: tuple[weakref.ref[Database], object] | None = None
"""The last database asked about and its token: a server has one, read three times per
call (a weak reference called is cheaper than a ``WeakKeyDictionary`` lookup)."""


def cache_scope(db: Database) -> object:
    """A token naming ``db`` in cache keys (several databases may live in one process)."""
    global _last
    last = _last
    if last is not None and last[0]() is db:
        return last[1]
    scope = _scopes.get(db)
    if scope is None:
        scope = _scopes[db] = object()
    _last = (weakref.ref(db), scope)
    return scope


@asynccontextmanager
async def catalog_write(db: Database, what: str) -> AsyncIterator[AsyncSession]:
    """``async with catalog_write(db, "adding provider 'x'") as session:``"""
    try:
        # unit_of_work() takes SQLite's write lock up front (BEGIN IMMEDIATE).
        async with db.unit_of_work() as session:
            yield session
    except IntegrityError as exc:
        constraint = _constraint_name(exc)
        raise Conflict(
            f"{what} conflicts with existing data{constraint}; nothing was changed"
        ) from None
    await catalog_cache().invalidate()


def _constraint_name(exc: IntegrityError) -> str:
    text = str(exc.orig) if exc.orig is not None else ""
    for token in ("uq_provider_models_one_default", "uq_providers_name",
                  "uq_provider_models_provider_id_model_sdk_id", "FOREIGN KEY",
                  "foreign key", "UNIQUE"):
        if token in text:
            return f" ({token})"
    return ""
