"""Issue 10 item 6: reads never take SQLite's write lock, and a busy database is a 503
with ``Retry-After`` in the surface's shape, never a plain-text 500.

Another process (here: a thread with its own sqlite3 connection, as the CLI or a second
server would be) holds a write transaction (``BEGIN IMMEDIATE``) for longer than the
busy timeout. Meanwhile the server must answer what only reads — ``/v1`` with the offline
model, the model lists, ``/readyz`` — while the lock is still held; a write that cannot
get the lock in time answers 503 with ``Retry-After``.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.api.app import create_app
from switchboard.config import load_settings
from switchboard.db.engine import SQLITE_BUSY_TIMEOUT_MS
from switchboard.services.cache import DEFAULT_PROBE_INTERVAL as PROBE_INTERVAL_S
from tests.fakes.server import serve_in_thread
from tests.security_review.conftest import bearer
from tests.server import Running

CHAT = {"model": "offline:offline-chat", "messages": [{"role": "user", "content": "hi"}]}


@contextmanager
def write_lock_held(server: Running, seconds: float) -> Iterator[threading.Event]:
    """Hold SQLite's write lock from another connection; the event is set on release."""
    path = server.settings.database_url.split("///", 1)[1]
    taken, released = threading.Event(), threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=30)
        try:
            conn.execute("BEGIN IMMEDIATE")
            taken.set()
            time.sleep(seconds)
            conn.execute("ROLLBACK")
        finally:
            conn.close()
            released.set()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    assert taken.wait(10)
    try:
        yield released
    finally:
        thread.join(seconds + 10)


def test_reads_answer_while_another_process_holds_the_write_lock(server: Running) -> None:
    member = bearer(server, server.make_user("bob"))
    assert member.get("/api/models").status_code == 200  # warm: the next read probes
    hold_for = PROBE_INTERVAL_S + SQLITE_BUSY_TIMEOUT_MS / 1000 + 3
    with write_lock_held(server, hold_for) as released:
        time.sleep(PROBE_INTERVAL_S + 0.5)  # the catalog cache's stamp probe is now due
        v1 = member.post("/v1/chat/completions", json=CHAT)
        models = member.get("/api/models")
        v1_models = member.get("/v1/models")
        ready = httpx.get(f"{server.url}/readyz", timeout=30)
        still_locked = not released.is_set()
    assert v1.status_code == 200, v1.text
    assert models.status_code == 200, models.text
    assert v1_models.status_code == 200, v1_models.text
    assert ready.status_code == 200, ready.text
    assert still_locked, "the reads waited for the write lock"


def test_a_write_that_cannot_get_the_lock_is_a_503_with_retry_after(server: Running) -> None:
    member = bearer(server, server.make_user("bob"))
    hold_for = SQLITE_BUSY_TIMEOUT_MS / 1000 + 4
    with write_lock_held(server, hold_for), ThreadPoolExecutor(2) as pool:
        token = pool.submit(member.post, "/api/tokens", json={"name": "ci"})
        login = pool.submit(httpx.post, f"{server.url}/api/session/login", timeout=30,
                            json={"username": "bob", "password": "correct horse battery"})
        responses = [token.result(), login.result()]
    for response in responses:
        if response.status_code == 200:
            continue  # got the lock in time (only possible for the login, on a slow box)
        assert response.status_code == 503, (response.status_code, response.text)
        assert int(response.headers["retry-after"]) >= 1
        error = response.json()["error"]
        assert error["code"] == "database_busy" and "busy" in error["message"]
    assert responses[0].status_code == 503


def _locked(request: Request) -> Response:
    raise sqlite3.OperationalError("database is locked")


@pytest.fixture
def busy_everywhere() -> Iterator[str]:
    """A real app whose routes on every surface hit a busy database."""
    app = create_app(load_settings())
    # before every route of the FastAPI app, which answers all but the front door's own
    app.fastapi_app().router.routes[:0] = [Route(p, _locked, methods=["GET"])
                                           for p in ("/v1/locked", "/api/locked", "/locked")]
    with serve_in_thread(app, lifespan=True, startup_timeout=60) as url:
        yield url


def test_busy_database_in_each_surfaces_shape(busy_everywhere: str) -> None:
    with httpx.Client(base_url=busy_everywhere, timeout=30) as client:
        v1 = client.get("/v1/locked")
        api = client.get("/api/locked")
        page = client.get("/locked")
    for response in (v1, api, page):
        assert response.status_code == 503
        assert response.headers["retry-after"]
    assert set(v1.json()["error"]) == {"message", "type", "param", "code"}
    assert api.json()["error"]["code"] == "database_busy"
    assert page.headers["content-type"].startswith("text/html")
