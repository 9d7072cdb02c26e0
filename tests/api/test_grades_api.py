"""Feedback becomes votes and the leaderboard on a real server: thumbs, a regenerated
answer, a side-by-side vote between two offline models (the chosen answer becomes the
conversation's), ``GET /api/leaderboard`` and the admin's exclusions; bad input is the
REST surface's 422/404/403, never a 500."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.chat_support import add_provider, client
from tests.server import Running, isolated_server

FIRST = "offline:offline-chat"


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """The module's server isolates the environment for the whole module."""
    yield


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with isolated_server(tmp_path_factory, "grades") as running:
        yield running


def _chat(http: httpx.Client, **body: Any) -> dict[str, Any]:
    response = http.post("/api/chat", json=body)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def _votes(server: Running) -> list[tuple[object, ...]]:
    return server.query("SELECT source, a, b, winner FROM grade_votes ORDER BY id")


def test_feedback_votes_and_the_leaderboard(server: Running) -> None:
    second = add_provider(server, "local", "offline", "", "offline-chat")
    alice = client(server, server.make_user("alice"))
    admin = client(server, server.make_user("chief", role="admin"))

    first = _chat(alice, text="Write a haiku about tea", model=FIRST)
    cid, a1 = first["conversation"]["id"], first["assistant_message"]["id"]
    assert alice.put(f"/api/messages/{a1}/rating", json={"rating": 1}).status_code == 200
    assert alice.put(f"/api/messages/{a1}/rating", json={"rating": -1}).status_code == 200
    assert _votes(server) == [("rating", FIRST, None, "b")]  # the second rating replaced it
    assert alice.put(f"/api/messages/{a1}/rating", json={"rating": 0}).status_code == 200
    assert _votes(server) == []  # neutral: no vote

    # Asking again counts against the answer shown, once.
    again = _chat(alice, conversation_id=cid, regenerate=True, model=second)
    a2 = again["assistant_message"]["id"]
    assert _votes(server) == [("regenerate", FIRST, None, "b")]

    # The two answers side by side: the first wins and becomes the conversation's.
    voted = alice.post("/api/comparisons/vote", json={"answers": [a1, a2], "winner": a1})
    assert voted.status_code == 200, voted.text
    assert voted.json() == {"conversation_id": cid, "votes": 1}
    assert server.query(f"SELECT leaf_id FROM conversations WHERE id = {cid}") == [(a1,)]
    # Voting again on the same answers replaces the vote (here: a tie).
    assert alice.post("/api/comparisons/vote",
                      json={"answers": [a1, a2], "winner": None}).json()["votes"] == 1
    assert _votes(server)[1:] == [("compare", FIRST, second, "tie")]
    # …and a tie gives the conversation back the answer listed first (shown before).
    alice.post("/api/comparisons/vote", json={"answers": [a2, a1], "winner": None})
    assert server.query(f"SELECT leaf_id FROM conversations WHERE id = {cid}") == [(a2,)]
    alice.post("/api/comparisons/vote", json={"answers": [a2, a1], "winner": a2})

    # Bounded, owned, answers to one question only.
    question = first["user_message"]["id"]
    bob = client(server, server.make_user("bob"))
    for who, body, status, field in [
        (alice, {"answers": [a1]}, 422, "answers"),
        (alice, {"answers": [a1, a2, a1, a2, a1]}, 422, "answers"),
        (alice, {"answers": [a1, a1]}, 422, "answers"),
        (alice, {"answers": [a1, a2], "winner": question}, 422, "winner"),
        (alice, {"answers": [a1, question]}, 422, "answers"),
        (alice, {"answers": [a1, 0]}, 422, "answers.1"),
        (bob, {"answers": [a1, a2], "winner": a1}, 404, None),
    ]:
        refused = who.post("/api/comparisons/vote", json=body)
        assert refused.status_code == status, (body, refused.text)
        if field:
            assert refused.json()["error"]["field"] == field, refused.text
    assert len(_votes(server)) == 2

    board = alice.get("/api/leaderboard")
    assert board.status_code == 200, board.text
    body = board.json()
    assert body["task"] == "all" and "code" in body["tasks"] and "excluded" not in body
    assert [r["model"] for r in body["models"]] == [second, FIRST]  # won the last vote
    top = body["models"][0]
    assert top["rank"] == 1 and top["low"] <= top["grade"] <= top["high"]
    assert top["votes"] == 1 and top["wins"] == 1 and "excluded" not in top
    assert body["models"][1]["usage"]["requests"] >= 1  # the usage roll-ups beside it
    assert body["votes"] == 2  # the comparison and the regenerated answer
    assert alice.get("/api/leaderboard", params={"task": "code"}).json()["models"] == []
    # The question's task type (the classifier's, on the answer) goes with its votes.
    assert server.query("SELECT DISTINCT task FROM grade_votes") == [("writing",)]
    writing = alice.get("/api/leaderboard", params={"task": "writing"}).json()
    assert [r["model"] for r in writing["models"]] == [second, FIRST]
    unknown = alice.get("/api/leaderboard", params={"task": "poetry"})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "task"

    # Admins exclude a model: members no longer see it, admins see it flagged.
    assert alice.put("/api/leaderboard/exclusions",
                     json={"models": [FIRST]}).status_code == 403
    put = admin.put("/api/leaderboard/exclusions", json={"models": [FIRST]})
    assert put.status_code == 200 and put.json() == {"excluded": [FIRST]}
    assert [r["model"] for r in alice.get("/api/leaderboard").json()["models"]] == [second]
    seen = admin.get("/api/leaderboard").json()
    assert seen["excluded"] == [FIRST]
    assert [(r["model"], r["excluded"]) for r in seen["models"]] == [(second, False),
                                                                     (FIRST, True)]
    assert admin.put("/api/leaderboard/exclusions",
                     json={"models": ["x" * 302]}).status_code == 422
    assert server.query("SELECT action FROM audit_log WHERE target_type = 'leaderboard'") == [
        ("leaderboard.exclusions",)]


def test_suggestions_and_their_hit_rate(server: Running) -> None:
    carl = client(server, server.make_user("carl"))
    admin = client(server, server.make_user("boss", role="admin"))
    for text in ("one", "two"):
        _chat(carl, text=text, model=FIRST)
    answer = _chat(carl, text="three", model=FIRST)["assistant_message"]["id"]
    carl.put(f"/api/messages/{answer}/rating", json={"rating": 1})
    found = carl.get("/api/suggestions").json()
    assert found["task"] == "all"
    assert [(s["model"], s["reason"]) for s in found["suggestions"]] == [
        (FIRST, "you chose it 3 times, rated it up once")]
    # Another user's history is not theirs; a task type without history suggests nothing.
    assert client(server, server.make_user("dina")).get(
        "/api/suggestions").json()["suggestions"] == []
    assert carl.get("/api/suggestions", params={"task": "code"}).json()["suggestions"] == []
    assert carl.get("/api/suggestions", params={"task": "x"}).status_code == 422

    for taken in (True, False, True, True):
        sent = carl.post("/api/suggestions/outcome", json={"taken": taken})
        assert sent.status_code == 204, sent.text
    assert carl.post("/api/suggestions/outcome", json={}).status_code == 422
    assert carl.get("/api/suggestions/hit-rate").status_code == 403
    rate = admin.get("/api/suggestions/hit-rate", params={"days": 7}).json()
    assert (rate["shown"], rate["taken"], rate["hit_rate"]) == (4, 3, 0.75)
    bad = admin.get("/api/suggestions/hit-rate", params={"days": 5})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "days"
    # …and the same figures are in the admin dashboard's data.
    board = admin.get("/api/dashboard", params={"days": 7}).json()["suggestions"]
    assert (board["shown"], board["taken"], board["hit_rate"], board["users"]) == (
        4, 3, 0.75, 1)


def test_suggestions_for_a_draft(server: Running) -> None:
    """The picker posts what is being typed: it is classified, and the user's history of
    that task type suggests; a draft too large or with too many images is a 422."""
    finn = client(server, server.make_user("finn"))
    _chat(finn, text="Write a Python function that reverses a string", model=FIRST)
    _chat(finn, text="Translate 'good night' into French", model=FIRST)
    draft = finn.post("/api/suggestions",
                      json={"prompt": "Fix this Python function: def f(x) return x"})
    assert draft.status_code == 200, draft.text
    found = draft.json()
    assert found["task"] == "code" and 0 < found["confidence"] <= 1
    assert [(s["model"], s["reason"]) for s in found["suggestions"]] == [
        (FIRST, "you chose it once for code")]
    chat = finn.post("/api/suggestions", json={"prompt": "hello there, how are you?"})
    assert chat.json()["task"] == "chat" and chat.json()["suggestions"] == []
    # the reason names the task in words ("for translation"; "for factual questions")
    words = finn.post("/api/suggestions", json={"prompt": "Translate 'thank you' into German"})
    assert words.json()["task"] == "translation"
    assert words.json()["suggestions"][0]["reason"] == "you chose it once for translation"
    for bad in ({"prompt": "x" * 20_001}, {"prompt": "hi", "images": 33},
                {"prompt": "hi", "extra": 1}, {"prompt": ["a"]}):
        assert finn.post("/api/suggestions", json=bad).status_code == 422, bad


def test_an_answer_for_comparison_is_not_a_regenerate_vote(server: Running) -> None:
    erin = client(server, server.make_user("erin"))
    first = _chat(erin, text="Compare me", model=FIRST)
    cid = first["conversation"]["id"]
    before = server.query("SELECT count(*) FROM grade_votes WHERE source = 'regenerate'")
    beside = _chat(erin, conversation_id=cid, regenerate=True, compare=True, model=FIRST)
    assert beside["assistant_message"]["id"] != first["assistant_message"]["id"]
    assert server.query(
        "SELECT count(*) FROM grade_votes WHERE source = 'regenerate'") == before
    refused = erin.post("/api/chat", json={"conversation_id": cid, "text": "x",
                                           "compare": True})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "compare"
