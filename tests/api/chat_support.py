"""Helpers for the chat, conversation and usage tests: a client, SSE reading, catalog set-up
through the real services, and waiting on a row (with a deadline, never a fixed sleep)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

from switchboard.config import Settings
from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.provider_models import create_model
from switchboard.services.providers import create_provider, update_provider
from tests.server import Running

FAKE_KEY = "sk-fake-secret-key-0123456789"


def client(server: Running, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {token}"},
                        timeout=30)


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(event, data)`` pairs of an open SSE response, as they arrive."""
    event = "message"
    for line in response.iter_lines():
        if line.startswith("event: "):
            event = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield event, json.loads(line.removeprefix("data: "))
            event = "message"


def stream_chat(http: httpx.Client, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    with http.stream("POST", "/api/chat/stream", json=body) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(sse_events(response))


async def _with_db(settings: Settings, work: Any) -> Any:
    db = Database.from_url(settings.database_url, pooled=False)
    try:
        return await work(db)
    finally:
        await db.dispose()


def add_provider(server: Running, name: str, kind: str, base_url: str, model: str, *,
                 vision: bool = False, max_retries: int = 0,
                 settings: dict[str, Any] | None = None, image_output: bool = False) -> str:
    """A provider row with a stored key and one enabled model; returns the model's ref."""
    async def work(db: Database) -> None:
        await create_provider(db, name=name, kind=kind, base_url=base_url,
                              settings={"max_retries": max_retries, **(settings or {})})
        await set_provider_key(db, name, FAKE_KEY)
        await create_model(db, name, model, capabilities={
            "streaming": True, "tools": not image_output, "vision": vision,
            "image_output": image_output})

    asyncio.run(_with_db(server.settings, work))
    return f"{name}:{model}"


def set_offline_delay(server: Running, ms: int) -> None:
    async def work(db: Database) -> None:
        await update_provider(db, "offline", settings={"chunk_delay_ms": ms})

    asyncio.run(_with_db(server.settings, work))


def set_preference(server: Running, username: str, ref: str | None) -> None:
    """Write ``user_preferences.selected_model`` as the preferences API stores it."""
    from sqlalchemy import select

    from switchboard.db import models as m

    async def work(db: Database) -> None:
        async with db.unit_of_work() as session:
            user_id = await session.scalar(select(m.User.id).where(m.User.username == username))
            assert user_id is not None
            session.add(m.UserPreferences(user_id=user_id, selected_model=ref, settings={}))

    asyncio.run(_with_db(server.settings, work))


def wait_for(server: Running, sql: str, ready: Any, timeout: float = 10.0) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` once ``ready(rows)`` holds (the server writes in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = server.query(sql)
        if ready(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.02)
