"""Bring the database to a servable state once per ``switchboard serve``, not twice.

A server needs its schema at head and its catalog seeded before the first request. Two
callers used to do it in one ``switchboard serve`` run: the CLI (before uvicorn starts, so
it can print the setup link and, with several workers, migrate once instead of in every
worker) and the app's lifespan (for anything that builds the app without the CLI: tests,
``uvicorn switchboard.api.app:create_app --factory``, embedding). With one worker both ran
in the same process, a second engine, connection and three queries on the start-up path
(decision 0199).

So the CLI, once it has prepared a database, leaves a marker in the environment, which
the workers uvicorn runs in this process or spawns inherit; the lifespan skips the work
when the marker names its own database. The marker is the shipped schema head and a
digest of the database URL (never the URL: it may carry a password), so a process
pointed at another database, or a newer Switchboard's marker, still prepares its own.
"""

from __future__ import annotations

import hashlib
import os

from switchboard.db.engine import Database
from switchboard.db.migrate import HEAD, at_head, ensure_schema
from switchboard.services.seed import is_seeded, seed_catalog

PREPARED_ENV = "SWITCHBOARD_PREPARED_DATABASE"  # internal: set by ``serve``, not by people


def _marker(database_url: str) -> str:
    digest = hashlib.sha256(database_url.encode()).hexdigest()[:32]
    return f"{HEAD} {digest}"


async def prepare_database(database_url: str, db: Database) -> None:
    """Migrate ``database_url`` to head and seed ``db``'s catalog (``db`` must be on
    that URL) unless this process's ``serve`` has already done so."""
    if os.environ.get(PREPARED_ENV) == _marker(database_url):
        return
    await ensure_schema(database_url)
    await seed_catalog(db)


async def is_prepared(database_url: str, db: Database) -> bool:
    """Whether ``database_url`` is at head with its catalog seeded: two plain reads, no
    migration tooling (``prepare_database`` would then do nothing)."""
    return await at_head(database_url) and await is_seeded(db)


def mark_prepared(database_url: str) -> None:
    """Tell the app's lifespan in this process and its children that ``database_url``
    is ready (call only after ``prepare_database`` succeeded on it)."""
    os.environ[PREPARED_ENV] = _marker(database_url)
