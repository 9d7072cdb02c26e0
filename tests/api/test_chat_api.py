"""``/api/chat`` and ``/api/chat/stream`` on a real server: events, persistence, bad input."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator

import httpx
import pytest

from tests.api.chat_support import (
    add_provider,
    client,
    set_preference,
    sse_events,
    stream_chat,
    wait_for,
)
from tests.fakes.openai import MODEL as OPENAI_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.files.pdf import make_pdf
from tests.server import Running, running_server

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


@pytest.fixture
def alice(server: Running) -> httpx.Client:
    return client(server, server.make_user("alice"))


def test_stream_offline_events_in_order_and_persisted(alice: httpx.Client,
                                                      server: Running) -> None:
    events = stream_chat(alice, {"text": "Hello there, how are you today?"})
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done"
    assert set(names[1:-1]) == {"delta"}
    start, done = events[0][1], events[-1][1]
    assert start["model"] == "offline:offline-chat"
    assert start["provider"] == "offline" and start["kind"] == "offline"
    assert start["user_message"]["text"] == "Hello there, how are you today?"
    assert start["conversation"]["title"] == "Hello there, how are you today?"
    text = "".join(data["text"] for name, data in events if name == "delta")
    message = done["message"]
    assert message["id"] == start["assistant_message_id"]
    assert message["text"] == text and text
    assert message["status"] == "complete" and message["error"] is None
    assert message["finish_reason"] == "stop"
    assert message["cost"] == "0"  # offline is free: zero, not unknown
    assert message["input_tokens"] > 0 and message["output_tokens"] > 0
    assert message["latency_ms"] >= 0 and message["ttft_ms"] is not None
    assert message["model"] == "offline:offline-chat" and message["kind"] == "offline"
    assert done["conversation"]["message_count"] == 2
    rows = server.query(
        f"SELECT role, status, output_tokens, cost, ttft_ms FROM messages "
        f"WHERE conversation_id = {start['conversation']['id']} ORDER BY id")
    assert [r[:2] for r in rows] == [("user", "complete"), ("assistant", "complete")]
    assert rows[1][2] == message["output_tokens"] and float(rows[1][3]) == 0.0  # type: ignore[arg-type]


def test_non_stream_and_follow_up_in_same_conversation(alice: httpx.Client) -> None:
    first = alice.post("/api/chat", json={"text": "What is a haiku?",
                                          "options": {"temperature": 0.2}})
    assert first.status_code == 200, first.text
    body = first.json()
    conversation = body["conversation"]
    assert body["user_message"]["role"] == "user"
    assert body["assistant_message"]["status"] == "complete"
    assert body["assistant_message"]["text"]
    assert any("temperature has no effect" in w for w in body["warnings"])
    second = alice.post("/api/chat", json={"conversation_id": conversation["id"],
                                           "text": "And a limerick?"})
    assert second.status_code == 200, second.text
    assert second.json()["conversation"]["message_count"] == 4
    assert second.json()["conversation"]["title"] == "What is a haiku?"
    assert second.json()["warnings"] == []


def test_regenerate_keeps_the_earlier_answer_as_a_version(alice: httpx.Client) -> None:
    body = alice.post("/api/chat", json={"text": "Tell me something"}).json()
    cid, old = body["conversation"]["id"], body["assistant_message"]["id"]
    question = body["user_message"]["id"]
    events = stream_chat(alice, {"conversation_id": cid, "regenerate": True})
    assert events[0][1]["user_message"] is None
    assert events[-1][0] == "done"
    new = events[-1][1]["message"]["id"]
    assert events[-1][1]["message"]["versions"] == [old, new]
    messages = alice.get(f"/api/conversations/{cid}").json()["messages"]
    assert [(m["role"], m["id"]) for m in messages] == [("user", question), ("assistant", new)]
    assert messages[1]["versions"] == [old, new] and messages[1]["parent_id"] == question

    # Flip back to the first answer: it is shown, and the next question follows it.
    shown = alice.put(f"/api/conversations/{cid}/version", json={"message_id": old})
    assert shown.status_code == 200, shown.text
    assert [m["id"] for m in shown.json()["messages"]] == [question, old]
    follow = alice.post("/api/chat", json={"conversation_id": cid, "text": "go on"}).json()
    assert follow["user_message"]["parent_id"] == old
    thread = alice.get(f"/api/conversations/{cid}").json()
    assert [m["id"] for m in thread["messages"]] == [
        question, old, follow["user_message"]["id"], follow["assistant_message"]["id"]]
    assert thread["message_count"] == 5  # every version is kept

    # Flipping to the newer answer shows its own (empty) continuation.
    again = alice.put(f"/api/conversations/{cid}/version", json={"message_id": new}).json()
    assert [m["id"] for m in again["messages"]] == [question, new]
    missing = alice.put(f"/api/conversations/{cid}/version", json={"message_id": 10**12})
    assert missing.status_code == 404


def test_edit_and_resend_branches_and_keeps_the_earlier_branch(alice: httpx.Client) -> None:
    first = alice.post("/api/chat", json={"text": "Name a colour"}).json()
    cid = first["conversation"]["id"]
    second = alice.post("/api/chat", json={"conversation_id": cid, "text": "Another"}).json()
    edited = alice.post("/api/chat", json={
        "conversation_id": cid, "edit_of": second["user_message"]["id"],
        "text": "Name a fruit instead"}).json()
    assert edited["user_message"]["parent_id"] == first["assistant_message"]["id"]
    assert edited["user_message"]["versions"] == [second["user_message"]["id"],
                                                  edited["user_message"]["id"]]
    thread = alice.get(f"/api/conversations/{cid}").json()["messages"]
    assert [m["text"] for m in thread if m["role"] == "user"] == [
        "Name a colour", "Name a fruit instead"]
    # The earlier branch is one click away, with its answer.
    back = alice.put(f"/api/conversations/{cid}/version",
                     json={"message_id": second["user_message"]["id"]}).json()["messages"]
    assert [m["id"] for m in back][-2:] == [second["user_message"]["id"],
                                           second["assistant_message"]["id"]]
    # Editing the very first question starts a new root.
    root = alice.post("/api/chat", json={"conversation_id": cid, "text": "Hi again",
                                         "edit_of": first["user_message"]["id"]}).json()
    assert root["user_message"]["parent_id"] is None
    assert len(alice.get(f"/api/conversations/{cid}").json()["messages"]) == 2
    # Answers are not edited; a message of another conversation is not found.
    answer = alice.post("/api/chat", json={"conversation_id": cid, "text": "x",
                                           "edit_of": first["assistant_message"]["id"]})
    assert answer.status_code == 422 and answer.json()["error"]["field"] == "edit_of"
    other = alice.post("/api/chat", json={"text": "elsewhere"}).json()
    foreign = alice.post("/api/chat", json={"conversation_id": cid, "text": "x",
                                            "edit_of": other["user_message"]["id"]})
    assert foreign.status_code == 422 and foreign.json()["error"]["field"] == "edit_of"
    both = alice.post("/api/chat", json={"conversation_id": cid, "regenerate": True,
                                         "edit_of": first["user_message"]["id"]})
    assert both.status_code == 422


def test_a_conversation_system_prompt_overrides_the_preference(
        alice: httpx.Client) -> None:
    body = alice.post("/api/chat", json={"text": "hello"}).json()
    cid = body["conversation"]["id"]
    assert body["conversation"]["system_prompt"] is None
    updated = alice.patch(f"/api/conversations/{cid}",
                          json={"system_prompt": "Answer like a pirate."})
    assert updated.status_code == 200, updated.text
    assert updated.json()["system_prompt"] == "Answer like a pirate."
    assert updated.json()["title"] == "hello"  # left out: unchanged
    renamed = alice.patch(f"/api/conversations/{cid}", json={"title": "Pirates"}).json()
    assert renamed["system_prompt"] == "Answer like a pirate." and renamed["title"] == "Pirates"
    cleared = alice.patch(f"/api/conversations/{cid}", json={"system_prompt": None}).json()
    assert cleared["system_prompt"] is None


def test_the_model_is_sent_the_conversation_system_prompt(alice: httpx.Client,
                                                          server: Running) -> None:
    fake = FakeVendor(OpenAIWire())
    with serve_in_thread(fake) as url:
        ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
        preference = {"system_prompt": "Be brief."}
        first = alice.post("/api/chat", json={"text": "hi", "model": ref,
                                              "options": preference}).json()
        cid = first["conversation"]["id"]
        alice.patch(f"/api/conversations/{cid}", json={"system_prompt": "Speak French."})
        alice.post("/api/chat", json={"conversation_id": cid, "text": "again", "model": ref,
                                      "options": preference})
    sent = [r.body["messages"][0] for r in fake.chat_requests()]
    assert sent == [{"role": "system", "content": "Be brief."},
                    {"role": "system", "content": "Speak French."}]


def test_bad_input_is_refused_before_anything_is_written(alice: httpx.Client,
                                                         server: Running) -> None:
    before = server.query("SELECT count(*) FROM messages")
    unknown = alice.post("/api/chat/stream", json={"text": "hi", "model": "nope:model"})
    assert unknown.status_code == 404
    assert unknown.json()["error"]["field"] == "model"
    assert "nope:model" in unknown.json()["error"]["message"]
    disabled = alice.post("/api/chat", json={"text": "hi", "model": "offline:not-a-model"})
    assert disabled.status_code == 404 and "offline:not-a-model" in disabled.text
    empty = alice.post("/api/chat/stream", json={"text": "   "})
    assert empty.status_code == 422
    assert empty.json()["error"]["field"] == "text"
    missing = alice.post("/api/chat", json={})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "text"
    hot = alice.post("/api/chat", json={"text": "hi", "options": {"temperature": 9}})
    assert hot.status_code == 422 and hot.json()["error"]["field"] == "options.temperature"
    bad_image = alice.post("/api/chat", json={"text": "hi", "images": [
        {"media_type": "image/png", "data": "not base64!"}]})
    assert bad_image.status_code == 422 and "base64" in bad_image.text
    regen = alice.post("/api/chat", json={"regenerate": True})
    assert regen.status_code == 422
    assert regen.json()["error"]["field"] == "conversation_id"
    assert server.query("SELECT count(*) FROM messages") == before


def test_image_to_a_model_without_vision_is_read_by_the_vision_model(
        alice: httpx.Client, server: Running) -> None:
    """No vendor 400: the default vision model answers that turn and says so; the
    conversation goes on with the model that was chosen (decision 0141)."""
    vendor = FakeVendor(OpenAIWire())
    with serve_in_thread(vendor) as url:
        ref = add_provider(server, "textonly", "openai", url, OPENAI_MODEL, vision=False)
        response = alice.post("/api/chat", json={
            "text": "what is this?", "model": ref,
            "images": [{"media_type": "image/png", "data": PNG}]})
    assert response.status_code == 200, response.text
    assert vendor.requests == []  # the text-only model was never sent the image
    body = response.json()
    assert body["assistant_message"]["model"] == "offline:offline-chat"
    assert f"read by offline:offline-chat: {ref} cannot see images" in body["warnings"]
    assert body["conversation"]["model"] == ref
    parts = body["user_message"]["parts"]
    raw = base64.b64decode(PNG)  # kept in the file store, referenced (decision 0141)
    assert parts[1] == {"type": "image", "media_type": "image/png",
                        "file": {"sha256": hashlib.sha256(raw).hexdigest(), "size": len(raw)}}


def test_another_users_conversation_is_not_found(alice: httpx.Client,
                                                 server: Running) -> None:
    cid = alice.post("/api/chat", json={"text": "private"}).json()["conversation"]["id"]
    bob = client(server, server.make_user("bob"))
    for response in (
        bob.post("/api/chat", json={"conversation_id": cid, "text": "let me in"}),
        bob.get(f"/api/conversations/{cid}"),
        bob.patch(f"/api/conversations/{cid}", json={"title": "mine now"}),
        bob.delete(f"/api/conversations/{cid}"),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    with bob.stream("POST", "/api/chat/stream",
                    json={"conversation_id": cid, "text": "x"}) as streamed:
        assert streamed.status_code == 404
        assert not list(sse_events(streamed))
    assert alice.get(f"/api/conversations/{cid}").json()["message_count"] == 2


def test_unauthenticated_is_401(server: Running) -> None:
    response = httpx.post(f"{server.url}/api/chat", json={"text": "hi"})
    assert response.status_code == 401


def test_model_choice_explicit_then_preference_then_default(alice: httpx.Client,
                                                           server: Running) -> None:
    fake = FakeVendor(OpenAIWire())
    with serve_in_thread(fake) as url:
        ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
        set_preference(server, "alice", ref)
        preferred = stream_chat(alice, {"text": "who answers?"})
        assert preferred[0][1]["model"] == ref and preferred[0][1]["warnings"] == []
        explicit = alice.post("/api/chat", json={"text": "and now?",
                                                 "model": "offline:offline-chat"})
        assert explicit.json()["assistant_message"]["model"] == "offline:offline-chat"
    assert len(fake.chat_requests()) == 1

    carol = client(server, server.make_user("carol"))
    set_preference(server, "carol", "gone:model")
    fallback = stream_chat(carol, {"text": "hello"})
    assert fallback[0][1]["model"] == "offline:offline-chat"
    assert any("gone:model" in w for w in fallback[0][1]["warnings"])


def test_attached_text_and_pdf_reach_the_model_as_text(alice: httpx.Client,
                                                       server: Running) -> None:
    pdf = base64.b64encode(make_pdf("The launch is on Tuesday")).decode()
    notes = base64.b64encode(b"budget: 42k").decode()
    fake = FakeVendor(OpenAIWire())
    with serve_in_thread(fake) as url:
        ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
        body = alice.post("/api/chat", json={
            "text": "When is the launch?", "model": ref,
            "files": [{"filename": "plan.pdf", "media_type": "application/pdf", "data": pdf},
                      {"filename": "notes.md", "data": notes}]})
        assert body.status_code == 200, body.text
        cid = body.json()["conversation"]["id"]
        alice.post("/api/chat", json={"conversation_id": cid, "text": "And the budget?",
                                      "model": ref})
    first, second = (r.body["messages"] for r in fake.chat_requests())
    content = first[-1]["content"]
    texts = [c["text"] for c in content] if isinstance(content, list) else [content]
    joined = "\n".join(texts)
    assert '<attachment filename="plan.pdf">' in joined and "The launch is on Tuesday" in joined
    assert '<attachment filename="notes.md">\nbudget: 42k\n</attachment>' in joined
    assert pdf not in str(first)  # the model gets the text, not the base64
    assert "budget: 42k" in str(second)  # later turns still see the attachment
    stored = body.json()["user_message"]["parts"]
    assert [(p["type"], p.get("filename")) for p in stored] == [
        ("text", None), ("file", "plan.pdf"), ("file", "notes.md")]
    # kept in the file store and referenced, never base64 in the row (decision 0186)
    assert "data" not in stored[1] and len(stored[1]["file"]["sha256"]) == 64
    assert body.json()["user_message"]["text"] == "When is the launch?"

    refused = alice.post("/api/chat", json={"text": "hi", "files": [
        {"filename": "tool.exe", "media_type": "application/x-msdownload", "data": "TVo="}]})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "files.0"
    assert "PDF or a text file" in refused.json()["error"]["message"]


def test_a_new_conversation_is_titled_by_its_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWITCHBOARD_AUTO_TITLES", "1")
    fake = FakeVendor(OpenAIWire()).then(
        Reply(chunks=["Plant", " tomatoes", " in May."]),
        Reply(chunks=['"Title: Planting', ' tomatoes."']))
    with serve_in_thread(fake) as url, running_server() as server:
        alice = client(server, server.make_user("alice"))
        ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
        events = stream_chat(alice, {"text": "when should i plant tomatoes", "model": ref})
        cid = events[-1][1]["conversation_id"]
        stored = alice.get(f"/api/conversations/{cid}").json()["title"]
        # The title call is paid for like any chat call: two usage rows for this user.
        wait_for(server, "SELECT user_id FROM usage_events WHERE source = 'chat'",
                 lambda rows: len(rows) == 2 and len(set(rows)) == 1)
    names = [name for name, _ in events]
    assert names[-2:] == ["done", "title"]
    assert events[-1][1]["title"] == "Planting tomatoes" == stored
    asked = fake.chat_requests()[1].body
    assert (asked.get("max_tokens") or asked.get("max_completion_tokens")) == 30
    assert "when should i plant tomatoes" in str(asked["messages"])
    assert "Plant tomatoes in May." in str(asked["messages"])


def test_the_offline_model_keeps_the_first_message_as_title(alice: httpx.Client) -> None:
    events = stream_chat(alice, {"text": "Planning the garden this spring"})
    assert events[-1][0] == "done"
    assert events[-1][1]["conversation"]["title"] == "Planning the garden this spring"
