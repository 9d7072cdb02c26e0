"""The file store: content-addressed bytes, per-owner access.

Issue 15's file store (decision 0081). Bytes are kept once per content (SHA-256) by a
``file_bytes.FileBytes``: the data directory on the embedded default, the database's
``file_blobs`` when several workers share PostgreSQL (decision 0171; which one is
configuration, and callers pass it as ``root``); a ``files`` row per owner says who may
read them and as what media type. Two users storing the same picture
share the bytes but not the access: each has their own row, and another user's file is
"not found" (never "forbidden": that would confirm the content exists).

Bounded: ``MAX_FILE_BYTES`` per file and ``MAX_USER_BYTES`` per owner (the sum of the
owner's rows; bytes shared with another owner count for each). When a conversation is
deleted, ``forget`` drops the owner's rows no other message of theirs mentions, and the
bytes no row names any more.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import String, cast, delete, func, select

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services.errors import NotFound, ValidationFailed
from switchboard.services.file_bytes import FileRoot, bytes_of

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

MAX_FILE_BYTES = 20 * 1024 * 1024
"""The largest file stored (OpenAI's limit for one image input is the same)."""
MAX_USER_BYTES = 1024 * 1024 * 1024
"""What one user may keep in all (1 GiB): pictures and files they sent, pictures drawn for them."""
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MEDIA_TYPE = re.compile(r"^[a-z0-9][a-z0-9.+-]*/[a-z0-9][a-z0-9.+-]*$")


@dataclass(frozen=True, slots=True)
class FileRef:
    """What a message or an answer keeps of a file: its content's name and type."""

    sha256: str
    media_type: str
    size: int


async def _kept_bytes(session: AsyncSession, owner_id: int) -> int:
    return int(await session.scalar(select(func.coalesce(func.sum(m.StoredFile.size), 0))
                                    .where(m.StoredFile.owner_id == owner_id)) or 0)


def _over_quota(kept: int, incoming: int, quota: int) -> ValidationFailed:
    return ValidationFailed(
        f"your files would take {kept + incoming:,} bytes; each person may keep "
        f"{quota:,}. Delete conversations with pictures or files you no longer need", field="file")


async def check_room(db: Database, owner_id: int, incoming: int, *,
                     quota: int = MAX_USER_BYTES) -> None:
    """Refuse, before anything is spent, when ``incoming`` more bytes would not fit the
    owner's quota (an image model's turn asks before drawing)."""
    async with db.unit_of_work(read_only=True) as session:
        kept = await _kept_bytes(session, owner_id)
    if kept + incoming > quota:
        raise _over_quota(kept, incoming, quota)


async def store(db: Database, root: FileRoot, owner_id: int, data: bytes,
                media_type: str, *, quota: int = MAX_USER_BYTES) -> FileRef:
    """Keep ``data`` for ``owner_id`` (idempotent: the same bytes again are the same
    file). Refuses an empty or oversized file, one over the owner's ``quota``, and a
    malformed media type."""
    if not data:
        raise ValidationFailed("the file is empty", field="file")
    if len(data) > MAX_FILE_BYTES:
        raise ValidationFailed(
            f"the file is {len(data):,} bytes; at most {MAX_FILE_BYTES:,} are kept",
            field="file")
    media_type = media_type.lower().strip()
    if len(media_type) > 100 or not _MEDIA_TYPE.match(media_type):
        raise ValidationFailed("the file's media type is not one", field="media_type")
    sha256 = hashlib.sha256(data).hexdigest()
    where = bytes_of(root)
    async with db.unit_of_work() as session:
        row = (await session.execute(select(m.StoredFile).where(
            m.StoredFile.owner_id == owner_id, m.StoredFile.sha256 == sha256))).scalar_one_or_none()
        if row is None:
            kept = await _kept_bytes(session, owner_id)
            if kept + len(data) > quota:
                raise _over_quota(kept, len(data), quota)
            await where.put(session, sha256, data)
            session.add(m.StoredFile(owner_id=owner_id, sha256=sha256, media_type=media_type,
                                   size=len(data)))
    return FileRef(sha256, media_type, len(data))


async def read(db: Database, root: FileRoot, owner_id: int, sha256: str
               ) -> tuple[FileRef, bytes]:
    """The owner's file and its bytes; ``NotFound`` for a malformed name, another
    user's file, or bytes missing from the store."""
    if not _SHA256.match(sha256):
        raise NotFound("no such file")
    async with db.unit_of_work(read_only=True) as session:
        row = (await session.execute(select(m.StoredFile).where(
            m.StoredFile.owner_id == owner_id, m.StoredFile.sha256 == sha256))).scalar_one_or_none()
        if row is None:
            raise NotFound("no such file")
        ref = FileRef(row.sha256, row.media_type, row.size)
        data = await bytes_of(root).get(session, sha256)
    if data is None:
        raise NotFound("no such file")
    return ref, data


SHA256_IN_TEXT = re.compile(r"[0-9a-f]{64}")
"""How a message names a stored file (a part's ``file.sha256``, a tool result's file
list): every such name in the parts' JSON text is a candidate; only the owner's rows
count, so a stray hex string deletes nothing that is not theirs."""


async def forget(db: Database, root: FileRoot, owner_id: int, candidates: set[str]) -> list[str]:
    """After a conversation of ``owner_id`` was deleted: of the ``candidates`` its
    messages named, drop the owner's rows that no remaining message of theirs names,
    then the bytes that no owner's row names. Returns the sha256s whose rows went."""
    if not candidates:
        return []
    dropped: list[str] = []
    async with db.unit_of_work() as session:
        owned = set((await session.scalars(select(m.StoredFile.sha256).where(
            m.StoredFile.owner_id == owner_id, m.StoredFile.sha256.in_(candidates)))).all())
        for sha256 in sorted(owned):
            named = await session.scalar(
                select(m.Message.id)
                .join(m.Conversation, m.Conversation.id == m.Message.conversation_id)
                .where(m.Conversation.user_id == owner_id,
                       cast(m.Message.parts, String).contains(sha256))
                .limit(1))
            if named is None:
                await session.execute(delete(m.StoredFile).where(
                    m.StoredFile.owner_id == owner_id, m.StoredFile.sha256 == sha256))
                dropped.append(sha256)
        where = bytes_of(root)
        orphans = await where.drop_unreferenced(session, dropped)
    await where.after_commit(orphans)
    return dropped
