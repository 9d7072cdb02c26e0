"""Sessions and the one-time setup link: fixation, logout, cookie flags, guessing."""

from __future__ import annotations

from contextlib import closing

import httpx

from tests.security_review.conftest import PASSWORD, login, setup_token
from tests.server import Running


def _session_count(server: Running) -> int:
    (count,), = server.query("SELECT count(*) FROM web_sessions")
    return int(str(count))


def test_login_issues_a_new_session_and_ends_the_previous_one(server: Running) -> None:
    server.make_user("gil", password=PASSWORD)
    server.make_user("hal", password=PASSWORD)
    # a planted, made-up id is never adopted
    planted = httpx.Client(base_url=server.url, cookies={"sb_session": "attacker-chosen-id"})
    with closing(planted):
        r = planted.post("/api/session/login", json={"username": "gil", "password": PASSWORD})
        assert r.status_code == 200
        assert r.cookies["sb_session"] != "attacker-chosen-id"
        assert len(r.cookies["sb_session"]) >= 40
    # a real earlier session (say, a shared computer's) ends when someone logs in over it
    browser, _ = login(server, "gil")
    with closing(browser):
        old = browser.cookies["sb_session"]
        assert browser.post("/api/session/login",
                            json={"username": "hal", "password": PASSWORD}).status_code == 200
        new = browser.cookies["sb_session"]
        assert new != old
        assert browser.get("/api/me").json()["username"] == "hal"
        replay = httpx.get(f"{server.url}/api/me", cookies={"sb_session": old})
        assert replay.status_code == 401


def test_cookie_flags_and_logout_deletes_the_server_side_session(server: Running) -> None:
    server.make_user("ida", password=PASSWORD)
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        r = browser.post("/api/session/login", json={"username": "ida", "password": PASSWORD})
        assert r.status_code == 200
        flags = r.headers["set-cookie"].lower()
        assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
        assert "secure" not in flags  # plain http here; set when the request is https
        cookie = browser.cookies["sb_session"]
        assert _session_count(server) == 1
        out = browser.post("/api/session/logout")
        assert out.status_code == 204
        assert "max-age=0" in out.headers["set-cookie"].lower()
        assert _session_count(server) == 0
        assert httpx.get(f"{server.url}/api/me", cookies={"sb_session": cookie}).status_code \
            == 401
    # Logout needs no CSRF token (decision, see api/routes/session.py): SameSite=Lax keeps
    # the cookie off cross-site POSTs, and it can only end the caller's own session.
    # Without a cookie it is a harmless no-op.
    assert httpx.post(f"{server.url}/api/session/logout").status_code == 204


def test_setup_link_guessing_is_throttled_and_checked_before_hashing(
        server: Running) -> None:
    """Found in review: /api/setup had no throttle, and every attempt hashed the new
    password with Argon2 before looking at the token (an unauthenticated CPU/memory
    lever). The token is now checked first and failures are throttled per address."""
    real = setup_token(server)
    with httpx.Client(base_url=server.url, timeout=30) as client:
        # a wrong token is refused for the token, even with an unacceptable password:
        # the token is looked at first (no hash computed for a guess)
        first = client.post("/api/setup", json={"token": "sb-" + "a" * 43,
                                                "username": "root", "password": "short"})
        assert first.status_code == 422, first.text
        assert first.json()["error"]["field"] == "token"
        assert "not valid" in first.json()["error"]["message"]
        codes = [client.post("/api/setup", json={"token": f"sb-{i:043d}", "username": "root",
                                                 "password": PASSWORD}).status_code
                 for i in range(12)]
        assert codes[:4] == [422] * 4
        limited = [c for c in codes if c == 429]
        assert limited, codes
        blocked = client.post("/api/setup", json={"token": real, "username": "root",
                                                  "password": PASSWORD})
        assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1
    assert server.query("SELECT count(*) FROM users") == [(0,)]
    # failures never consume the real link
    assert server.query("SELECT count(*) FROM setup_tokens WHERE used_at IS NULL") == [(1,)]
