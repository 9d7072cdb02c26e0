"""A hard kill and a SIGTERM in the middle of a long answer, on a real server process.

- ``kill -9``: what was streamed before the kill is on disk (progress saved every
  second), and the next start closes the answer with the reason "interrupted by a crash"
  and a usage row marked estimated.
- SIGTERM: the client gets a last ``error`` event ("shutting down") on ``/api/chat`` and an
  OpenAI error chunk on ``/v1`` instead of a cut stream; the partial answer is saved; no
  traceback in the log.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.api.chat_support import add_provider, client, sse_events, wait_for
from tests.fakes.openai import MODEL as OPENAI_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Reply, Slow
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server_process import prepare_database, server_process, wait_until

WORDS = [f" word{i}" for i in range(400)]  # ~40 s at 0.1 s a word: longer than any test
LONG = Reply(chunks=WORDS, input_tokens=50, output_tokens=len(WORDS))


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    fake = FakeVendor(OpenAIWire())
    with serve_in_thread(fake) as url:
        yield fake, url


def _answer_row(running: Any, message_id: int) -> tuple[Any, ...]:
    rows = running.query("SELECT status, error, parts, writer, usage_estimated, cost, "
                         f"output_tokens FROM messages WHERE id = {message_id}")
    assert rows, f"message {message_id} is missing"
    return rows[0]


def test_a_hard_kill_mid_stream_keeps_the_partial_answer(
        vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    db = prepare_database()
    ref = add_provider(db, "fakeai", "openai", url, OPENAI_MODEL)
    token = db.make_user()
    fake.then(Slow(LONG, delay=0.1))
    with server_process() as (process, running):
        http = client(running, token)
        with http.stream("POST", "/api/chat/stream",
                         json={"text": "a long story please", "model": ref}) as response:
            events = sse_events(response)
            name, start = next(events)
            assert name == "start"
            message_id = start["assistant_message_id"]
            conversation_id = start["conversation"]["id"]
            for _ in range(15):
                assert next(events)[0] == "delta"

            def saved_ten_words() -> bool:
                parts = json.loads(str(_answer_row(running, message_id)[2]))
                return bool(parts) and len(parts[0]["text"]) >= len("".join(WORDS[:10]))
            wait_until(saved_ten_words)  # progress saves happen while it streams
            process.signal(signal.SIGKILL)
            assert process.wait() == -signal.SIGKILL
        status, error, parts, writer, *_ = _answer_row(running, message_id)
        assert (status, error) == ("partial", "in progress") and writer  # what a crash leaves
        saved_text = json.loads(str(parts))[0]["text"]
    assert not running.query("SELECT id FROM usage_events")  # the dead process wrote none

    with server_process() as (_, running):  # the restart closes the answer
        http = client(running, token)
        shown = http.get(f"/api/conversations/{conversation_id}").json()
        answer = next(m for m in shown["messages"] if m["id"] == message_id)
        assert answer["status"] == "partial"
        assert answer["error"] == "interrupted by a crash"
        assert answer["text"] == saved_text and "".join(WORDS).startswith(saved_text)
        assert len(saved_text) >= len("".join(WORDS[:10]))  # saved while streaming
        assert answer["usage_estimated"] is True and answer["cost"] is not None
        rows = wait_for(running, "SELECT status, estimated, error_code, output_tokens, cost "
                                 "FROM usage_events", bool)
        assert len(rows) == 1
        status, estimated, code, output, cost = rows[0]
        assert (status, bool(estimated), code) == ("partial", True, "interrupted")
        assert int(str(output)) > 0 and cost is not None
        assert _answer_row(running, message_id)[3] is None  # no writer any more


def test_sigterm_mid_stream_ends_both_surfaces_with_a_shutting_down_error(
        vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    db = prepare_database()
    ref = add_provider(db, "fakeai", "openai", url, OPENAI_MODEL)
    token = db.make_user()
    fake.then(Slow(LONG, delay=0.1), Slow(LONG, delay=0.1))
    with server_process() as (process, running):
        http = client(running, token)
        sdk = openai.OpenAI(base_url=running.v1, api_key=token, max_retries=0,
                            http_client=httpx.Client(timeout=30))
        with http.stream("POST", "/api/chat/stream",
                         json={"text": "a long story please", "model": ref}) as response:
            events = sse_events(response)
            name, start = next(events)
            assert name == "start"
            for _ in range(5):
                assert next(events)[0] == "delta"
            v1 = sdk.chat.completions.create(
                model=ref, messages=[{"role": "user", "content": "another long story"}],
                stream=True)
            v1_chunks = iter(v1)
            for _ in range(5):
                next(v1_chunks)

            process.signal(signal.SIGTERM)

            rest = list(events)
            with pytest.raises(openai.APIError) as raised:
                for _ in v1_chunks:
                    pass
        # uvicorn re-raises the signal once it has shut down gracefully: "terminated".
        assert process.wait() == -signal.SIGTERM
        assert "Application shutdown complete" in process.log, process.log
    assert rest, "the stream was cut without a last event"
    last_name, last = rest[-1]
    assert last_name == "error" and last["code"] == "shutting_down", rest[-1]
    assert "shutting down" in last["message"] and last["status"] == "partial"
    assert all(name == "delta" for name, _ in rest[:-1])
    assert "shutting down" in str(raised.value.message)
    assert getattr(raised.value, "code", None) == "shutting_down"

    status, error, parts, writer, *_ = _answer_row(running, start["assistant_message_id"])
    assert status == "partial" and "server stopped" in str(error) and writer is None
    assert json.loads(str(parts))[0]["text"].startswith(" word0 word1")
    usage = running.query("SELECT source, status FROM usage_events ORDER BY source")
    assert usage == [("api", "partial"), ("chat", "partial")]
    assert "Traceback" not in process.log, process.log
