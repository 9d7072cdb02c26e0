"""Honest accounting: a stopped answer whose vendor never reported usage is recorded with
estimated tokens (and the cost of those), flagged as estimated — on ``/api/chat`` and on
``/v1`` — and the usage report says who spent what (API, CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import openai
import pytest

from tests.api.chat_support import add_provider, client, sse_events, wait_for
from tests.cli.run import run_cli
from tests.fakes.openai import MODEL as OPENAI_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Reply, Stall
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

# A known number of tokens: the text below split into its real OpenAI tokens (cl100k, as
# the tokenizer splits it), one token per streamed chunk, as OpenAI streams.
TOKENS = ["Switch", "board", " keeps", " a", " record", " of", " every", " call", ",", " so",
          " a", " team", " can", " see", " who", " spent", " what", ".", " When", " an",
          " answer", " is", " stopped", " halfway", ",", " the", " provider", " has", " still",
          " produced", " the", " tokens", " that", " reached", " the", " screen", ",", " and",
          " it", " bills", " them", ";", " recording", " nothing", " would", " hide", " real",
          " spending", " from", " the", " people", " who", " pay", " for", " it", "."]
SENT = 40  # tokens streamed before the stop
# The estimator is ~4 characters per token (services/usage_estimate.py): within 25 % on
# English prose.
TOLERANCE = 0.25
PRICE_IN, PRICE_OUT = Decimal("0.15"), Decimal("0.60")  # gpt-4o-mini, per million


def _slow_reply() -> Stall:
    """SENT tokens, then silence: the usage the vendor would send at the end never comes."""
    return Stall(Reply(chunks=TOKENS, input_tokens=999, output_tokens=999), after=SENT,
                 seconds=30)


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    fake = FakeVendor(OpenAIWire())
    with serve_in_thread(fake) as url:
        yield fake, url


def _estimated_row(server: Running, source: str) -> tuple[int, int, Decimal]:
    rows = wait_for(server, "SELECT input_tokens, output_tokens, cost, estimated, status "
                            f"FROM usage_events WHERE source = '{source}'", bool)
    assert len(rows) == 1, rows
    inp, out, cost, estimated, status = rows[0]
    assert status == "partial" and bool(estimated) is True
    inp, out = int(str(inp)), int(str(out))
    assert abs(out - SENT) <= TOLERANCE * SENT, f"{out} estimated for {SENT} tokens"
    assert inp > 0  # the prompt was sent and billed too
    assert cost is not None
    expected = (inp * PRICE_IN + out * PRICE_OUT) / 1_000_000
    assert Decimal(str(cost)) == pytest.approx(expected)
    return inp, out, Decimal(str(cost))


def test_a_stopped_chat_answer_is_accounted_with_estimated_tokens(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
    fake.then(_slow_reply())
    http = client(server, server.make_user())
    with http.stream("POST", "/api/chat/stream",
                     json={"text": "tell me about accounting", "model": ref}) as response:
        events = sse_events(response)
        name, start = next(events)
        assert name == "start"
        for _ in range(SENT):
            assert next(events)[0] == "delta"
        # the stop button (answers outlive their connection: stopping is a request)
        message_id = start["assistant_message_id"]
        assert http.post(f"/api/messages/{message_id}/stop").status_code in (200, 202, 204)
    inp, out, cost = _estimated_row(server, "chat")
    rows = wait_for(server, "SELECT input_tokens, output_tokens, usage_estimated, error "
                            f"FROM messages WHERE id = {message_id}",
                    lambda rows: rows and rows[0][3] != "in progress")
    assert rows[0][:3] in ((inp, out, 1), (inp, out, True))
    shown = http.get(f"/api/conversations/{start['conversation']['id']}").json()
    answer = next(m for m in shown["messages"] if m["id"] == message_id)
    assert answer["usage_estimated"] is True and Decimal(answer["cost"]) == cost


def test_a_v1_stream_closed_by_the_client_is_accounted_with_estimated_tokens(
        server: Running, vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
    fake.then(_slow_reply())
    sdk = openai.OpenAI(base_url=server.v1, api_key=server.make_user(), max_retries=0)
    stream = sdk.chat.completions.create(
        model=ref, messages=[{"role": "user", "content": "tell me about accounting"}],
        stream=True)
    received = 0
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            received += 1
        if received == SENT:
            break
    stream.close()
    _estimated_row(server, "api")


def test_vendor_usage_is_kept_and_not_flagged(server: Running,
                                              vendor: tuple[FakeVendor, str]) -> None:
    fake, url = vendor
    ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
    fake.then(Reply(chunks=TOKENS[:5], input_tokens=21, output_tokens=5))
    http = client(server, server.make_user())
    assert http.post("/api/chat", json={"text": "hi", "model": ref}).status_code == 200
    rows = wait_for(server, "SELECT input_tokens, output_tokens, estimated FROM usage_events",
                    bool)
    assert [(r[0], r[1], bool(r[2])) for r in rows] == [(21, 5, False)]


def test_usage_by_user_admin_sees_everyone_member_only_themselves(server: Running) -> None:
    alice = client(server, server.make_user("alice"))
    bob = client(server, server.make_user("bob"))
    admin = client(server, server.make_user("root", role="admin"))
    for who, n in ((alice, 2), (bob, 1)):
        for _ in range(n):
            assert who.post("/api/chat", json={"text": "hello"}).status_code == 200
    wait_for(server, "SELECT id FROM usage_events", lambda rows: len(rows) == 3)

    everyone = admin.get("/api/usage", params={"by": "user"}).json()
    assert everyone["scope"] == "all"
    per_user = {r["username"]: r["requests"] for r in everyone["by_user"]}
    assert per_user == {"alice": 2, "bob": 1}
    assert sum(r["requests"] for r in everyone["by_user"]) == everyone["totals"]["requests"]

    own = bob.get("/api/usage", params={"by": "user"}).json()
    assert own["scope"] == "me"
    assert [(r["username"], r["requests"]) for r in own["by_user"]] == [("bob", 1)]
    refused = bob.get("/api/usage", params={"by": "user", "scope": "all"})
    assert refused.status_code == 403

    cli = run_cli("usage", "--by", "user")
    assert cli.returncode == 0, cli.stderr
    lines = {line.split()[0]: line.split() for line in cli.stdout.splitlines() if line}
    assert lines["alice"][1] == "2" and lines["bob"][1] == "1", cli.stdout
    assert "root" not in lines  # no calls, no row
