"""Stored pictures referenced by messages (decision 0141), on every backend: deleting a
conversation forgets the files only it named (the JSON text search runs on SQLite and
PostgreSQL alike), and the history shows references inline, an answer's pictures carried
to the next question."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from switchboard.config import load_settings
from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import files
from switchboard.services.chat_history import EARLIER_PICTURES, StoredMessage, build_history
from switchboard.services.conversations import delete_conversation
from switchboard.services.errors import NotFound
from switchboard.services.file_bytes import DatabaseBytes, DirectoryBytes, configured
from switchboard.services.message_files import inline_files, keep_file, keep_image
from switchboard.spec import ImagePart, TextPart
from switchboard.spec.errors import ConfigurationError


async def _conversation(db: Database, user_id: int, parts: list[dict[str, object]]) -> int:
    async with db.unit_of_work() as session:
        conversation = m.Conversation(user_id=user_id, title="t", provider="p", model="x")
        session.add(conversation)
        await session.flush()
        session.add(m.Message(conversation_id=conversation.id, role="user", parts=parts,
                              status="complete"))
        return conversation.id


async def test_deleting_a_conversation_forgets_only_what_nothing_else_names(
        database: Database, tmp_path: Path) -> None:
    async with database.unit_of_work() as session:
        user = m.User(username="keeper", role="user")
        session.add(user)
        await session.flush()
        uid = user.id
    part = await keep_image(database, tmp_path, uid, b"\x89PNG picture", "image/png")
    sha = part["file"]["sha256"]
    first = await _conversation(database, uid, [{"type": "text", "text": "a"}, part])
    second = await _conversation(database, uid, [{"type": "text", "text": "b"}, part])
    await delete_conversation(database, uid, first, tmp_path)
    assert (await files.read(database, tmp_path, uid, sha))[1] == b"\x89PNG picture"
    await delete_conversation(database, uid, second, tmp_path)
    assert await files.forget(database, tmp_path, uid, {sha}) == []
    assert not (tmp_path / "files" / sha[:2] / sha).exists()

    # the history: a reference shown inline, an answer's picture carried forward
    part = await keep_image(database, tmp_path, uid, b"\x89PNG drawn", "image/png")
    rows = [StoredMessage(1, "user", [{"type": "text", "text": "draw"}], "complete"),
            StoredMessage(2, "assistant", [part], "complete")]
    inline = await inline_files(database, tmp_path, uid, [r.parts for r in rows])
    history, warnings = build_history(rows, vision=True, inline=inline)
    assert warnings == []
    assert [x.role for x in history] == ["user", "assistant", "user"]
    assert history[1].parts == [TextPart(text="[1 picture(s) drawn]")]
    assert history[2].parts == [TextPart(text=EARLIER_PICTURES),
                                ImagePart.from_bytes(b"\x89PNG drawn", "image/png")]
    text_only, _ = build_history(rows, vision=False, inline=inline)
    assert [x.role for x in text_only] == ["user"]  # nothing was said in words


async def test_the_database_store_keeps_reads_and_forgets_on_every_backend(
        database: Database, tmp_path: Path) -> None:
    """The same flow with the bytes in ``file_blobs`` (decision 0171): nothing on disk,
    shared bytes kept while another owner's row names them, gone with the last row."""
    where = DatabaseBytes(postgresql=not database.is_sqlite)
    uids = []
    async with database.unit_of_work() as session:
        for name in ("blob-a", "blob-b"):
            user = m.User(username=name, role="user")
            session.add(user)
            await session.flush()
            uids.append(user.id)
    parts = [await keep_image(database, where, uid, b"\x89PNG shared", "image/png")
             for uid in uids]
    sha = parts[0]["file"]["sha256"]
    assert not (tmp_path / "files").exists()
    conversations = [await _conversation(database, uid, [part])
                     for uid, part in zip(uids, parts, strict=True)]
    await delete_conversation(database, uids[0], conversations[0], where)
    assert (await files.read(database, where, uids[1], sha))[1] == b"\x89PNG shared"
    with pytest.raises(NotFound):  # the first owner's access went with their row
        await files.read(database, where, uids[0], sha)
    await delete_conversation(database, uids[1], conversations[1], where)
    async with database.unit_of_work(read_only=True) as session:
        assert (await session.scalars(select(m.FileBlob.sha256))).all() == []


def test_the_file_store_is_chosen_by_the_database_unless_set(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SWITCHBOARD_DATABASE_URL", raising=False)
    monkeypatch.delenv("SWITCHBOARD_FILE_STORE", raising=False)
    assert load_settings().file_store == "directory"
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", "postgresql://db.internal/sb")
    assert load_settings().file_store == "database"
    monkeypatch.setenv("SWITCHBOARD_FILE_STORE", "directory")
    settings = load_settings()
    assert settings.file_store == "directory"
    assert isinstance(configured(settings, Database.from_url("sqlite+aiosqlite://")),
                      DirectoryBytes)
    monkeypatch.setenv("SWITCHBOARD_FILE_STORE", "s3")
    with pytest.raises(ConfigurationError, match="SWITCHBOARD_FILE_STORE"):
        load_settings()
    monkeypatch.delenv("SWITCHBOARD_FILE_STORE")  # the fixtures' teardown loads settings


async def test_files_kept_on_disk_before_the_move_stay_readable_and_are_collected(
        database: Database, tmp_path: Path) -> None:
    """An install that kept files in its data directory, then moved to the database
    store (PostgreSQL after migration 0026): the old files are read from the disk and
    removed from it when their last conversation goes; new ones go to the database."""
    async with database.unit_of_work() as session:
        user = m.User(username="mover", role="user")
        session.add(user)
        await session.flush()
        uid = user.id
    old = await keep_image(database, tmp_path, uid, b"\x89PNG before", "image/png")
    where = DatabaseBytes(postgresql=not database.is_sqlite, legacy=DirectoryBytes(tmp_path))
    new = await keep_image(database, where, uid, b"\x89PNG after", "image/png")
    on_disk = DirectoryBytes(tmp_path).path(old["file"]["sha256"])
    assert on_disk.exists()
    assert (await files.read(database, where, uid, old["file"]["sha256"]))[1] == b"\x89PNG before"
    assert not DirectoryBytes(tmp_path).path(new["file"]["sha256"]).exists()
    conversation = await _conversation(database, uid, [old, new])
    await delete_conversation(database, uid, conversation, where)
    assert not on_disk.exists()
    async with database.unit_of_work(read_only=True) as session:
        assert (await session.scalars(select(m.FileBlob.sha256))).all() == []


async def test_attachments_are_read_back_only_for_a_model_that_reads_pdfs(
        database: Database, tmp_path: Path) -> None:
    """Decision 0186: a kept PDF's bytes are read for a model that reads PDFs itself
    (``documents``), never a text file's (its kept text is what every model is shown),
    and nothing of either for the others; pictures always."""
    async with database.unit_of_work() as session:
        user = m.User(username="reader", role="user")
        session.add(user)
        await session.flush()
        uid = user.id
    pdf = await keep_file(database, tmp_path, uid, b"%PDF-1.7 doc", "application/pdf",
                          kind="file", fields={"filename": "a.pdf", "text": "A", "pages": 1})
    notes = await keep_file(database, tmp_path, uid, b"notes", "text/plain",
                            kind="file", fields={"filename": "n.txt", "text": "notes"})
    picture = await keep_image(database, tmp_path, uid, b"\x89PNG p", "image/png")
    assert pdf["type"] == "file" and pdf["filename"] == "a.pdf" and "data" not in pdf
    rows = [[pdf, notes, picture]]
    others = await inline_files(database, tmp_path, uid, rows)
    assert set(others) == {picture["file"]["sha256"]}
    readers = await inline_files(database, tmp_path, uid, rows, documents=True)
    assert set(readers) == {picture["file"]["sha256"], pdf["file"]["sha256"]}
    history, _ = build_history([StoredMessage(1, "user", [pdf, notes], "complete")],
                               vision=True, inline=readers, pdfs=True)
    assert [p.type for p in history[0].parts] == ["file", "text"]
    conversation = await _conversation(database, uid, [pdf, notes, picture])
    await delete_conversation(database, uid, conversation, tmp_path)
    for part in (pdf, notes, picture):  # collected with the conversation
        with pytest.raises(NotFound):
            await files.read(database, tmp_path, uid, part["file"]["sha256"])
