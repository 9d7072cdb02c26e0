"""The file store (``services.files``) and ``GET /api/files/{sha256}`` on a real server:
content-addressed bytes in the data directory, served to their owner only, pictures
inline and everything else (SVG, HTML) as a download that cannot run, all with nosniff
and the sandbox CSP — whether stored directly or sent in a chat. (The same on the
database store, several processes: ``test_files_workers.py``.)"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import Iterator

import httpx
import pytest

from switchboard.db import Database
from switchboard.providers.offline.image import draw
from switchboard.services import files
from switchboard.services.errors import ValidationFailed
from tests.api.chat_support import client, stream_chat
from tests.conftest import isolate
from tests.server import Running, running_server

PNG = draw("a stored picture", "256x256")
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'


class Setup:
    def __init__(self, server: Running) -> None:
        self.server = server
        self.tokens = {name: server.make_user(name) for name in ("owner", "other")}

    def user_id(self, name: str) -> int:
        [(uid,)] = self.server.query(f"SELECT id FROM users WHERE username = '{name}'")
        return int(str(uid))

    def store(self, name: str, data: bytes, media_type: str) -> files.FileRef:
        owner = self.user_id(name)

        async def run() -> files.FileRef:
            db = Database.from_url(self.server.settings.database_url, pooled=False)
            try:
                return await files.store(db, self.server.settings.data_dir,
                                         owner, data, media_type)
            finally:
                await db.dispose()
        return asyncio.run(run())

    def get(self, name: str, sha256: str) -> httpx.Response:
        return httpx.get(f"{self.server.url}/api/files/{sha256}", timeout=30,
                         headers={"authorization": f"Bearer {self.tokens[name]}"})


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    with pytest.MonkeyPatch.context() as env:
        isolate(env, tmp_path_factory.mktemp("files") / "data")
        with running_server() as server:
            yield Setup(server)


def test_the_owner_gets_a_picture_inline(setup: Setup) -> None:
    ref = setup.store("owner", PNG, "image/png")
    assert ref.sha256 == hashlib.sha256(PNG).hexdigest() and ref.size == len(PNG)
    got = setup.get("owner", ref.sha256)
    assert got.status_code == 200 and got.content == PNG
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("inline;")
    assert "sandbox" in got.headers["content-security-policy"]
    assert got.headers["cross-origin-resource-policy"] == "same-origin"


def test_another_user_a_bad_name_and_no_login_get_nothing(setup: Setup) -> None:
    ref = setup.store("owner", PNG + b"x", "image/png")
    theirs = setup.get("other", ref.sha256)
    assert theirs.status_code == 404 and theirs.json()["error"]["code"] == "not_found"
    assert setup.get("owner", "../../etc/passwd").status_code == 404
    assert setup.get("owner", "0" * 64).status_code == 404
    assert httpx.get(f"{setup.server.url}/api/files/{ref.sha256}").status_code == 401


def test_svg_and_html_are_downloads_that_cannot_run(setup: Setup) -> None:
    for data, media_type in ((SVG, "image/svg+xml"), (b"<script>x</script>", "text/html")):
        ref = setup.store("owner", data, media_type)
        got = setup.get("owner", ref.sha256)
        assert got.status_code == 200 and got.content == data
        assert got.headers["content-type"] == "application/octet-stream"
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_html_claiming_to_be_a_picture_cannot_run_either(setup: Setup) -> None:
    """A polyglot: HTML bytes stored as image/png. Served as the picture it claims to
    be, with nosniff (a browser will not sniff it into HTML) and the sandbox CSP (were
    it ever rendered as a document, no script runs and it has no origin)."""
    html = b"<html><script>alert(document.cookie)</script></html>"
    ref = setup.store("owner", html, "image/png")
    got = setup.get("owner", ref.sha256)
    assert got.headers["content-type"] == "image/png"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"


def test_an_svg_sent_in_a_chat_is_kept_and_served_only_as_a_download(setup: Setup) -> None:
    http = client(setup.server, setup.tokens["owner"])
    events = stream_chat(http, {"text": "What is this?", "images": [
        {"media_type": "image/svg+xml", "data": base64.b64encode(SVG).decode("ascii")}]})
    user = events[0][1]["user_message"]
    sha = next(p for p in user["parts"] if p["type"] == "image")["file"]["sha256"]
    got = setup.get("owner", sha)
    assert got.status_code == 200 and got.content == SVG
    assert got.headers["content-type"] == "application/octet-stream"
    assert got.headers["content-disposition"] == f'attachment; filename="{sha[:16]}.bin"'
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox"
    assert setup.get("other", sha).status_code == 404


def test_same_bytes_are_stored_once_and_each_owner_has_access(setup: Setup) -> None:
    data = draw("shared", "256x256")
    first, second = setup.store("owner", data, "image/png"), setup.store("other", data,
                                                                         "image/png")
    assert first == second
    again = setup.store("owner", data, "image/png")  # idempotent
    assert again == first
    rows = setup.server.query(f"SELECT owner_id FROM files WHERE sha256 = '{first.sha256}'")
    assert len(rows) == 2
    on_disk = list((setup.server.settings.data_dir / "files").rglob(first.sha256))
    assert len(on_disk) == 1
    assert setup.get("other", first.sha256).content == data


def test_empty_oversized_and_bad_types_are_refused(setup: Setup) -> None:
    for data, media_type in ((b"", "image/png"), (b"x" * (files.MAX_FILE_BYTES + 1), "image/png"),
                             (b"x", "not a type"), (b"x", "text/html\r\nx-evil: 1")):
        with pytest.raises(ValidationFailed):
            setup.store("owner", data, media_type)


def test_each_owner_keeps_at_most_their_quota(setup: Setup) -> None:
    setup.server.make_user("hoarder")
    owner = setup.user_id("hoarder")

    async def run() -> None:
        db = Database.from_url(setup.server.settings.database_url, pooled=False)
        root = setup.server.settings.data_dir
        try:
            first = await files.store(db, root, owner, b"a" * 600, "text/plain", quota=1000)
            again = await files.store(db, root, owner, b"a" * 600, "text/plain", quota=1000)
            assert again == first  # the same bytes again take no more room
            with pytest.raises(ValidationFailed, match="each person may keep 1,000"):
                await files.store(db, root, owner, b"b" * 600, "text/plain", quota=1000)
            with pytest.raises(ValidationFailed):
                await files.check_room(db, owner, 500, quota=1000)
            await files.check_room(db, owner, 400, quota=1000)
        finally:
            await db.dispose()
    asyncio.run(run())
