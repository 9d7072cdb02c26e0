"""An ``ask`` tool's approve / deny across two ``switchboard serve`` processes sharing one
database and one Redis (decision 0190): the answer runs on worker A and waits; the
owner's approve (or deny) reaches worker B, which finds the waiting call in A's relayed
log and hands the decision to A; the tool runs (or is declined) and the answer ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.chat_support import add_provider
from tests.api.test_answer_jobs_api import events_of
from tests.fakes.openai import MODEL as OPENAI_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Reply, ScriptToolCall
from tests.fakes.server import free_port, serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server_process import prepare_database, serve, wait_until

Event = tuple[str | None, str, dict[str, Any]]


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    fake = FakeVendor(OpenAIWire())
    with serve_in_thread(fake) as url:
        yield fake, url


def _calls(call_id: str, expression: str) -> Reply:
    return Reply(chunks=[], finish="tool_calls", tool_calls=[
        ScriptToolCall(call_id, "calculator", f'{{"expression": "{expression}"}}')])


def _until_asked(stream: Iterator[Event]) -> list[Event]:
    seen: list[Event] = []
    for event in stream:
        seen.append(event)
        if event[1] == "approval_needed":
            return seen
    raise AssertionError(f"no approval was asked: {seen}")


@pytest.mark.redis
def test_approved_and_denied_on_another_worker(redis_url: str,
                                               vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    db = prepare_database()
    ref = add_provider(db, "fakeai", "openai", url, OPENAI_MODEL)
    token = db.make_user()
    admin = db.make_user("root", role="admin")
    fake.then(_calls("call_a", "6 * 7"), Reply(chunks=["It is 42."]),
              _calls("call_b", "1 + 1"), Reply(chunks=["Not computed."]))
    a, b = free_port(), free_port()
    auth = {"authorization": f"Bearer {token}"}
    env = {"SWITCHBOARD_REDIS_URL": redis_url}
    with serve(a, env=env), serve(b, env=env), \
            httpx.Client(base_url=f"http://127.0.0.1:{a}", headers=auth, timeout=30) as on_a, \
            httpx.Client(base_url=f"http://127.0.0.1:{b}", headers=auth, timeout=30) as on_b:
        set_ask = on_a.patch("/api/tools/calculator", json={"policy": "ask"},
                             headers={"authorization": f"Bearer {admin}"})
        assert set_ask.status_code == 200, set_ask.text

        # 1. approved on B: A runs the calculator and the answer completes
        with on_a.stream("POST", "/api/chat/stream",
                         json={"text": "6 times 7?", "model": ref,
                               "tools": ["calculator"]}) as r:
            stream = events_of(r)
            seen = _until_asked(stream)
            answer = seen[0][2]["assistant_message_id"]
            base = f"/api/messages/{answer}/tool-calls"
            assert on_b.post(f"{base}/call_zz/approve").status_code == 409  # never asked
            approved = on_b.post(f"{base}/call_a/approve")
            assert approved.status_code == 200, approved.text
            assert approved.json() == {"message_id": answer, "call_id": "call_a",
                                       "approved": True}
            rest = list(stream)
        events = seen + rest
        assert ("approval", {"id": "call_a", "approved": True}) in [
            (n, d) for _, n, d in events]
        result, = [d for _, n, d in events if n == "tool_result"]
        assert (result["text"], result["is_error"]) == ("42", False)
        assert events[-1][1] == "done", events[-1]
        assert events[-1][2]["message"]["text"] == "It is 42."
        # decided: B now says so from A's log (the approval event is there)
        wait_until(lambda: on_b.post(f"{base}/call_a/deny").status_code == 409)

        # 2. denied on B: A declines the call, the model reads that, the answer ends
        with on_a.stream("POST", "/api/chat/stream",
                         json={"text": "1 + 1?", "model": ref,
                               "tools": ["calculator"]}) as r:
            stream = events_of(r)
            seen = _until_asked(stream)
            answer = seen[0][2]["assistant_message_id"]
            denied = on_b.post(f"/api/messages/{answer}/tool-calls/call_b/deny")
            assert denied.status_code == 200, denied.text
            rest = list(stream)
        events = seen + rest
        assert ("approval", {"id": "call_b", "approved": False}) in [
            (n, d) for _, n, d in events]
        result, = [d for _, n, d in events if n == "tool_result"]
        assert result["is_error"] and result["text"] == "the user declined this tool call"
        assert events[-1][1] == "done" and events[-1][2]["message"]["text"] == "Not computed."
        # the model's next step saw the decline as the tool's result
        last = fake.chat_requests()[-1].body["messages"][-1]
        assert last["role"] == "tool" and "declined" in str(last["content"])
        # a stranger cannot decide another user's call, on any worker
        stranger = db.make_user("eve")
        assert on_b.post(f"/api/messages/{answer}/tool-calls/call_b/approve",
                         headers={"authorization": f"Bearer {stranger}"}).status_code == 404
