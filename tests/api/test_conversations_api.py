"""``/api/conversations`` and ``/api/messages/{id}/rating`` on a real server."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from tests.api.chat_support import client
from tests.server import Running, running_server


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


@pytest.fixture
def alice(server: Running) -> httpx.Client:
    return client(server, server.make_user("alice"))


def _chat(http: httpx.Client, text: str, conversation_id: int | None = None,
          **extra: object) -> dict[str, object]:
    response = http.post("/api/chat", json={"text": text, "conversation_id": conversation_id,
                                            **extra})
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def _cid(body: dict[str, object]) -> int:
    conversation = body["conversation"]
    assert isinstance(conversation, dict)
    return int(conversation["id"])


def test_list_pages_newest_first(alice: httpx.Client) -> None:
    ids = [_cid(_chat(alice, f"conversation number {i}")) for i in range(5)]
    first = alice.get("/api/conversations", params={"limit": 2}).json()
    assert [c["id"] for c in first["items"]] == ids[::-1][:2]
    assert first["items"][0]["message_count"] == 2
    assert first["items"][0]["title"] == "conversation number 4"
    assert first["items"][0]["model"] == "offline:offline-chat"
    second = alice.get("/api/conversations",
                       params={"limit": 2, "before": first["next_before"]}).json()
    assert [c["id"] for c in second["items"]] == ids[::-1][2:4]
    last = alice.get("/api/conversations",
                     params={"limit": 2, "before": second["next_before"]}).json()
    assert [c["id"] for c in last["items"]] == [ids[0]] and last["next_before"] is None
    too_many = alice.get("/api/conversations", params={"limit": 1000})
    assert too_many.status_code == 422 and too_many.json()["error"]["field"] == "limit"


def test_search_matches_title_and_message_text_only(alice: httpx.Client,
                                                   server: Running) -> None:
    titled = _cid(_chat(alice, "Planning the garden"))
    deep = _cid(_chat(alice, "something else"))
    _chat(alice, "what about 100%_real zebras?", deep)
    image = base64.b64encode(b"zebra" * 30).decode()
    pictured = _cid(_chat(alice, "look at this", images=[
        {"media_type": "image/png", "data": image}]))
    bob = client(server, server.make_user("bob"))
    _chat(bob, "my garden too")

    def search(q: str) -> list[int]:
        response = alice.get("/api/conversations", params={"q": q})
        assert response.status_code == 200, response.text
        return [c["id"] for c in response.json()["items"]]

    assert search("GARDEN") == [titled]  # case-insensitive; bob's is not listed
    assert search("zebras") == [deep]  # in a later message's text
    assert search("100%_real") == [deep]
    assert search("100%%real") == []  # % and _ are literal characters
    assert search("10_%") == []
    assert search(image[:12]) == []  # image data is not text
    assert pictured in search("look at")


def test_get_rename_delete(alice: httpx.Client, server: Running) -> None:
    body = _chat(alice, "x" * 100)
    cid = _cid(body)
    conversation = alice.get(f"/api/conversations/{cid}").json()
    assert len(conversation["title"]) <= 61 and conversation["title"].endswith("…")
    assert [m["role"] for m in conversation["messages"]] == ["user", "assistant"]
    assert conversation["messages"][1]["cost"] == "0"
    renamed = alice.patch(f"/api/conversations/{cid}", json={"title": "  My   notes "})
    assert renamed.status_code == 200 and renamed.json()["title"] == "My notes"
    empty = alice.patch(f"/api/conversations/{cid}", json={"title": "  "})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "title"
    assert alice.delete(f"/api/conversations/{cid}").status_code == 204
    assert alice.get(f"/api/conversations/{cid}").status_code == 404
    assert server.query(f"SELECT count(*) FROM messages WHERE conversation_id = {cid}") == [(0,)]
    assert alice.delete(f"/api/conversations/{cid}").status_code == 404


def test_rating(alice: httpx.Client, server: Running) -> None:
    body = _chat(alice, "rate me")
    answer, question = body["assistant_message"], body["user_message"]
    assert isinstance(answer, dict) and isinstance(question, dict)
    rated = alice.put(f"/api/messages/{answer['id']}/rating", json={"rating": 1})
    assert rated.status_code == 200 and rated.json()["rating"] == 1
    assert rated.json()["id"] == answer["id"] and rated.json()["text"] == answer["text"]
    assert server.query(f"SELECT rating FROM messages WHERE id = {answer['id']}") == [(1,)]
    assert alice.put(f"/api/messages/{answer['id']}/rating",
                     json={"rating": 0}).json()["rating"] == 0
    bad = alice.put(f"/api/messages/{answer['id']}/rating", json={"rating": 5})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "rating"
    own_question = alice.put(f"/api/messages/{question['id']}/rating", json={"rating": 1})
    assert own_question.status_code == 422
    bob = client(server, server.make_user("bob"))
    stranger = bob.put(f"/api/messages/{answer['id']}/rating", json={"rating": -1})
    assert stranger.status_code == 404
    assert server.query(f"SELECT rating FROM messages WHERE id = {answer['id']}") == [(0,)]


def test_export_as_markdown_and_json(alice: httpx.Client, server: Running) -> None:
    first = _chat(alice, "Über ```fences``` and the garden")
    cid = _cid(first)
    _chat(alice, "and the second question", conversation_id=cid)

    markdown = alice.get(f"/api/conversations/{cid}/export", params={"format": "markdown"})
    assert markdown.status_code == 200
    assert markdown.headers["content-type"].startswith("text/markdown")
    disposition = markdown.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="uber-fences-and-the-garden.md"' in disposition
    text = markdown.text
    assert text.startswith("# Über ```fences``` and the garden\n")
    assert text.count("## You") == 2 and text.count("## Assistant · offline:offline-chat") == 2
    assert "and the second question" in text

    exported = alice.get(f"/api/conversations/{cid}/export", params={"format": "json"})
    assert exported.status_code == 200 and exported.headers["content-type"] == "application/json"
    document = exported.json()
    assert document["format"] == "switchboard.conversation" and document["version"] == 1
    assert document["conversation"]["id"] == cid
    stored = alice.get(f"/api/conversations/{cid}").json()["messages"]
    assert [m["parts"] for m in document["messages"]] == [m["parts"] for m in stored]
    assert len(document["messages"]) == 4

    bob = client(server, server.make_user("bob"))
    assert bob.get(f"/api/conversations/{cid}/export").status_code == 404
    bad = alice.get(f"/api/conversations/{cid}/export", params={"format": "docx"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "format"


def test_pinned_conversations_are_listed_first(alice: httpx.Client, server: Running) -> None:
    ids = [_cid(_chat(alice, f"talk {i}")) for i in range(4)]
    pinned = alice.patch(f"/api/conversations/{ids[0]}", json={"pinned": True})
    assert pinned.status_code == 200 and pinned.json()["pinned"] is True
    assert alice.patch(f"/api/conversations/{ids[2]}", json={"pinned": True}).status_code == 200
    first = alice.get("/api/conversations", params={"limit": 1}).json()
    # pinned first (most recently pinned on top), then one page of the others
    assert [c["id"] for c in first["items"]] == [ids[2], ids[0], ids[3]]
    assert [c["pinned"] for c in first["items"]] == [True, True, False]
    second = alice.get("/api/conversations",
                       params={"limit": 5, "before": first["next_before"]}).json()
    assert [c["id"] for c in second["items"]] == [ids[1]]  # pinned ones are not repeated
    # search keeps pinned matches first; unpinning puts it back in its place
    found = alice.get("/api/conversations", params={"q": "talk"}).json()
    assert [c["id"] for c in found["items"]] == [ids[2], ids[0], ids[3], ids[1]]
    assert alice.patch(f"/api/conversations/{ids[2]}", json={"pinned": False}).json()[
        "pinned"] is False
    after = alice.get("/api/conversations").json()
    assert [c["id"] for c in after["items"]] == [ids[0], ids[3], ids[2], ids[1]]
    # a rename leaves the pin alone; a bad value is a 422 naming the field
    assert alice.patch(f"/api/conversations/{ids[0]}", json={"title": "x"}).json()["pinned"]
    bad = alice.patch(f"/api/conversations/{ids[0]}", json={"pinned": "maybe"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "pinned"
    assert bad.json()["error"]["reason"] == "bool_parsing"


def test_pins_are_bounded(alice: httpx.Client, server: Running,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard.services import conversations

    monkeypatch.setattr(conversations, "MAX_PINNED", 2)  # the server runs in this process
    ids = [_cid(_chat(alice, f"talk {i}")) for i in range(3)]
    for cid in ids[:2]:
        assert alice.patch(f"/api/conversations/{cid}", json={"pinned": True}).status_code == 200
    refused = alice.patch(f"/api/conversations/{ids[2]}", json={"pinned": True})
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["field"] == "pinned"
    assert "unpin one first" in refused.json()["error"]["message"]
