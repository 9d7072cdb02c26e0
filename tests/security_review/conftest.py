"""A fresh server per test (each gets the suite's isolated data directory), and the
helpers the review's tests share."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from switchboard.db import Database
from switchboard.services import accounts
from tests.server import Running, running_server

PASSWORD = "correct horse battery"


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


def login(server: Running, username: str, password: str = PASSWORD,
          **client_options: object) -> tuple[httpx.Client, str]:
    """A browser-like client logged in with a session cookie, and its CSRF token."""
    client = httpx.Client(base_url=server.url, timeout=30, **client_options)  # type: ignore[arg-type]
    response = client.post("/api/session/login",
                           json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return client, response.json()["csrf_token"]


def bearer(server: Running, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30,
                        headers={"authorization": f"Bearer {token}"})


def setup_token(server: Running) -> str:
    """A fresh one-time setup token, as ``switchboard serve`` prints it."""
    async def make() -> str:
        db = Database.from_url(server.settings.database_url, pooled=False)
        try:
            return await accounts.create_setup_token(db)
        finally:
            await db.dispose()
    return asyncio.run(make())
