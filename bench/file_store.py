"""``python -m bench.file_store``: what keeping files' bytes in the database costs.

On a fresh migrated database (SQLite in a temporary directory, or PostgreSQL with
``--database-url``), for files of 100 kB, 2 MB and 20 MB (random bytes: pictures are
already compressed, so they do not shrink either), the median over ``-n`` files of:

- ``store``: ``files.store`` (hash, quota check, bytes, access row, commit);
- ``read``: ``files.read`` (access check and the bytes);

with the bytes in the data directory (``DirectoryBytes``) and in ``file_blobs``
(``DatabaseBytes``); on PostgreSQL also with the column's storage set to ``EXTERNAL``
(TOAST does not try to compress) instead of the default ``EXTENDED`` migration 0026
keeps.
Decision 0171 records the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from switchboard.db import Database, migrate
from switchboard.db.models import User
from switchboard.services import files
from switchboard.services.file_bytes import DatabaseBytes, DirectoryBytes, FileBytes

SIZES = {"100 kB": 100_000, "2 MB": 2_000_000, "20 MB": 20_000_000}


async def _owner(db: Database) -> int:
    async with db.unit_of_work() as session:
        user = User(username=f"bench-{os.urandom(4).hex()}", password_hash="x", role="user")
        session.add(user)
        await session.flush()
        return user.id


async def _measure(db: Database, where: FileBytes, size: int, n: int) -> tuple[float, float]:
    owner = await _owner(db)
    stores: list[float] = []
    reads: list[float] = []
    for _ in range(n):
        data = os.urandom(size)
        started = time.perf_counter()
        ref = await files.store(db, where, owner, data, "image/png")
        stores.append(time.perf_counter() - started)
        started = time.perf_counter()
        _, back = await files.read(db, where, owner, ref.sha256)
        reads.append(time.perf_counter() - started)
        assert back == data
    return statistics.median(stores) * 1000, statistics.median(reads) * 1000


async def run(url: str, root: Path, n: int) -> list[tuple[str, str, float, float]]:
    await migrate.upgrade(url)
    db = Database.from_url(url)
    stores: list[tuple[str, FileBytes]] = [
        ("directory", DirectoryBytes(root)),
        ("database", DatabaseBytes(postgresql=not db.is_sqlite))]
    rows: list[tuple[str, str, float, float]] = []
    try:
        for label, where in stores:
            for size_label, size in SIZES.items():
                rows.append((label, size_label, *await _measure(db, where, size, n)))
        if not db.is_sqlite:
            async with db.unit_of_work() as session:
                await session.execute(text(
                    "ALTER TABLE file_blobs ALTER COLUMN data SET STORAGE EXTERNAL"))
            for size_label, size in SIZES.items():
                rows.append(("database, EXTERNAL", size_label,
                             *await _measure(db, DatabaseBytes(postgresql=True), size, n)))
    finally:
        await db.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="a fresh PostgreSQL database (default: "
                        "SQLite in a temporary directory)")
    parser.add_argument("-n", type=int, default=9, help="files per store and size")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        rows = asyncio.run(run(url, Path(tmp), args.n))
    print(f"{'store':<20} {'size':>7} {'store ms':>9} {'read ms':>8}")
    for label, size, stored, read in rows:
        print(f"{label:<20} {size:>7} {stored:>9.1f} {read:>8.1f}")


if __name__ == "__main__":
    main()
