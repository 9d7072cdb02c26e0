"""An answer is never lost: the rows after an upstream cut, an upstream 500 before the
first byte, and a server shutdown mid-stream. (The stop button and a dropped connection:
tests/api/test_answer_jobs_api.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.chat_support import FAKE_KEY, add_provider, client, sse_events, wait_for
from tests.fakes.openai import MODEL as OPENAI_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Break, Fail, Reply, Stall
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

REPLY = Reply(chunks=["Once", " upon", " a", " time"], input_tokens=11, output_tokens=4)


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    fake = FakeVendor(OpenAIWire())
    with serve_in_thread(fake) as url:
        yield fake, url


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


def _answer(server: Running, message_id: int) -> tuple[Any, ...]:
    rows = wait_for(server, f"SELECT status, error, parts, output_tokens, finish_reason "
                            f"FROM messages WHERE id = {message_id}",
                    lambda rows: rows and rows[0][1] != "in progress")
    assert rows, f"message {message_id} was not saved"
    status, error, parts, tokens, finish = rows[0]
    return status, error, json.loads(str(parts)), tokens, finish


def _usage(server: Running) -> list[tuple[Any, ...]]:
    return wait_for(server, "SELECT provider, model, source, status, error_code "
                            "FROM usage_events ORDER BY id", bool)


def test_upstream_cut_midway_saves_partial_with_the_reason(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
    fake.then(Break(REPLY, after=2))
    http = client(server, server.make_user())
    with http.stream("POST", "/api/chat/stream",
                     json={"text": "tell me a story", "model": ref}) as response:
        events = list(sse_events(response))
    names = [n for n, _ in events]
    assert names == ["start", "delta", "delta", "error"]
    error = events[-1][1]
    assert error["status"] == "partial" and error["code"] == "connection_error"
    assert error["retryable"] is True  # the user may regenerate
    assert "connection" in error["message"]
    assert error["message_id"] == events[0][1]["assistant_message_id"]
    status, reason, parts, _, _ = _answer(server, error["message_id"])
    assert status == "partial" and reason == error["message"]
    assert parts == [{"type": "text", "text": "Once upon"}]
    assert FAKE_KEY not in reason
    assert [u[3:] for u in _usage(server)] == [("partial", "connection_error")]
    conversation = http.get(f"/api/conversations/{events[0][1]['conversation']['id']}")
    assert conversation.json()["messages"][1]["status"] == "partial"


def test_upstream_500_before_the_first_byte_is_a_json_error_and_an_error_row(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL, max_retries=2)
    retry_now = {"retry-after": "0"}
    fake.then(*(Fail(500, "upstream exploded", headers=retry_now) for _ in range(3)))
    http = client(server, server.make_user())
    response = http.post("/api/chat/stream", json={"text": "hello?", "model": ref})
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["error"]["code"] == "server_error"
    assert len(fake.chat_requests()) == 3  # retried before giving up
    cid = int(response.headers["x-switchboard-conversation-id"])
    mid = int(response.headers["x-switchboard-message-id"])
    messages = http.get(f"/api/conversations/{cid}").json()["messages"]
    assert [(m["role"], m["status"]) for m in messages] == [("user", "complete"),
                                                             ("assistant", "error")]
    assert messages[1]["id"] == mid and messages[1]["parts"] == []
    assert "upstream exploded" in messages[1]["error"]
    assert [u[2:] for u in _usage(server)] == [("chat", "error", "server_error")]
    # regenerate after the failure answers the same question, replacing the error row
    fake.then(REPLY)
    again = http.post("/api/chat", json={"conversation_id": cid, "regenerate": True,
                                         "model": ref})
    assert again.status_code == 200, again.text
    messages = http.get(f"/api/conversations/{cid}").json()["messages"]
    assert [(m["role"], m["status"], m["text"]) for m in messages] == [
        ("user", "complete", "hello?"), ("assistant", "complete", "Once upon a time")]


def test_failed_regenerate_keeps_the_previous_answer(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
    fake.then(REPLY, Fail(503, "busy"))
    http = client(server, server.make_user())
    first = http.post("/api/chat", json={"text": "hi", "model": ref}).json()
    cid = first["conversation"]["id"]
    failed = http.post("/api/chat/stream", json={"conversation_id": cid, "regenerate": True,
                                                 "model": ref})
    assert failed.status_code == 502
    assert "x-switchboard-message-id" not in failed.headers
    messages = http.get(f"/api/conversations/{cid}").json()["messages"]
    assert [m["id"] for m in messages] == [first["user_message"]["id"],
                                           first["assistant_message"]["id"]]


def test_server_shutdown_mid_stream_saves_the_partial_answer(
        vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    fake.then(Stall(REPLY, after=1, seconds=30))
    with running_server() as server:
        ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
        http = client(server, server.make_user())
        response = http.send(http.build_request(
            "POST", "/api/chat/stream", json={"text": "a long story", "model": ref}),
            stream=True)
        events = sse_events(response)
        _, start = next(events)
        assert next(events) == ("delta", {"text": "Once"})
    # the server has stopped (graceful shutdown cancelled the stream, then drained)
    response.close()
    rows = server.query("SELECT status, error, parts FROM messages "
                        f"WHERE id = {start['assistant_message_id']}")
    status, reason, parts = rows[0]
    assert status == "partial" and reason is not None and "interrupted" in str(reason)
    assert json.loads(str(parts)) == [{"type": "text", "text": "Once"}]
    usage = server.query("SELECT source, status FROM usage_events")
    assert usage == [("chat", "partial")]
