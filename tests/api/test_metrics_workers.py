"""``/metrics`` with ``switchboard serve --workers 2`` on PostgreSQL: whichever worker
answers a scrape, it counts every worker's calls (prometheus multiprocess mode in a
directory ``serve`` empties at start; decision 0118)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.chat_support import add_provider
from tests.api.test_metrics import SCRAPE_TOKEN, scrape, value
from tests.dbfixtures import (
    PG_URL_ENV,
    _create_database,
    _drop_database,
    _postgres_url,
    postgres_unavailable,
)
from tests.fakes.openai import MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Reply
from tests.fakes.server import free_port, serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server_process import prepare_database, serve

CALLS = 24


@pytest.fixture
def postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    if not os.environ.get(PG_URL_ENV):
        postgres_unavailable(f"{PG_URL_ENV} is not set")
    monkeypatch.setenv("SWITCHBOARD_RATE_LIMITS", "off")  # this test is about counting
    monkeypatch.setenv("SWITCHBOARD_METRICS_TOKEN", SCRAPE_TOKEN)
    name = asyncio.run(_create_database())
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", _postgres_url(name))
    try:
        yield
    finally:
        asyncio.run(_drop_database(name))


def test_every_scrape_counts_both_workers_calls(postgres: None, _isolated_env: Path) -> None:
    fake = FakeVendor(OpenAIWire())
    fake.then(*[Reply(input_tokens=10, output_tokens=3) for _ in range(CALLS)])
    with serve_in_thread(fake) as vendor_url:
        db = prepare_database()
        ref = add_provider(db, "fakeai", "openai", vendor_url, MODEL)
        token = db.make_user("ada")
        port = free_port()
        stale = _isolated_env / "prometheus" / str(port)
        stale.mkdir(parents=True)
        (stale / "counter_1.db").write_bytes(b"an earlier run's counts")
        with serve(port, "--workers", "2"):
            base = f"http://127.0.0.1:{port}"
            statuses = asyncio.run(_fire(base, token, ref))
            assert statuses == [200] * CALLS
            pids = {p.name.rsplit("_", 1)[1] for p in stale.glob("counter_*.db")}
            assert len(pids) == 2, pids  # both workers wrote; the stale file is gone
            call = {"surface": "api", "provider": "fakeai", "model": MODEL, "outcome": "ok"}
            by = {"provider": "fakeai", "model": MODEL, "source": "api"}
            for _ in range(6):  # each scrape may reach either worker: all say the same
                s = scrape(base)
                assert value(s, "switchboard_requests_total", **call) == CALLS
                assert value(s, "switchboard_tokens_total", **by, direction="input") == (
                    10 * CALLS)
                assert value(s, "switchboard_streams_in_flight") == 0


async def _fire(base: str, token: str, ref: str) -> list[int]:
    body = {"model": ref, "messages": [{"role": "user", "content": "hi"}]}
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(
            max_keepalive_connections=0),  # a new connection per call: both workers serve
            headers={"authorization": f"Bearer {token}"}) as client:
        async def one() -> int:
            return (await client.post("/v1/chat/completions", json=body)).status_code
        return list(await asyncio.gather(*(one() for _ in range(CALLS))))
