"""Where a stored file's bytes live: the data directory or the database (decision 0171).

``services.files`` keeps the access rows (``files``: owner, sha256, media type, size)
and asks one of these for the bytes. Both are content-addressed by SHA-256 and hold each
content once, whoever owns it:

- ``DirectoryBytes``: ``<data_dir>/files/<2 hex>/<sha256>`` — the embedded default (one
  process, SQLite), where multi-megabyte rows would bloat the database file.
- ``DatabaseBytes``: one ``file_blobs`` row per content — when several workers share a
  PostgreSQL, no worker's data directory is seen by the others, the database is.

Which one a process uses is configuration (``Settings.file_store``:
``SWITCHBOARD_FILE_STORE``, by default ``database`` on PostgreSQL and ``directory`` on
SQLite); the rest of the code passes the chosen one where it used to pass the data
directory (``FileRoot``: a bare ``Path`` still means the directory).

The database store writes its bytes in the same transaction as the access row, and its
garbage collection locks the blob rows before checking that no access row names them,
so a concurrent upload of the same content in another worker never ends with a row
whose bytes were deleted (decision 0171 explains the order).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import delete, exists, select

from switchboard.config import Settings
from switchboard.db import Database
from switchboard.db import models as m
from switchboard.db.upsert import upsert_insert

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class FileBytes(Protocol):
    """The bytes half of the file store. ``session`` is the unit of work that also
    writes or reads the access row; a store that is not the database ignores it."""

    @property
    def kind(self) -> str:
        """``directory`` or ``database``."""

    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> None:
        """Keep ``data`` under its ``sha256`` (idempotent)."""

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None:
        """The bytes, or None when they are gone."""

    async def drop_unreferenced(self, session: AsyncSession, candidates: list[str]) -> list[str]:
        """Of ``candidates`` (contents whose last access row this transaction may have
        deleted), the ones no access row names any more; a database store deletes their
        bytes in this transaction."""

    async def after_commit(self, dropped: list[str]) -> None:
        """Remove what ``drop_unreferenced`` chose, once its transaction committed (a
        store outside the database cannot take part in the transaction)."""


@dataclass(frozen=True, slots=True)
class DirectoryBytes:
    """Bytes under ``<root>/files/<2 hex>/<sha256>`` (decision 0081)."""

    root: Path
    kind: str = "directory"

    def path(self, sha256: str) -> Path:
        return self.root / "files" / sha256[:2] / sha256

    def _write(self, sha256: str, data: bytes) -> None:
        path = self.path(sha256)
        if path.exists():
            return  # content-addressed: the same name holds the same bytes
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{sha256}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        os.replace(temporary, path)  # a reader never sees half a file

    def _read(self, sha256: str) -> bytes | None:
        try:
            return self.path(sha256).read_bytes()
        except FileNotFoundError:
            return None

    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, sha256, data)

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None:
        return await asyncio.to_thread(self._read, sha256)

    async def drop_unreferenced(self, session: AsyncSession, candidates: list[str]) -> list[str]:
        return [sha for sha in candidates if await session.scalar(
            select(m.StoredFile.id).where(m.StoredFile.sha256 == sha).limit(1)) is None]

    async def after_commit(self, dropped: list[str]) -> None:
        for sha256 in dropped:
            await asyncio.to_thread(self.path(sha256).unlink, missing_ok=True)


@dataclass(frozen=True, slots=True)
class DatabaseBytes:
    """Bytes in ``file_blobs``, one row per content, written and collected in the
    caller's transaction. ``legacy``: the data directory of an install that kept its
    files there before it moved to the database (PostgreSQL before migration 0026): a
    file missing from ``file_blobs`` is read from there, and collected there too, so
    upgrading loses no picture (decision 0171)."""

    postgresql: bool
    legacy: DirectoryBytes | None = None
    kind: str = "database"

    async def put(self, session: AsyncSession, sha256: str, data: bytes) -> None:
        values = {"sha256": sha256, "size": len(data), "data": data}
        if self.postgresql:
            # DO UPDATE (of nothing that changes), not DO NOTHING: it locks the existing
            # row until this transaction commits, so a collector in another worker
            # waits and then sees the access row this transaction adds.
            statement = upsert_insert("postgresql")(m.FileBlob).values(values)
            await session.execute(statement.on_conflict_do_update(
                index_elements=[m.FileBlob.sha256], set_={"sha256": statement.excluded.sha256}))
        else:  # SQLite: one writer at a time (BEGIN IMMEDIATE), no race to lock against
            await session.execute(upsert_insert("sqlite")(m.FileBlob).values(values)
                                  .on_conflict_do_nothing(index_elements=[m.FileBlob.sha256]))

    async def get(self, session: AsyncSession, sha256: str) -> bytes | None:
        data = await session.scalar(select(m.FileBlob.data).where(m.FileBlob.sha256 == sha256))
        if data is not None:
            return bytes(data)
        return await self.legacy.get(session, sha256) if self.legacy is not None else None

    async def drop_unreferenced(self, session: AsyncSession, candidates: list[str]) -> list[str]:
        if not candidates:
            return []
        if self.postgresql:
            # Lock first (waits for an upload of the same content that holds the row),
            # then check in a new statement, whose snapshot sees what that upload
            # committed (READ COMMITTED takes one snapshot per statement).
            await session.execute(select(m.FileBlob.sha256).where(
                m.FileBlob.sha256.in_(candidates)).with_for_update())
        unnamed = ~exists().where(m.StoredFile.sha256 == m.FileBlob.sha256)
        gone = set((await session.scalars(delete(m.FileBlob).where(
            m.FileBlob.sha256.in_(candidates), unnamed).returning(m.FileBlob.sha256))).all())
        if self.legacy is not None:  # files from before the move live on the disk
            gone.update(await self.legacy.drop_unreferenced(session, candidates))
        return sorted(gone)

    async def after_commit(self, dropped: list[str]) -> None:
        if self.legacy is not None:  # the blobs went in the transaction; old files now
            await self.legacy.after_commit(dropped)


FileRoot = Path | FileBytes
"""What callers hand the file store: the store itself, or a data directory (then the
directory store; tests and the embedded default)."""


def bytes_of(root: FileRoot) -> FileBytes:
    return DirectoryBytes(root) if isinstance(root, Path) else root


def configured(settings: Settings, db: Database) -> FileBytes:
    """The store this process's settings choose (``Settings.file_store``)."""
    if settings.file_store == "database":
        return DatabaseBytes(postgresql=not db.is_sqlite,
                             legacy=DirectoryBytes(settings.data_dir))
    return DirectoryBytes(settings.data_dir)
