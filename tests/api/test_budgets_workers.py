"""Budgets are exact under concurrency on a real server: 50 ``/v1`` calls at once against
one budget — SQLite with one process, PostgreSQL with 4 worker processes sharing it —
overrun it by at most one call's reservation, and every admitted call is charged."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from switchboard.services import budgets
from switchboard.services.audit import CLI
from tests.api.chat_support import _with_db, add_provider
from tests.dbfixtures import (
    PG_URL_ENV,
    _create_database,
    _drop_database,
    _postgres_url,
    postgres_unavailable,
)
from tests.fakes.openai import MODEL as OPENAI_MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Reply
from tests.fakes.server import free_port, serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server_process import prepare_database, serve

CALLS = 50
MAX_TOKENS = 1000
LIMIT = Decimal("0.01")
# gpt-4o-mini: $0.60 per million output tokens: each call reserves at least $0.0006 for
# its 1000 output tokens (plus its prompt), so about 16 of the 50 fit in one cent.
RESERVATION = Decimal("0.000601")  # a bound: 1000 x 0.60 + a short prompt x 0.15, per M


@pytest.fixture(params=["sqlite-1", "postgres-4"])
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
             ) -> Iterator[tuple[str, int]]:
    """(backend, workers): the isolated data directory's SQLite, or a fresh PostgreSQL
    database that 4 worker processes share."""
    # 50 calls at once would meet the default concurrency rate limit first (429
    # rate_limit_exceeded): this test is about the budget alone.
    monkeypatch.setenv("SWITCHBOARD_RATE_LIMITS", "off")
    if request.param == "sqlite-1":
        yield "sqlite", 1
        return
    if not os.environ.get(PG_URL_ENV):
        postgres_unavailable(f"{PG_URL_ENV} is not set")
    # (not fresh_postgres_database(): its generator would be finalised, and the database
    # dropped, when the asyncio.run that entered it ends)
    name = asyncio.run(_create_database())
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", _postgres_url(name))
    try:
        yield "postgres", 4
    finally:
        asyncio.run(_drop_database(name))


def test_fifty_concurrent_calls_overrun_a_budget_by_at_most_one_reservation(
        database: tuple[str, int]) -> None:
    _, workers = database
    fake = FakeVendor(OpenAIWire())
    fake.then(*[Reply(chunks=["ok"], input_tokens=20, output_tokens=MAX_TOKENS)
                for _ in range(CALLS)])
    with serve_in_thread(fake) as vendor_url:
        db = prepare_database()
        ref = add_provider(db, "fakeai", "openai", vendor_url, OPENAI_MODEL)
        token = db.make_user("payer")
        user_id = int(str(db.query("SELECT id FROM users WHERE username = 'payer'")[0][0]))

        async def set_budget(database: object) -> None:
            await budgets.set_budget(database, CLI, scope="user",  # type: ignore[arg-type]
                                     user_id=user_id, amount=LIMIT, period="month")
        asyncio.run(_with_db(db.settings, set_budget))

        port = free_port()
        with serve(port, "--workers", str(workers)):
            statuses = asyncio.run(_fire(f"http://127.0.0.1:{port}", token, ref))

    admitted, refused = statuses.count(200), statuses.count(429)
    assert admitted + refused == CALLS, statuses
    assert admitted >= 1 and refused >= 1
    spent, reserved = db.query(
        "SELECT spent, reserved FROM budget_spend")[0]
    spent_usd = Decimal(int(str(spent))) / 1_000_000_000
    assert int(str(reserved)) == 0  # every reservation settled
    charged = sum(Decimal(str(c)) for (c,) in db.query(
        "SELECT cost FROM usage_events WHERE status = 'ok'"))
    assert len(db.query("SELECT id FROM usage_events")) == admitted
    assert abs(spent_usd - charged) < Decimal("0.000000001") * admitted  # same money
    assert spent_usd <= LIMIT + RESERVATION, (spent_usd, admitted)
    assert admitted <= int(LIMIT / Decimal("0.0006")) + 1


async def _fire(base: str, token: str, ref: str) -> list[int]:
    body = {"model": ref, "max_tokens": MAX_TOKENS,
            "messages": [{"role": "user", "content": "how much?"}]}
    async with httpx.AsyncClient(base_url=base, timeout=60,
                                 headers={"authorization": f"Bearer {token}"}) as client:
        async def one() -> int:
            response = await client.post("/v1/chat/completions", json=body)
            if response.status_code == 429:
                assert response.json()["error"]["code"] == "insufficient_quota"
            return response.status_code
        return list(await asyncio.gather(*(one() for _ in range(CALLS))))
