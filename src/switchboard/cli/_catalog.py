"""Shared plumbing of the catalog commands (``providers``, ``keys``, ``models`` add/...).

Each command opens the configured database without a pool (a CLI call must leave no
connection behind), brings the schema to head, seeds a first run, runs ONE service call,
and disposes the engine. Changes are audited with the actor ``cli``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from switchboard.db import Database


@asynccontextmanager
async def catalog_db() -> AsyncIterator[Database]:
    from switchboard.config import load_settings
    from switchboard.db import Database, migrate
    from switchboard.services.seed import seed_catalog

    url = load_settings().database_url
    db = Database.from_url(url, pooled=False)
    try:
        await migrate.ensure_schema(url)
        await seed_catalog(db)
        yield db
    finally:
        await db.dispose()


def cli_actor() -> Any:
    from switchboard.services.audit import CLI

    return CLI


def parse_settings(pairs: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a VALUE that parses as JSON (30, true, {"a":1}) is taken as
    such, anything else as a string."""
    from switchboard.services.errors import ValidationFailed

    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ValidationFailed(f"--set expects KEY=VALUE, got {pair!r}", field="settings")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        out[key.strip()] = value
    return out


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, default=str))


def stdin_is_terminal() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False
