"""Image models in the chat (decision 0141): the question is the prompt, the answer's
parts reference pictures kept in the file store (never base64 in the row), served to
their owner only, and a vision model in the next turn is shown them inline."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from switchboard.pricing.catalog import load_catalog
from switchboard.providers.offline.image import (
    IMAGE_CAPABILITIES,
    draw,
    draw_edit,
    picture_area,
)
from tests.api.chat_support import add_provider, client, set_offline_delay, stream_chat
from tests.conftest import isolate
from tests.fakes import openai as openai_fake
from tests.fakes.script import Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.png_read import read_panel_text, read_png
from tests.server import Running, running_server

IMAGE_MODEL = "offline:offline-image"


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """The module's server isolates the environment for the whole module."""
    yield


@pytest.fixture(scope="module")
def openai() -> Iterator[tuple[FakeVendor, str]]:
    vendor = FakeVendor(openai_fake.Wire())
    with serve_in_thread(vendor) as url:
        yield vendor, url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("chat-images") / "sb-data")
        with running_server() as running:
            set_offline_delay(running, 0)
            yield running


def _end(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    name, data = events[-1]
    assert name == "done", events
    return data


def test_an_image_model_answers_with_stored_pictures_a_vision_model_then_sees(
        server: Running, openai: tuple[FakeVendor, str]) -> None:
    vendor, url = openai
    gpt = add_provider(server, "gptv", "openai", url, openai_fake.MODEL, vision=True)
    http = client(server, server.make_user("painter"))
    events = stream_chat(http, {"model": IMAGE_MODEL, "text": "a red lighthouse"})
    assert events[0][0] == "start" and events[0][1]["model"] == IMAGE_MODEL
    message = _end(events)["message"]
    [part] = message["parts"]
    assert part["type"] == "image" and "data" not in part
    assert part["meta"] == {"prompt": "a red lighthouse", "size": "512x512"}
    sha = part["file"]["sha256"]
    [(stored,)] = server.query(f"SELECT parts FROM messages WHERE id = {message['id']}")
    assert sha in str(stored) and "iVBOR" not in str(stored)  # a reference, no base64
    picture = http.get(f"/api/files/{sha}")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    assert picture.content == draw("a red lighthouse", "512x512")
    stranger = client(server, server.make_user("stranger"))
    assert stranger.get(f"/api/files/{sha}").status_code == 404

    vendor.then(Reply(chunks=["A lighthouse."]))
    cid = _end(events)["conversation"]["id"]
    exported = http.get(f"/api/conversations/{cid}/export", params={"format": "markdown"})
    assert "_[picture (512x512) drawn from: a red lighthouse]_" in exported.text
    answer = _end(stream_chat(http, {"conversation_id": cid, "model": gpt,
                                     "text": "What did you draw?"}))
    assert answer["message"]["text"] == "A lighthouse."
    sent = vendor.chat_requests()[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == "[1 picture(s) drawn]"
    images = [c["image_url"]["url"] for c in sent[2]["content"] if c["type"] == "image_url"]
    assert images == ["data:image/png;base64,"
                      + base64.b64encode(picture.content).decode("ascii")]


def test_a_sent_image_is_kept_in_the_store_and_referenced(server: Running) -> None:
    http = client(server, server.make_user("sender"))
    png = draw("sent picture", "256x256")
    data = base64.b64encode(png).decode("ascii")
    events = stream_chat(http, {"text": "What is this?",
                                "images": [{"media_type": "image/png", "data": data}]})
    user = events[0][1]["user_message"]
    image = next(p for p in user["parts"] if p["type"] == "image")
    assert "data" not in image and image["file"]["size"] == len(png)
    assert http.get(f"/api/files/{image['file']['sha256']}").content == png
    _end(events)
    again = stream_chat(http, {"conversation_id": events[0][1]["conversation"]["id"],
                               "text": "And now?"})
    _end(again)  # the stored picture is read back for the next turn
    sha = image["file"]["sha256"]
    by_ref = stream_chat(http, {"text": "Once more", "images": [{"file": sha}]})
    assert by_ref[0][1]["user_message"]["parts"][1]["file"]["sha256"] == sha
    _end(by_ref)
    other = client(server, server.make_user("thief"))
    stolen = other.post("/api/chat/stream", json={"text": "Mine?", "images": [{"file": sha}]})
    assert stolen.status_code == 404, stolen.text


def test_the_offline_image_model_edits_a_sent_picture(server: Running) -> None:
    """An attached picture + a prompt to ``offline:offline-image`` (catalog ``edits``) is
    an edit: the picture scaled down above the prompt's words, deterministic."""
    http = client(server, server.make_user("editor"))
    red = _solid_png(40, 30, (220, 10, 10))
    sent = {"model": IMAGE_MODEL, "text": "add a hat",
            "images": [{"media_type": "image/png", "data": base64.b64encode(red).decode()}]}
    message = _end(stream_chat(http, sent))["message"]
    [part] = message["parts"]
    edited = http.get(f"/api/files/{part['file']['sha256']}").content
    assert edited == draw_edit("add a hat", "512x512", (red,))
    assert edited != draw("add a hat", "512x512")
    width, height, rows = read_png(edited)
    x, y, w, h = picture_area(width, height)
    middle = rows[y + h // 2][(x + w // 2) * 3:(x + w // 2) * 3 + 3]
    assert middle == bytes((220, 10, 10))  # the sent picture is there
    assert " ".join(read_panel_text(edited)) == "ADD A HAT"
    again = _end(stream_chat(http, sent))["message"]["parts"][0]
    assert again["file"]["sha256"] == part["file"]["sha256"]  # deterministic
    offline = load_catalog().vendors["offline"].models["offline-image"]
    assert offline.edits and IMAGE_CAPABILITIES.edits  # the catalog says it edits


def _solid_png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    """An 8-bit RGBA PNG of one colour, rows 'Up'-filtered (a decoder must undo it)."""
    row = b"\x00" + bytes((*colour, 255)) * width
    raw = row + (b"\x02" + bytes(4 * width)) * (height - 1)

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFF_FFFF))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_an_image_model_refuses_attachments_and_a_too_long_prompt(server: Running) -> None:
    http = client(server, server.make_user("refused"))
    data = base64.b64encode(b"notes").decode("ascii")
    refused = http.post("/api/chat/stream", json={
        "model": IMAGE_MODEL, "text": "edit this",
        "files": [{"filename": "notes.txt", "data": data}]})
    assert refused.status_code == 422, refused.text
    too_long = http.post("/api/chat/stream", json={"model": IMAGE_MODEL, "text": "x" * 40_000})
    assert too_long.status_code == 422, too_long.text
    assert "prompt" in too_long.json()["error"]["message"]


def test_deleting_conversations_deletes_the_files_nothing_else_names(server: Running) -> None:
    http = client(server, server.make_user("tidy"))
    drawn = _end(stream_chat(http, {"model": IMAGE_MODEL, "text": "a small boat"}))
    sha = drawn["message"]["parts"][0]["file"]["sha256"]
    reused = _end(stream_chat(http, {"text": "Look again", "images": [{"file": sha}]}))
    path = server.settings.data_dir / "files" / sha[:2] / sha
    assert path.exists()

    first = http.delete(f"/api/conversations/{drawn['conversation']['id']}")
    assert first.status_code == 204
    assert http.get(f"/api/files/{sha}").status_code == 200  # still named by the other one
    second = http.delete(f"/api/conversations/{reused['conversation']['id']}")
    assert second.status_code == 204
    assert http.get(f"/api/files/{sha}").status_code == 404
    assert not path.exists()
