"""``GET /api/usage`` on a real server: chat and ``/v1`` calls both counted, the figures
agree with the ``usage_events`` rows, scopes, and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest

from tests.api.chat_support import add_provider, client
from tests.fakes.openai import MODEL as OPENAI_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Fail, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


def _sum_cost(rows: list[tuple[object, ...]]) -> Decimal:
    return sum((Decimal(str(r[0])) for r in rows if r[0] is not None), Decimal(0))


def test_report_adds_up_against_the_rows(server: Running) -> None:
    fake = FakeVendor(OpenAIWire())
    with serve_in_thread(fake) as url:
        ref = add_provider(server, "fakeai", "openai", url, OPENAI_MODEL)
        alice_token = server.make_user("alice")
        alice, bob = client(server, alice_token), client(server, server.make_user("bob"))
        admin = client(server, server.make_user("root", role="admin"))
        fake.then(Reply(chunks=["priced"], input_tokens=1000, output_tokens=500),
                  Fail(400, "bad request"))
        assert alice.post("/api/chat", json={"text": "one"}).status_code == 200
        assert alice.post("/api/chat", json={"text": "two", "model": ref}).status_code == 200
        v1 = alice.post("/v1/chat/completions", json={
            "model": "offline:offline-chat", "messages": [{"role": "user", "content": "x"}]})
        assert v1.status_code == 200
        assert bob.post("/api/chat", json={"text": "boom", "model": ref}).status_code == 502

    mine = alice.get("/api/usage").json()
    assert mine["scope"] == "me"
    rows = server.query("SELECT cost, input_tokens, output_tokens FROM usage_events e "
                        "JOIN users u ON u.id = e.user_id WHERE u.username = 'alice'")
    totals = mine["totals"]
    assert totals["requests"] == len(rows) == 3 and totals["errors"] == 0
    assert totals["input_tokens"] == sum(int(str(r[1])) for r in rows)
    assert totals["output_tokens"] == sum(int(str(r[2])) for r in rows)
    assert Decimal(totals["cost"]) == _sum_cost(rows) > 0  # gpt-4o-mini has a price
    assert totals["avg_latency_ms"] is not None
    assert {s["source"]: s["requests"] for s in mine["by_source"]} == {"chat": 2, "api": 1}
    by_provider = {p["provider"]: p for p in mine["by_provider"]}
    assert by_provider["offline"]["requests"] == 2 and by_provider["offline"]["cost"] == "0"
    assert by_provider["fakeai"]["input_tokens"] == 1000
    assert {m["ref"] for m in mine["by_model"]} == {"offline:offline-chat", ref}

    days = mine["days"]
    today = datetime.now(UTC).date()
    assert len(days) == 30 and days[-1]["day"] == today.isoformat()
    assert days[0]["day"] == (today - timedelta(days=29)).isoformat()
    assert days[0]["requests"] == 0 and days[0]["cost"] == "0"
    assert sum(d["requests"] for d in days) == 3
    assert days[-1]["by_provider"]["fakeai"]["requests"] == 1

    everyone = admin.get("/api/usage", params={"scope": "all"}).json()
    assert everyone["totals"]["requests"] == 4 and everyone["totals"]["errors"] == 1
    assert everyone["by_provider"][0]["provider"] in ("offline", "fakeai")
    admins_own = admin.get("/api/usage").json()
    assert admins_own["totals"]["requests"] == 0

    refused = alice.get("/api/usage", params={"scope": "all"})
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "scope"


def test_range_and_bad_input(server: Running) -> None:
    http = client(server, server.make_user())
    assert http.post("/api/chat", json={"text": "hi"}).status_code == 200
    today = datetime.now(UTC).date()
    one = http.get("/api/usage", params={"from": today.isoformat(),
                                         "to": today.isoformat()}).json()
    assert one["range"] == {"from": today.isoformat(), "to": today.isoformat()}
    assert [d["requests"] for d in one["days"]] == [1]
    past = http.get("/api/usage", params={"from": "2020-01-01", "to": "2020-01-03"}).json()
    assert [d["day"] for d in past["days"]] == ["2020-01-01", "2020-01-02", "2020-01-03"]
    assert past["totals"]["requests"] == 0 and past["totals"]["cost"] == "0"
    for params, field in (({"from": "2020-02-01", "to": "2020-01-01"}, "from"),
                          ({"from": "yesterday"}, "from"),
                          ({"scope": "everyone"}, "scope"),
                          ({"from": "2000-01-01", "to": "2020-01-01"}, "from")):
        response = http.get("/api/usage", params=params)
        assert response.status_code == 422, params
        assert response.json()["error"]["field"] == field


def test_usage_needs_a_login() -> None:
    with running_server() as server:
        assert httpx.get(f"{server.url}/api/usage").status_code == 401
