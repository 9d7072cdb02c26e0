"""The kill switch across worker processes: 2 ``switchboard serve`` workers on
PostgreSQL; an admin turns image generation off through one of them and, one second
later, every request to either worker is refused — over Redis pub/sub, and without Redis
by the workers' poll of the flags' stamp."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.dbfixtures import (
    PG_URL_ENV,
    _create_database,
    _drop_database,
    _postgres_url,
    postgres_unavailable,
)
from tests.fakes.server import free_port
from tests.server_process import prepare_database, serve

pytestmark = [pytest.mark.postgres]
WORKERS = 2
PROBES = 20


@pytest.fixture(params=["poll", pytest.param("redis", marks=pytest.mark.redis)])
def shared(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh PostgreSQL database for the workers (and Redis for the ``redis`` case)."""
    if not os.environ.get(PG_URL_ENV):
        postgres_unavailable(f"{PG_URL_ENV} is not set")
    if request.param == "redis":
        monkeypatch.setenv("SWITCHBOARD_REDIS_URL", request.getfixturevalue("redis_url"))
    monkeypatch.setenv("SWITCHBOARD_RATE_LIMITS", "off")
    name = asyncio.run(_create_database())
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", _postgres_url(name))
    try:
        yield request.param
    finally:
        asyncio.run(_drop_database(name))


def test_kill_switch_reaches_every_worker_within_a_second(shared: str) -> None:
    db = prepare_database()
    admin_token = db.make_user("root", role="admin")
    member_token = db.make_user("alice")
    port = free_port()
    with serve(port, "--workers", str(WORKERS)):
        before, trace, after = asyncio.run(_kill(f"http://127.0.0.1:{port}", admin_token,
                                                 member_token))
    assert set(before) == {400}, before  # on: the route parsed (and refused) the body
    assert set(after) == {403}, after  # off on every worker one second after the switch
    last_on = max((sent for sent, status in trace if status == 400), default=0.0)
    assert last_on < 1.0, trace
    print(f"kill switch ({shared}): last request let through {last_on * 1000:.0f} ms "
          f"after the switch; {len(trace)} probes")


async def _probe(base: str, token: str) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=30) as fresh:  # a new connection:
        response = await fresh.post(  # either worker may take it
            "/v1/images/generations", json={"prompt": "x", "n": 0},
            headers={"authorization": f"Bearer {token}"})
        return response.status_code


async def _kill(base: str, admin_token: str, member_token: str
                ) -> tuple[list[int], list[tuple[float, int]], list[int]]:
    """Statuses before the switch; (seconds after the switch when sent, status) of
    probes sent one after another for 1.2 s; statuses of probes sent after 1 s."""
    before = list(await asyncio.gather(*(_probe(base, member_token)
                                         for _ in range(PROBES))))
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        put = await http.put("/api/flags/image_generation", json={"mode": "off"},
                             headers={"authorization": f"Bearer {admin_token}"})
    assert put.status_code == 200, put.text
    switched = time.monotonic()
    trace: list[tuple[float, int]] = []
    while (sent := time.monotonic() - switched) < 1.2:
        trace.append((sent, await _probe(base, member_token)))
    after = list(await asyncio.gather(*(_probe(base, member_token) for _ in range(PROBES))))
    return before, trace, after
