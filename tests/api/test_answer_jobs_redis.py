"""Resumable answers across two ``switchboard serve`` processes sharing one database and
one Redis: an answer started on worker A is reattached on worker B after its
``Last-Event-ID`` (B reads A's log from the Redis stream) and stopped from B (a notice A
acts on). Also the log's folding, which a late follower on B reads as one snapshot."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from switchboard.services.answer_jobs import MAX_EVENTS
from tests.api.chat_support import add_provider, wait_for
from tests.api.test_answer_jobs_api import events_of, text_of
from tests.fakes.openai import MODEL as OPENAI_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Hold, Reply
from tests.fakes.server import free_port, serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server_process import prepare_database, serve

REPLY = Reply(chunks=["Once", " upon", " a", " time"], input_tokens=11, output_tokens=4)


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    fake = FakeVendor(OpenAIWire())
    with serve_in_thread(fake) as url:
        yield fake, url


@pytest.mark.redis
def test_started_on_a_followed_and_stopped_on_b(redis_url: str,
                                                vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    db = prepare_database()
    ref = add_provider(db, "fakeai", "openai", url, OPENAI_MODEL)
    token = db.make_user()
    first, second = Hold(REPLY, after=2), Hold(REPLY, after=2)
    long = Reply(chunks=[f"w{i} " for i in range(MAX_EVENTS + 500)], output_tokens=9)
    late = Hold(long, after=MAX_EVENTS + 100)
    fake.then(first, second, late)
    a, b = free_port(), free_port()
    auth = {"authorization": f"Bearer {token}"}
    env = {"SWITCHBOARD_REDIS_URL": redis_url}
    try:
        with serve(a, env=env), serve(b, env=env), \
                httpx.Client(base_url=f"http://127.0.0.1:{a}", headers=auth, timeout=30) as on_a, \
                httpx.Client(base_url=f"http://127.0.0.1:{b}", headers=auth, timeout=30) as on_b:
            # 1. started on A, the connection dropped, reattached on B after id 2
            with on_a.stream("POST", "/api/chat/stream",
                             json={"text": "story", "model": ref}) as r:
                stream = events_of(r)
                seen = [next(stream), next(stream)]
            answer = seen[0][2]["assistant_message_id"]
            with on_b.stream("GET", f"/api/messages/{answer}/stream",
                             headers={"last-event-id": "2"}) as r:
                stream = events_of(r)
                assert next(stream) == ("3", "delta", {"text": " upon"})
                first.release.set()
                rest = list(stream)
            assert [(i, n) for i, n, _ in rest] == [("4", "delta"), ("5", "delta"),
                                                     ("6", "done")]
            assert rest[-1][2]["message"]["text"] == "Once upon a time"

            # 2. started on A, stopped from B: A's follower gets the stop
            with on_a.stream("POST", "/api/chat/stream",
                             json={"text": "again", "model": ref}) as r:
                stream = events_of(r)
                _, _, start = next(stream)
                assert [n for _, n, _ in (next(stream), next(stream))] == ["delta", "delta"]
                stop = on_b.post(f"/api/messages/{start['assistant_message_id']}/stop")
                assert stop.json() == {"message_id": start["assistant_message_id"],
                                       "stopping": True}
                (_, name, data), = list(stream)
            assert (name, data["code"], data["status"]) == ("error", "stopped", "partial")
            rows = wait_for(db, "SELECT status, error, parts FROM messages WHERE id = "
                                f"{start['assistant_message_id']}",
                            lambda rows: rows and rows[0][1] != "in progress")
            assert rows[0][:2] == ("partial", "stopped")
            assert json.loads(str(rows[0][2])) == [{"type": "text", "text": "Once upon"}]

            # 3. a log past its bounds was folded: B replays it as start + snapshot + rest
            with on_a.stream("POST", "/api/chat/stream",
                             json={"text": "long", "model": ref}) as r:
                stream = events_of(r)
                _, _, start = next(stream)
                for _ in range(MAX_EVENTS + 100):
                    next(stream)
            answer = start["assistant_message_id"]
            with on_b.stream("GET", f"/api/messages/{answer}/stream") as r:
                stream = events_of(r)
                head = [next(stream), next(stream)]
                late.release.set()
                replay = [*head, *stream]
            assert [n for _, n, _ in head] == ["start", "snapshot"]
            assert head[1][2]["text"].startswith("w0 w1 ")
            assert replay[-1][1] == "done"
            assert head[1][2]["text"] + text_of(replay) == "".join(long.chunks)
            assert len(fake.chat_requests()) == 3  # three answers, each generated once
    finally:
        for hold in (first, second, late):
            hold.release.set()
