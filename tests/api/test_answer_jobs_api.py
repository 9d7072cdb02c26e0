"""Resumable answers on the wire: event ids on ``/api/chat/stream``, reattaching with
``GET /api/messages/{id}/stream`` (``Last-Event-ID``), a finished answer's last event at
once, ``POST /api/messages/{id}/stop`` from another connection, and another user's
answer being a 404. The vendor is a fake OpenAI holding its stream open (``Hold``) until
the test lets it go, so "mid-answer" is certain and nothing sleeps."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.chat_support import add_provider, client, wait_for
from tests.fakes.openai import MODEL as OPENAI_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Hold, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

REPLY = Reply(chunks=["Once", " upon", " a", " time"], input_tokens=11, output_tokens=4)
Event = tuple[str | None, str, dict[str, Any]]


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    fake = FakeVendor(OpenAIWire())
    with serve_in_thread(fake) as url:
        yield fake, url


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


@pytest.fixture
def hold() -> Iterator[Hold]:
    step = Hold(REPLY, after=2)
    yield step
    step.release.set()  # never leave the fake vendor waiting


def events_of(response: httpx.Response) -> Iterator[Event]:
    """``(id, event, data)`` of an open SSE response, as they arrive."""
    ident: str | None = None
    name = "message"
    for line in response.iter_lines():
        if line.startswith("id: "):
            ident = line.removeprefix("id: ")
        elif line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield ident, name, json.loads(line.removeprefix("data: "))
            ident, name = None, "message"


def text_of(events: list[Event]) -> str:
    return "".join(d["text"] for _, n, d in events if n == "delta")


def _setup(server: Running, vendor: tuple[FakeVendor, str],
           *steps: Any) -> tuple[httpx.Client, str]:
    fake, url = vendor
    ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
    fake.then(*steps)
    return client(server, server.make_user()), ref


def _status(server: Running, message_id: int) -> tuple[Any, ...]:
    rows = wait_for(server, f"SELECT status, error, parts FROM messages WHERE id = {message_id}",
                    lambda rows: rows and rows[0][1] != "in progress")
    status, error, parts = rows[0]
    return status, error, json.loads(str(parts))


def test_every_event_has_an_id_in_order(server: Running, vendor: tuple[FakeVendor, str]) -> None:
    http, ref = _setup(server, vendor, REPLY)
    with http.stream("POST", "/api/chat/stream", json={"text": "story", "model": ref}) as r:
        events = list(events_of(r))
    assert [n for _, n, _ in events] == ["start", "delta", "delta", "delta", "delta", "done"]
    assert [i for i, _, _ in events] == [str(n) for n in range(1, 7)]


def test_reattach_after_last_event_id_gets_only_what_came_after(
        server: Running, vendor: tuple[FakeVendor, str], hold: Hold) -> None:
    fake, _ = vendor
    http, ref = _setup(server, vendor, hold)
    with http.stream("POST", "/api/chat/stream", json={"text": "story", "model": ref}) as r:
        stream = events_of(r)
        first = [next(stream), next(stream), next(stream)]  # start, "Once", " upon"
    # the connection is gone (a reload): the answer goes on
    answer = first[0][2]["assistant_message_id"]
    assert first[2][:2] == ("3", "delta")
    with http.stream("GET", f"/api/messages/{answer}/stream",
                     headers={"last-event-id": "2"}) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        stream = events_of(r)
        assert next(stream) == ("3", "delta", {"text": " upon"})
        hold.release.set()
        rest = list(stream)
    assert [(i, n) for i, n, _ in rest] == [("4", "delta"), ("5", "delta"), ("6", "done")]
    assert text_of(first) + text_of(rest) == "Once upon a time"
    assert rest[-1][2]["message"]["text"] == "Once upon a time"
    assert _status(server, answer)[:2] == ("complete", None)

    # a second reattach without Last-Event-ID replays the whole answer, start included
    with http.stream("GET", f"/api/messages/{answer}/stream") as r:
        replay = list(events_of(r))
    assert [n for _, n, _ in replay] == ["start", "delta", "delta", "delta", "delta", "done"]
    assert text_of(replay) == "Once upon a time"
    assert len(fake.chat_requests()) == 1  # followed three times, generated once


def test_a_dropped_connection_does_not_stop_the_answer(
        server: Running, vendor: tuple[FakeVendor, str], hold: Hold) -> None:
    http, ref = _setup(server, vendor, hold)
    with http.stream("POST", "/api/chat/stream", json={"text": "story", "model": ref}) as r:
        _, _, start = next(events_of(r))
    hold.release.set()
    assert _status(server, start["assistant_message_id"]) == (
        "complete", None, [{"type": "text", "text": "Once upon a time"}])


def test_a_finished_answer_ends_at_once(server: Running,
                                       vendor: tuple[FakeVendor, str]) -> None:
    http, ref = _setup(server, vendor, REPLY)
    with http.stream("POST", "/api/chat/stream", json={"text": "story", "model": ref}) as r:
        events = list(events_of(r))
    answer = events[0][2]["assistant_message_id"]
    # the job is still kept: the Last-Event-ID of "done" leaves nothing to send
    with http.stream("GET", f"/api/messages/{answer}/stream",
                     headers={"last-event-id": events[-1][0] or ""}) as r:
        assert list(events_of(r)) == []
    # once the job is dropped, the saved message answers: done at once
    server.app.state.sb.jobs.forget_finished()
    with http.stream("GET", f"/api/messages/{answer}/stream",
                     headers={"last-event-id": "3"}) as r:
        (ident, name, data), = list(events_of(r))
    assert name == "done" and data["message"]["text"] == "Once upon a time"
    assert data["message"]["id"] == answer and data["conversation"]["id"]
    assert ident is not None and int(ident) > 6
    stop = http.post(f"/api/messages/{answer}/stop")
    assert stop.status_code == 200 and stop.json() == {"message_id": answer, "stopping": False}


def test_stop_from_another_connection_ends_every_follower(
        server: Running, vendor: tuple[FakeVendor, str], hold: Hold) -> None:
    http, ref = _setup(server, vendor, hold)
    with http.stream("POST", "/api/chat/stream", json={"text": "story", "model": ref}) as r:
        stream = events_of(r)
        _, _, start = next(stream)
        answer = start["assistant_message_id"]
        assert next(stream)[1:] == ("delta", {"text": "Once"})
        assert next(stream)[1:] == ("delta", {"text": " upon"})
        with client(server, "unused").stream(
                "GET", f"/api/messages/{answer}/stream",
                headers={"authorization": http.headers["authorization"],
                         "last-event-id": "3"}) as other:
            stopped = http.post(f"/api/messages/{answer}/stop")
            assert stopped.json() == {"message_id": answer, "stopping": True}
            (_, name, data), = list(events_of(other))
        assert (name, data["code"], data["status"]) == ("error", "stopped", "partial")
        assert [n for _, n, _ in stream] == ["error"]
    assert _status(server, answer) == ("partial", "stopped",
                                       [{"type": "text", "text": "Once upon"}])


def test_stop_before_anything_was_said_is_an_error_row(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    hold = Hold(REPLY, after=0)
    http, ref = _setup(server, vendor, hold)
    try:
        with http.stream("POST", "/api/chat/stream",
                         json={"text": "hi", "model": ref}) as r:
            stream = events_of(r)
            _, _, start = next(stream)
            http.post(f"/api/messages/{start['assistant_message_id']}/stop")
            assert [(n, d["code"], d["status"]) for _, n, d in stream] == [
                ("error", "stopped", "error")]
    finally:
        hold.release.set()
    assert _status(server, start["assistant_message_id"])[:2] == ("error", "stopped")


def test_another_users_answer_is_a_404(server: Running, vendor: tuple[FakeVendor, str],
                                       hold: Hold) -> None:
    http, ref = _setup(server, vendor, hold)
    mallory = client(server, server.make_user("mallory"))
    with http.stream("POST", "/api/chat/stream", json={"text": "story", "model": ref}) as r:
        _, _, start = next(events_of(r))
        answer = start["assistant_message_id"]
        for response in (mallory.get(f"/api/messages/{answer}/stream"),
                         mallory.post(f"/api/messages/{answer}/stop"),
                         mallory.get(f"/api/messages/{answer + 1000}/stream")):
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
        # the question is not an answer either
        question = start["user_message"]["id"]
        assert http.get(f"/api/messages/{question}/stream").status_code == 404
    hold.release.set()
    assert _status(server, answer)[:2] == ("complete", None)  # mallory stopped nothing


def test_too_many_answers_at_once_is_a_429(server: Running, vendor: tuple[FakeVendor, str]) -> None:
    holds = [Hold(REPLY, after=1) for _ in range(5)]
    http, ref = _setup(server, vendor, *holds)
    jobs = server.app.state.sb.jobs
    try:
        responses = []
        for _ in range(jobs.max_per_user):
            r = http.send(http.build_request("POST", "/api/chat/stream",
                                             json={"text": "story", "model": ref}), stream=True)
            assert r.status_code == 200
            responses.append(r)
        refused = http.post("/api/chat/stream", json={"text": "one more", "model": ref})
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "too_many_answers"
        assert refused.headers["retry-after"] == "5"
    finally:
        for h in holds:
            h.release.set()
        for r in responses:
            r.close()
