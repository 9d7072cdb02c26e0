"""``switchboard db upgrade [REV] | downgrade [REV] | prepare | current`` — schema
migrations.

The database is the configured one (``SWITCHBOARD_DATABASE_URL``, default SQLite in
``SWITCHBOARD_DATA_DIR``). The server also upgrades automatically at start; these commands
are for operators who migrate explicitly (e.g. before a rolling deploy) or need to go back.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "db",
        help="database schema migrations",
        description="Inspect and migrate the database schema "
        "(SWITCHBOARD_DATABASE_URL, default SQLite in SWITCHBOARD_DATA_DIR).",
    )
    parser.set_defaults(handler=lambda _args: _help(parser))
    sub = parser.add_subparsers(dest="db_command", metavar="SUBCOMMAND")

    up = sub.add_parser("upgrade", help="upgrade the schema (default: to the newest revision)")
    up.add_argument("revision", nargs="?", default="head", help="target revision (default: head)")
    up.set_defaults(handler=_upgrade)

    down = sub.add_parser("downgrade", help="downgrade the schema (default: one step back)")
    down.add_argument(
        "revision", nargs="?", default="-1",
        help="target revision: an id, -N steps back, or 'base' (default: -1)",
    )
    down.set_defaults(handler=_downgrade)

    prep = sub.add_parser(
        "prepare", help="upgrade the schema to the newest revision and seed the catalog",
        description="What 'switchboard serve' does before it starts: upgrade the schema to "
        "the newest revision and, on a new database, add the built-in providers. Run it "
        "before starting servers (a deploy step); a server then finds nothing to do.")
    prep.set_defaults(handler=_prepare)

    cur = sub.add_parser("current", help="show the database's current revision")
    cur.set_defaults(handler=_current)

    rev = sub.add_parser(
        "revision", help="write the next migration script from the schema (for contributors)",
        description="Compare src/switchboard/db/tables.py with the migrations and write the "
        "difference as the next numbered script in switchboard/db/migrations/versions. "
        "Read and edit it before committing (docs/howto/add-a-migration.md).")
    rev.add_argument("-m", "--message", required=True,
                     help="what the migration does, e.g. 'add budgets' (names the file)")
    rev.set_defaults(handler=_revision)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


async def _upgrade(args: argparse.Namespace) -> int:
    from switchboard.db import migrate

    url = _url()
    before = await migrate.current()
    after = await migrate.upgrade(revision=args.revision)
    if before == after:
        print(f"{url}: already at {migrate.describe(after)}")
    else:
        print(f"{url}: upgraded {migrate.describe(before)} -> {migrate.describe(after)}")
    return 0


async def _downgrade(args: argparse.Namespace) -> int:
    from switchboard.db import migrate

    url = _url()
    before = await migrate.current()
    after = await migrate.downgrade(revision=args.revision)
    print(f"{url}: downgraded {migrate.describe(before)} -> {migrate.describe(after)}")
    return 0


async def _prepare(_args: argparse.Namespace) -> int:
    from switchboard.config import load_settings
    from switchboard.db import Database, migrate
    from switchboard.services.database_prep import prepare_database

    settings = load_settings()
    db = Database.from_settings(settings)
    try:
        await prepare_database(settings.database_url, db)
    finally:
        await db.dispose()
    print(f"{_url()}: ready at {migrate.describe(migrate.HEAD)}, catalog seeded")
    return 0


async def _current(_args: argparse.Namespace) -> int:
    from switchboard.db import migrate

    rev = await migrate.current()
    print(migrate.describe(rev))
    return 0


async def _revision(args: argparse.Namespace) -> int:
    from switchboard.db import migrate

    path = await migrate.revision(args.message)
    print(f"wrote {path}")
    print("next: read it, then update HEAD in switchboard/db/migrate.py and REVISIONS in "
          "tests/db/test_migrations.py (docs/howto/add-a-migration.md)")
    return 0


def _url() -> str:
    """The configured database, password masked. (A database that cannot be reached is
    reported by ``db.problems`` in one line, as for every command.)"""
    from switchboard.db import database_url, safe_url

    return safe_url(database_url())
