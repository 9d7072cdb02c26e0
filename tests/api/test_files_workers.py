"""The file store shared by server processes (decision 0171): two ``switchboard serve``
processes on one PostgreSQL, each with its own data directory. A picture sent in a chat
through one is served by the other (the bytes are in ``file_blobs``, not on either's
disk); another user gets a 404 from both; deleting the conversation through one removes
the bytes for both; the per-file and per-user limits hold on the database store and
leave no blob behind when they refuse."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.db import Database
from switchboard.providers.offline.image import draw
from switchboard.services import files
from switchboard.services.errors import ValidationFailed
from switchboard.services.file_bytes import DatabaseBytes
from tests.api.chat_support import client, stream_chat
from tests.dbfixtures import (
    PG_URL_ENV,
    _create_database,
    _drop_database,
    _postgres_url,
    postgres_unavailable,
)
from tests.fakes.server import free_port
from tests.server import Running
from tests.server_process import prepare_database, serve

pytestmark = [pytest.mark.postgres]


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A fresh PostgreSQL database for both processes; the file store left to its
    default (``auto``: the database on PostgreSQL)."""
    if not os.environ.get(PG_URL_ENV):
        postgres_unavailable(f"{PG_URL_ENV} is not set")
    monkeypatch.setenv("SWITCHBOARD_RATE_LIMITS", "off")
    monkeypatch.delenv("SWITCHBOARD_FILE_STORE", raising=False)
    name = asyncio.run(_create_database())
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", _postgres_url(name))
    try:
        yield
    finally:
        asyncio.run(_drop_database(name))


def _blobs(db: Running) -> set[str]:
    return {str(sha) for (sha,) in db.query("SELECT sha256 FROM file_blobs")}


def test_a_file_sent_through_one_process_is_served_by_another(
        shared: None, tmp_path: Path) -> None:
    db = prepare_database()
    owner, other = db.make_user("owner"), db.make_user("other")
    png = draw("shared between workers", "256x256")
    first, second = free_port(), free_port()
    dirs = [tmp_path / "worker-a", tmp_path / "worker-b"]
    with serve(first, env={"SWITCHBOARD_DATA_DIR": str(dirs[0])}), \
            serve(second, env={"SWITCHBOARD_DATA_DIR": str(dirs[1])}):
        a = Running(f"http://127.0.0.1:{first}", db.settings)
        b = Running(f"http://127.0.0.1:{second}", db.settings)
        events = stream_chat(client(a, owner), {
            "text": "What is this?",
            "images": [{"media_type": "image/png",
                        "data": base64.b64encode(png).decode("ascii")}]})
        assert events[-1][0] == "done", events[-1]
        user = events[0][1]["user_message"]
        sha = next(p for p in user["parts"] if p["type"] == "image")["file"]["sha256"]
        conversation = events[0][1]["conversation"]["id"]
        assert _blobs(db) == {sha}

        served = client(b, owner).get(f"/api/files/{sha}")
        assert served.status_code == 200, served.text
        assert served.content == png and served.headers["content-type"] == "image/png"
        assert served.headers["x-content-type-options"] == "nosniff"
        for server in (a, b):  # another user's file does not exist, on either process
            assert client(server, other).get(f"/api/files/{sha}").status_code == 404
        assert not any((d / "files").exists() for d in dirs)  # on no worker's disk

        svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
        sent = stream_chat(client(b, owner), {"text": "and this?", "images": [
            {"media_type": "image/svg+xml", "data": base64.b64encode(svg).decode("ascii")}]})
        svg_sha = next(p for p in sent[0][1]["user_message"]["parts"]
                       if p["type"] == "image")["file"]["sha256"]
        download = client(a, owner).get(f"/api/files/{svg_sha}")
        assert download.content == svg
        assert download.headers["content-type"] == "application/octet-stream"
        assert download.headers["content-disposition"].startswith("attachment;")
        assert download.headers["content-security-policy"] == "default-src 'none'; sandbox"

        deleted = client(b, owner).delete(f"/api/conversations/{conversation}")
        assert deleted.status_code == 204, deleted.text
        assert _blobs(db) == {svg_sha}  # the other conversation's file stays
        assert client(a, owner).get(f"/api/files/{sha}").status_code == 404


def test_limits_hold_on_the_database_store_and_leave_no_blob(shared: None) -> None:
    db = prepare_database()
    db.make_user("owner")
    [(owner,)] = db.query("SELECT id FROM users WHERE username = 'owner'")

    async def run() -> None:
        database = Database.from_url(db.settings.database_url, pooled=False)
        where = DatabaseBytes(postgresql=True)
        try:
            with pytest.raises(ValidationFailed, match="at most"):
                await files.store(database, where, int(str(owner)),
                                  b"x" * (files.MAX_FILE_BYTES + 1), "image/png")
            kept = await files.store(database, where, int(str(owner)), b"a" * 600,
                                     "text/plain", quota=1000)
            with pytest.raises(ValidationFailed, match="each person may keep"):
                await files.store(database, where, int(str(owner)), b"b" * 600,
                                  "text/plain", quota=1000)
            assert (await files.read(database, where, int(str(owner)), kept.sha256))[1] \
                == b"a" * 600
        finally:
            await database.dispose()

    asyncio.run(run())
    assert len(_blobs(db)) == 1  # the refused files wrote nothing


def test_a_delete_racing_an_upload_of_the_same_content_keeps_its_bytes(
        shared: None) -> None:
    """One owner deletes the last reference while another stores the same content: in
    any interleaving, the survivor's row has its bytes (the collector locks the blob
    before it checks for rows; the upload's upsert holds that lock until it commits)."""
    db = prepare_database()
    db.make_user("first")
    db.make_user("second")
    ids = {str(name): int(str(uid)) for uid, name in db.query("SELECT id, username FROM users")}

    async def run() -> None:
        database = Database.from_url(db.settings.database_url)
        where = DatabaseBytes(postgresql=True)
        try:
            for round_ in range(20):
                data = f"content {round_}".encode()
                kept = await files.store(database, where, ids["first"], data, "text/plain")
                await asyncio.gather(
                    files.forget(database, where, ids["first"], {kept.sha256}),
                    files.store(database, where, ids["second"], data, "text/plain"))
                _, read = await files.read(database, where, ids["second"], kept.sha256)
                assert read == data
        finally:
            await database.dispose()

    asyncio.run(run())
