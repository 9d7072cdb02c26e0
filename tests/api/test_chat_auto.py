"""Auto in the web chat's API: the ``start`` event carries the pick, a follow-up in the
same conversation is classified with its context, a regenerate classifies the question
it answers again, and another user's conversation is refused as without Auto."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.chat_support import client, stream_chat
from tests.server import Running, running_server


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


def test_auto_in_the_chat(server: Running) -> None:
    alice = client(server, server.make_user("alice"))
    events = stream_chat(alice, {"model": "auto", "text": "Translate 'good night' into French"})
    start = events[0][1]
    assert start["model"] == "offline:offline-chat"
    assert start["auto"]["task"] == "translation" and start["auto"]["tier"] == "auto"
    assert start["auto"]["model"] == start["model"]
    assert events[-1][0] == "done"
    cid = start["conversation"]["id"]

    follow = stream_chat(alice, {"model": "auto", "conversation_id": cid,
                                 "text": "and into Spanish?"})
    assert follow[0][1]["auto"]["task"] == "translation"
    again = stream_chat(alice, {"model": "auto:cheap", "conversation_id": cid,
                                "regenerate": True})
    assert again[0][1]["auto"]["task"] == "translation"
    assert again[0][1]["auto"]["tier"] == "cheap"
    named = stream_chat(alice, {"model": "offline:offline-chat", "conversation_id": cid,
                                "text": "thanks"})
    assert named[0][1]["auto"] is None

    # Saved with the answer: a reload (another tab) shows why, and so does an export.
    saved = alice.get(f"/api/conversations/{cid}").json()["messages"]
    answers = [m for m in saved if m["role"] == "assistant"]
    assert answers[-2]["auto"]["tier"] == "cheap"
    assert answers[-2]["auto"]["reason"] == again[0][1]["auto"]["reason"]
    assert answers[-2]["auto"]["model"] == answers[-2]["model"]
    assert answers[-1]["auto"] is None
    exported = alice.get(f"/api/conversations/{cid}/export?format=markdown").text
    assert f"_Auto: {again[0][1]['auto']['reason']}_" in exported
    assert exported.count("_Auto: ") == 2  # the branch shown: first answer, regenerated one

    bob = client(server, server.make_user("bob"))
    refused = bob.post("/api/chat", json={"model": "auto", "conversation_id": cid,
                                          "text": "hi"})
    assert refused.status_code == 404
    for http in (alice, bob):
        http.close()


def test_a_bad_auto_tier_is_an_unknown_model(server: Running) -> None:
    alice: httpx.Client = client(server, server.make_user("carol"))
    response = alice.post("/api/chat", json={"model": "auto:fastest", "text": "hi"})
    assert response.status_code in (404, 422)
    alice.close()
