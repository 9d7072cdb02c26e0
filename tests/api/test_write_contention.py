"""Concurrent writes on SQLite wait their turn instead of failing with "database is
locked": every unit of work takes the write lock up front (BEGIN IMMEDIATE)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.server import running_server


def test_concurrent_writes_and_token_touches_all_succeed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # 40 calls at once exceed a member's default of 16 concurrent requests: this test is
    # about the database under contention, not about rate limits.
    monkeypatch.setenv("SWITCHBOARD_RATE_LIMITS", "off")
    with running_server() as server:
        token = server.make_user("busy")
        headers = {"authorization": f"Bearer {token}"}
        chat = {"model": "offline:offline-chat",
                "messages": [{"role": "user", "content": "hi"}]}

        async def hammer() -> list[int]:
            async with httpx.AsyncClient(base_url=server.url, headers=headers,
                                         timeout=60) as client:
                writes = [client.post("/api/tokens", json={"name": f"t{i}"})
                          for i in range(40)]
                # /v1 calls make the usage recorder write usage rows and last_used_at
                # touches in the background, competing with the token inserts.
                calls = [client.post("/v1/chat/completions", json=chat) for _ in range(40)]
                responses = await asyncio.gather(*writes, *calls)
            return [r.status_code for r in responses]

        codes = asyncio.run(hammer())
    assert codes[:40] == [201] * 40, codes
    assert codes[40:] == [200] * 40, codes
