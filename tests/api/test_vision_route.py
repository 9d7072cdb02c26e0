"""Images never reach a model that cannot see them (issue 15 item 3, decision 0147): a
vision model answers the turn or describes the image once (cached by the bytes' SHA-256),
on a real server with two OpenAI-shaped fakes — one whose text-only model answers an
image with OpenAI's own 400, as the vendor does."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from openai import BadRequestError, OpenAI

from tests.api.chat_support import add_provider, client, wait_for
from tests.conftest import isolate
from tests.fakes import anthropic as anthropic_fake
from tests.fakes.openai import MODEL as TEXT_MODEL
from tests.fakes.openai import VISION_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Fail, Received, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.files.pdf import make_pdf
from tests.server import Running, running_server


class TextOnlyWire(OpenAIWire):
    """OpenAI refusing an image for a model without vision, with its real error body
    (https://platform.openai.com/docs/guides/images-vision: only vision models)."""

    def reject(self, route: str, request: Received) -> tuple[int, Any] | None:
        body = request.body if isinstance(request.body, dict) else {}
        for message in body.get("messages", []):
            content = message.get("content")
            if isinstance(content, list) and any(
                    isinstance(p, dict) and p.get("type") == "image_url" for p in content):
                return 400, {"error": {
                    "message": "Invalid content type. image_url is only supported by "
                               "certain models.",
                    "type": "invalid_request_error",
                    "param": "messages.[0].content.[1].type", "code": None}}
        return None


def _png(seed: int) -> str:
    return base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes([seed]) * 16).decode()


@dataclass
class Setup:
    server: Running
    text: FakeVendor
    seer: FakeVendor
    claude: FakeVendor
    text_ref: str
    seer_ref: str
    claude_ref: str


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    text, seer = FakeVendor(TextOnlyWire()), FakeVendor(OpenAIWire())
    claude = FakeVendor(anthropic_fake.Wire())
    with pytest.MonkeyPatch.context() as mp, ExitStack() as stack:
        isolate(mp, tmp_path_factory.mktemp("vision-route") / "sb-data")
        server = stack.enter_context(running_server())
        text_url = stack.enter_context(serve_in_thread(text))
        seer_url = stack.enter_context(serve_in_thread(seer))
        text_ref = add_provider(server, "textonly", "openai", text_url, TEXT_MODEL,
                                vision=False)
        seer_ref = add_provider(server, "seer", "openai", seer_url, VISION_MODEL,
                                vision=True)
        claude_url = stack.enter_context(serve_in_thread(claude))
        claude_ref = add_provider(server, "claude", "anthropic", claude_url,
                                  anthropic_fake.MODEL, vision=True)
        yield Setup(server, text, seer, claude, text_ref, seer_ref, claude_ref)


@pytest.fixture(autouse=True)
def _server_data(setup: Setup, _isolated_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The per-test isolation points the data directory elsewhere; the module's server
    reads its key file from its own (the vault is opened per registry build)."""
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(setup.server.settings.data_dir))


def _user(setup: Setup, name: str, **settings: Any) -> httpx.Client:
    """A user whose vision model is the ``seer`` fake (their ``vision`` task model)."""
    http = client(setup.server, setup.server.make_user(name))
    saved = http.put("/api/me/preferences", json={"settings": {
        "task_models": {"vision": setup.seer_ref}, **settings}})
    assert saved.status_code == 200, saved.text
    return http


def _images_in(request: Received) -> int:
    return sum(1 for m in request.body["messages"] if isinstance(m.get("content"), list)
               for p in m["content"] if p.get("type") == "image_url")


def _said_to(request: Received) -> str:
    return "\n".join(str(m.get("content")) for m in request.body["messages"])


def _chat(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/api/chat", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def test_vision_text_vision_captions_each_image_once(setup: Setup) -> None:
    http = _user(setup, "vera")
    text_before, seer_before = len(setup.text.chat_requests()), len(setup.seer.chat_requests())
    image = _png(1)
    first = _chat(http, text="what is this?", model=setup.seer_ref,
                  images=[{"media_type": "image/png", "data": image}])
    cid = first["conversation"]["id"]
    assert _images_in(setup.seer.last) == 1
    setup.seer.then(Reply(chunks=["A red square with the word HELLO."]))
    second = _chat(http, conversation_id=cid, text="what word is on it?",
                   model=setup.text_ref)
    assert second["assistant_message"]["model"] == setup.text_ref
    asked = setup.text.chat_requests()[-1]
    assert _images_in(asked) == 0 and "A red square with the word HELLO." in _said_to(asked)
    assert f"images described by {setup.seer_ref}" in " ".join(second["warnings"])
    third = _chat(http, conversation_id=cid, text="and its colour?", model=setup.text_ref)
    assert third["assistant_message"]["status"] == "complete"
    fourth = _chat(http, conversation_id=cid, text="look again", model=setup.seer_ref)
    assert fourth["assistant_message"]["model"] == setup.seer_ref
    assert _images_in(setup.seer.last) == 1  # the vision model sees the image itself
    # seer: turn 1, ONE caption, turn 4; the text model: turns 2 and 3, never refused.
    assert len(setup.seer.chat_requests()) - seer_before == 3
    assert len(setup.text.chat_requests()) - text_before == 2
    digest = setup.server.query("SELECT count(*) FROM image_captions WHERE model_ref = "
                                f"'{setup.seer_ref}'")
    assert digest[0][0] >= 1
    # The caption is an ordinary metered call of the chat, on the user's account.
    rows = wait_for(  # usage rows are written in the background
        setup.server, "SELECT count(*) FROM usage_events u JOIN users s ON s.id = u.user_id "
        f"WHERE s.username = 'vera' AND u.source = 'chat' AND u.model = '{VISION_MODEL}'",
        lambda rows: rows[0][0] >= 3)
    assert rows[0][0] == 3


def test_a_new_image_to_a_text_model_is_read_by_the_vision_model(setup: Setup) -> None:
    http = _user(setup, "tess")
    seer_before = len(setup.seer.chat_requests())
    read = _chat(http, text="what is this?", model=setup.text_ref,
                 images=[{"media_type": "image/png", "data": _png(2)}])
    assert read["assistant_message"]["model"] == setup.seer_ref
    assert (f"read by {setup.seer_ref}: {setup.text_ref} cannot see images"
            in read["warnings"])
    assert read["conversation"]["model"] == setup.text_ref  # the turn only, not the chat
    assert _images_in(setup.seer.last) == 1
    # By preference, the image is described and the text model answers.
    described = _user(setup, "dora", text_model_images="describe")
    setup.seer.then(Reply(chunks=["A blue circle."]))
    answer = _chat(described, text="what is this?", model=setup.text_ref,
                   images=[{"media_type": "image/png", "data": _png(3)}])
    assert answer["assistant_message"]["model"] == setup.text_ref
    assert "A blue circle." in _said_to(setup.text.chat_requests()[-1])
    assert answer["user_message"]["parts"][1]["type"] == "image"  # kept as sent
    assert len(setup.seer.chat_requests()) - seer_before == 2
    bad = described.put("/api/me/preferences",
                        json={"settings": {"text_model_images": "guess"}})
    assert bad.status_code == 422


def test_the_turns_choice_overrides_the_preference(setup: Setup) -> None:
    """``ask`` (the page asks each time, decision 0172) is a preference the server
    accepts; the page sends the user's answer as ``images_to``, which wins over the
    saved preference either way. A turn nobody asked about gets the vision model."""
    asker = _user(setup, "astrid", text_model_images="ask")
    assert asker.get("/api/me/preferences").json()["settings"]["text_model_images"] == "ask"
    unasked = _chat(asker, text="what is this?", model=setup.text_ref,
                    images=[{"media_type": "image/png", "data": _png(41)}])
    assert unasked["assistant_message"]["model"] == setup.seer_ref
    setup.seer.then(Reply(chunks=["A green triangle."]))
    described = _chat(asker, text="what is this?", model=setup.text_ref, images_to="describe",
                      images=[{"media_type": "image/png", "data": _png(42)}])
    assert described["assistant_message"]["model"] == setup.text_ref
    assert "A green triangle." in _said_to(setup.text.chat_requests()[-1])
    describer = _user(setup, "dirk", text_model_images="describe")
    read = _chat(describer, text="what is this?", model=setup.text_ref, images_to="vision",
                 images=[{"media_type": "image/png", "data": _png(43)}])
    assert read["assistant_message"]["model"] == setup.seer_ref
    bad = describer.post("/api/chat", json={"text": "x", "images_to": "both"})
    assert bad.status_code == 422


def test_a_pdf_goes_whole_to_models_that_read_pdfs_and_as_text_to_the_others(
        setup: Setup) -> None:
    http = _user(setup, "pia")
    pdf = base64.b64encode(make_pdf("The launch is on Tuesday")).decode()
    files = [{"filename": "plan.pdf", "media_type": "application/pdf", "data": pdf}]
    first = _chat(http, text="when is the launch?", model=setup.claude_ref, files=files)
    blocks = setup.claude.last.body["messages"][-1]["content"]
    assert {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                           "data": pdf}} in [
        {k: v for k, v in b.items() if k in ("type", "source")} for b in blocks]
    assert "The launch is on Tuesday" not in str(blocks)
    _chat(http, conversation_id=first["conversation"]["id"], text="and the year?",
          model=setup.text_ref)
    said = _said_to(setup.text.chat_requests()[-1])
    assert "The launch is on Tuesday" in said and "<attachment" in said
    assert "file_data" not in said


def test_v1_keeps_its_400_unless_the_request_opts_in(setup: Setup) -> None:
    token = setup.server.make_user("olga")
    saved = client(setup.server, token).put("/api/me/preferences", json={"settings": {
        "task_models": {"vision": setup.seer_ref}}})
    assert saved.status_code == 200, saved.text
    sdk = OpenAI(base_url=setup.server.url + "/v1", api_key=token, max_retries=0)
    messages: Any = [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{_png(4)}"}}]}]
    text_before = len(setup.text.chat_requests())
    with pytest.raises(BadRequestError, match="does not accept images"):
        sdk.chat.completions.create(model=setup.text_ref, messages=messages)
    raw = sdk.chat.completions.with_raw_response.create(
        model=setup.text_ref, messages=messages,
        extra_headers={"x-switchboard-images": "vision"})
    assert raw.headers["x-switchboard-model"] == setup.seer_ref
    assert (f"read by {setup.seer_ref}: {setup.text_ref} cannot see images"
            in raw.headers["x-switchboard-warnings"])
    assert raw.parse().choices[0].message.content
    assert _images_in(setup.seer.last) == 1
    assert len(setup.text.chat_requests()) == text_before  # never sent the image


def test_a_failed_caption_is_not_kept_and_is_made_next_turn(setup: Setup) -> None:
    http = _user(setup, "fay", text_model_images="describe")
    seer_before = len(setup.seer.chat_requests())
    setup.seer.then(Fail(503, "overloaded", error_type="server_error"))
    first = _chat(http, text="what is this?", model=setup.text_ref,
                  images=[{"media_type": "image/png", "data": _png(5)}])
    assert first["assistant_message"]["status"] == "complete"
    assert (f"1 image(s) could not be described by {setup.seer_ref} and were left out"
            in first["warnings"])
    assert _images_in(setup.text.chat_requests()[-1]) == 0
    setup.seer.then(Reply(chunks=["A green star."]))
    _chat(http, conversation_id=first["conversation"]["id"], text="and now?",
          model=setup.text_ref)
    assert "A green star." in _said_to(setup.text.chat_requests()[-1])
    assert len(setup.seer.chat_requests()) - seer_before == 2


def test_attached_files_are_kept_once_by_reference_and_read_back_per_model(
        setup: Setup) -> None:
    """Decision 0186: a PDF and a text file sent in a chat are kept in the file store and
    referenced (no base64 in the row); Anthropic and OpenAI vision models get the PDF
    natively, a text-only model gets its text; the owner downloads them by name, another
    user gets 404; deleting the conversation collects them."""
    http = _user(setup, "ines")
    raw_pdf = make_pdf("The launch is on Tuesday")
    pdf = base64.b64encode(raw_pdf).decode()
    notes = base64.b64encode(b"budget: 42k").decode()
    files = [{"filename": "plan.pdf", "media_type": "application/pdf", "data": pdf},
             {"filename": "notes.md", "data": notes}]
    first = _chat(http, text="when is the launch?", model=setup.claude_ref, files=files)
    cid = first["conversation"]["id"]
    blocks = setup.claude.last.body["messages"][-1]["content"]
    assert {"type": "document", "source": {"type": "base64", "media_type": "application/pdf",
                                           "data": pdf}} in [
        {k: v for k, v in b.items() if k in ("type", "source")} for b in blocks]
    assert '<attachment filename="notes.md">\nbudget: 42k\n</attachment>' in [
        b.get("text") for b in blocks]
    stored = first["user_message"]["parts"][1:]
    assert [(p["type"], p["filename"], "data" in p) for p in stored] == [
        ("file", "plan.pdf", False), ("file", "notes.md", False)]
    shas = [p["file"]["sha256"] for p in stored]
    row = setup.server.query(f"SELECT parts FROM messages WHERE id = {first['user_message']['id']}")
    assert pdf not in str(row) and notes not in str(row) and shas[0] in str(row)
    # Later turns: the OpenAI vision model reads the PDF itself, the text-only one its text.
    _chat(http, conversation_id=cid, text="and the year?", model=setup.seer_ref)
    said = str(setup.seer.last.body["messages"])
    assert f"data:application/pdf;base64,{pdf}" in said and "budget: 42k" in said
    _chat(http, conversation_id=cid, text="and the budget?", model=setup.text_ref)
    said = _said_to(setup.text.chat_requests()[-1])
    assert "The launch is on Tuesday" in said and "budget: 42k" in said
    assert "file_data" not in said and pdf not in said
    # An edited question sends them again by reference: the same files, still one each.
    edited = _chat(http, conversation_id=cid, edit_of=first["user_message"]["id"],
                   text="when exactly?", model=setup.text_ref,
                   files=[{"filename": p["filename"], "media_type": p["media_type"],
                           "file": p["file"]["sha256"]} for p in stored])
    assert [p["file"]["sha256"] for p in edited["user_message"]["parts"][1:]] == shas
    owned = ("SELECT count(*) FROM files f JOIN users u ON u.id = f.owner_id WHERE "
             f"u.username = 'ines' AND f.sha256 IN ('{shas[0]}', '{shas[1]}')")
    assert setup.server.query(owned)[0][0] == 2
    # Downloads: the owner's, by name; nobody else's.
    got = http.get(f"/api/files/{shas[0]}", params={"name": "plan.pdf"})
    assert got.status_code == 200 and got.content == raw_pdf
    assert got.headers["content-disposition"] == 'attachment; filename="plan.pdf"'
    assert got.headers["x-content-type-options"] == "nosniff"
    odd = http.get(f"/api/files/{shas[1]}", params={"name": '../x"\r\n.md'})
    assert odd.headers["content-disposition"] == 'attachment; filename="x_.md"'
    other = _user(setup, "ozzy")
    assert other.get(f"/api/files/{shas[0]}", params={"name": "plan.pdf"}).status_code == 404
    stolen = other.post("/api/chat", json={"text": "x", "model": setup.text_ref, "files": [
        {"filename": "plan.pdf", "file": shas[0]}]})
    assert stolen.status_code == 404
    # Export keeps the references (as for pictures, decision 0141).
    exported = http.get(f"/api/conversations/{cid}/export", params={"format": "json"})
    assert exported.status_code == 200 and shas[0] in exported.text and pdf not in exported.text
    # Deleting the conversation collects them.
    assert http.delete(f"/api/conversations/{cid}").status_code in (200, 204)
    assert http.get(f"/api/files/{shas[0]}").status_code == 404
    assert setup.server.query(owned)[0][0] == 0
