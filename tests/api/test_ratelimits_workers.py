"""A rate limit holds across worker processes when Redis is set: 4 ``switchboard serve``
workers on PostgreSQL, a user limited to 24 requests a minute, 60 calls at once —
exactly 24 are admitted (each worker counting for itself would admit up to 96)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import httpx
import pytest

from switchboard.services import rate_limit_rules
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
from tests.server_process import prepare_database, serve, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
CALLS = 60
LIMIT = 24
WORKERS = 4


@pytest.fixture
def shared(monkeypatch: pytest.MonkeyPatch, redis_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database for the workers, and the test Redis emptied of rate
    limit buckets (user ids repeat from one test database to the next)."""
    if not os.environ.get(PG_URL_ENV):
        postgres_unavailable(f"{PG_URL_ENV} is not set")
    asyncio.run(_forget_buckets(redis_url))
    name = asyncio.run(_create_database())
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", _postgres_url(name))
    monkeypatch.setenv("SWITCHBOARD_REDIS_URL", redis_url)
    try:
        yield redis_url
    finally:
        asyncio.run(_drop_database(name))
        asyncio.run(_forget_buckets(redis_url))


async def _forget_buckets(url: str) -> None:
    from redis import asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match="switchboard:rl:*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


def test_four_workers_admit_exactly_the_limit(shared: str) -> None:
    fake = FakeVendor(OpenAIWire())
    fake.then(*[Reply(chunks=["ok"]) for _ in range(CALLS)])
    with serve_in_thread(fake) as vendor_url:
        db = prepare_database()
        ref = add_provider(db, "fakeai", "openai", vendor_url, OPENAI_MODEL)
        token = db.make_user("busy")
        user_id = int(str(db.query("SELECT id FROM users WHERE username = 'busy'")[0][0]))

        async def limit(database: object) -> None:
            # requests per minute only: with the default of 16 at once, 60 simultaneous
            # calls on a slow machine are refused for concurrency before the minute's count
            # is reached (0 = no concurrency limit)
            await rate_limit_rules.set_rule(database, CLI, "user", user_id,  # type: ignore[arg-type]
                                            (LIMIT, None, 0))
        asyncio.run(_with_db(db.settings, limit))

        port = free_port()
        with serve(port, "--workers", str(WORKERS), start_timeout=180) as log:
            # every worker up, so the calls spread over all four
            wait_until(lambda: sum("Application startup complete" in line
                                   for line in log) == WORKERS, timeout=180)
            statuses = asyncio.run(_fire(f"http://127.0.0.1:{port}", token, ref))
        assert not [line for line in log if "Redis is unreachable" in line]

    assert statuses.count(200) == LIMIT, statuses
    assert statuses.count(429) == CALLS - LIMIT, statuses
    assert len(fake.chat_requests()) == LIMIT  # a refused call never reaches the vendor


async def _fire(base: str, token: str, ref: str) -> list[int]:
    body = {"model": ref, "messages": [{"role": "user", "content": "how many?"}]}
    limits = httpx.Limits(max_connections=CALLS)  # one connection each: spread over workers
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits,
                                 headers={"authorization": f"Bearer {token}"}) as client:
        async def one() -> int:
            response = await client.post("/v1/chat/completions", json=body)
            if response.status_code == 429:
                assert response.json()["error"]["code"] == "rate_limit_exceeded"
                assert response.headers["retry-after"]
            else:
                assert response.headers["x-ratelimit-limit-requests"] == str(LIMIT)
            return response.status_code
        return list(await asyncio.gather(*(one() for _ in range(CALLS))))
