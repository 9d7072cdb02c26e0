"""Accounts over real HTTP: setup link, login, sessions + CSRF, throttling, tokens, users,
preferences."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import closing

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


def setup_token(server: Running) -> str:
    async def make() -> str:
        db = Database.from_url(server.settings.database_url, pooled=False)
        try:
            return await accounts.create_setup_token(db)
        finally:
            await db.dispose()
    return asyncio.run(make())


def login(server: Running, username: str, password: str = PASSWORD) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=server.url)
    r = client.post("/api/session/login", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return client, r.json()["csrf_token"]


def test_setup_link_creates_the_admin_once(server: Running) -> None:
    token = setup_token(server)
    with httpx.Client(base_url=server.url) as client:
        r = client.post("/api/setup", json={"token": token, "username": "root",
                                            "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert r.json()["user"]["role"] == "admin"
        cookie = r.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert client.get("/api/session").json()["user"]["username"] == "root"
    again = httpx.post(f"{server.url}/api/setup", json={"token": token, "username": "x2",
                                                        "password": PASSWORD})
    assert again.status_code == 422 and "already used" in again.json()["error"]["message"]
    forged = httpx.post(f"{server.url}/api/setup", json={"token": "sb-" + "a" * 43,
                                                         "username": "x3", "password": PASSWORD})
    assert forged.status_code == 422


def test_login_logout_and_csrf(server: Running) -> None:
    server.make_user("bob", password=PASSWORD)
    client, csrf = login(server, "bob")
    with closing(client):
        assert client.get("/api/me").json()["username"] == "bob"
        body = {"selected_model": "offline:offline-chat", "settings": {"theme": "dark"}}
        refused = client.put("/api/me/preferences", json=body)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "csrf_failed"
        wrong = client.put("/api/me/preferences", json=body, headers={"x-csrf-token": "nope"})
        assert wrong.status_code == 403
        ok = client.put("/api/me/preferences", json=body, headers={"x-csrf-token": csrf})
        assert ok.status_code == 200, ok.text
        assert client.post("/api/session/logout").status_code == 204
        assert client.get("/api/me").status_code == 401


def test_bearer_requests_need_no_csrf(server: Running) -> None:
    token = server.make_user("carol")
    r = httpx.put(f"{server.url}/api/me/preferences", headers={"authorization": f"Bearer {token}"},
                  json={"selected_model": "offline:offline-chat"})
    assert r.status_code == 200, r.text


def test_wrong_password_and_throttling(server: Running) -> None:
    """Exact delays are unit-tested on a fake clock (test_throttle.py); over HTTP we check
    what holds whatever the machine's speed: free attempts, then 429 with Retry-After."""
    server.make_user("dave", password=PASSWORD)
    with httpx.Client(base_url=server.url) as client:
        unknown = client.post("/api/session/login",
                              json={"username": "nobody-here", "password": "x"})
        # the same answer as a wrong password: no telling which names exist
        assert unknown.status_code == 401
        assert unknown.json()["error"]["message"] == "wrong username or password"
        responses = [client.post("/api/session/login",
                                 json={"username": "dave", "password": "wrong"})
                     for _ in range(12)]
        codes = [r.status_code for r in responses]
        assert codes[:4] == [401] * 4  # free attempts (the unknown name counted for the address)
        limited = [r for r in responses if r.status_code == 429]
        assert limited, codes  # locks double each time: some of 12 rapid tries must hit one
        assert all(int(r.headers["retry-after"]) >= 1 for r in limited)
        assert "too many failed attempts" in limited[0].json()["error"]["message"]


def test_preferences_follow_the_user(server: Running) -> None:
    server.make_user("erin", password=PASSWORD)
    one, csrf = login(server, "erin")
    two, _ = login(server, "erin")  # another device
    with closing(one), closing(two):
        body = {"selected_model": "offline:offline-chat",
                "settings": {"theme": "light", "advanced": {"temperature": 0.3}}}
        assert one.put("/api/me/preferences", json=body,
                       headers={"x-csrf-token": csrf}).status_code == 200
        prefs = two.get("/api/me/preferences").json()
        assert prefs["selected_model"] == "offline:offline-chat"
        assert prefs["settings"]["theme"] == "light"
        assert prefs["settings"]["advanced"]["temperature"] == 0.3
        bad = one.put("/api/me/preferences", headers={"x-csrf-token": csrf},
                      json={"selected_model": "nope:none"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "selected_model"
        hot = one.put("/api/me/preferences", headers={"x-csrf-token": csrf},
                      json={"settings": {"advanced": {"temperature": 9}}})
        assert hot.status_code == 422 and "temperature" in hot.json()["error"]["message"]


def test_tokens_are_shown_once_and_revocable(server: Running) -> None:
    server.make_user("fay", password=PASSWORD)
    client, csrf = login(server, "fay")
    with closing(client):
        made = client.post("/api/tokens", json={"name": "laptop"},
                           headers={"x-csrf-token": csrf}).json()
        token = made["token"]
        listed = client.get("/api/tokens").json()
        assert token not in str(listed) and any(t["name"] == "laptop" for t in listed)
        bearer = {"authorization": f"Bearer {token}"}
        assert httpx.get(f"{server.v1}/models", headers=bearer).status_code == 200
        assert client.delete(f"/api/tokens/{made['item']['id']}",
                             headers={"x-csrf-token": csrf}).status_code == 204
        assert httpx.get(f"{server.v1}/models", headers=bearer).status_code == 401


def test_admin_manages_users_and_users_cannot(server: Running) -> None:
    server.make_user("admin1", role="admin", password=PASSWORD)
    server.make_user("plain", password=PASSWORD)
    admin, csrf = login(server, "admin1")
    plain, plain_csrf = login(server, "plain")
    with closing(admin), closing(plain):
        made = admin.post("/api/users", headers={"x-csrf-token": csrf},
                          json={"username": "newbie", "password": PASSWORD})
        assert made.status_code == 201, made.text
        dup = admin.post("/api/users", headers={"x-csrf-token": csrf},
                         json={"username": "NEWBIE", "password": PASSWORD})
        assert dup.status_code == 409
        short = admin.post("/api/users", headers={"x-csrf-token": csrf},
                           json={"username": "shorty", "password": "123"})
        assert short.status_code == 422 and short.json()["error"]["field"] == "password"
        assert plain.get("/api/users").status_code == 403
        assert plain.post("/api/users", headers={"x-csrf-token": plain_csrf},
                          json={"username": "x", "password": PASSWORD}).status_code == 403
        # deactivating a user ends their sessions at once
        uid = next(u["id"] for u in admin.get("/api/users").json() if u["username"] == "plain")
        r = admin.patch(f"/api/users/{uid}", json={"is_active": False},
                        headers={"x-csrf-token": csrf})
        assert r.status_code == 200
        assert plain.get("/api/me").status_code == 401
        last = admin.patch("/api/users/1", json={"role": "user"},
                           headers={"x-csrf-token": csrf})
        assert last.status_code == 409 and "last active admin" in last.json()["error"]["message"]
