"""Authorization, probed as an attacker would: another user's objects by id (IDOR), admin
actions from a plain account (every surface, not only /api), and how fast a lost
credential stops working (deactivation, demotion, revocation, a password reset).

The route-by-route matrix (401 / 403 / CSRF for every registered route) lives in
``tests/api/test_auth_matrix.py``; these tests follow real objects across users.
"""

from __future__ import annotations

import os
import subprocess
import sys
from contextlib import closing

import httpx

from tests.api.chat_support import wait_for
from tests.fakes.openai import Wire
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.security_review.conftest import PASSWORD, bearer, login
from tests.server import Running


def test_no_access_to_another_users_conversations_messages_tokens_or_preferences(
        server: Running) -> None:
    alice = bearer(server, server.make_user("alice"))
    bob_token = server.make_user("bob", password=PASSWORD)
    bob_api = bearer(server, bob_token)
    bob, csrf = login(server, "bob")
    with closing(alice), closing(bob_api), closing(bob):
        chat = alice.post("/api/chat", json={"text": "alice's private plans"})
        assert chat.status_code == 200, chat.text
        cid = chat.json()["conversation"]["id"]
        answer_id = chat.json()["assistant_message"]["id"]
        question_id = chat.json()["user_message"]["id"]
        alice_prefs = {"selected_model": "offline:offline-chat",
                       "settings": {"theme": "dark"}}
        assert alice.put("/api/me/preferences", json=alice_prefs).status_code == 200
        alice_token_id = alice.get("/api/tokens").json()[0]["id"]
        before = server.query(f"SELECT id, title, user_id FROM conversations WHERE id = {cid}")

        write = {"x-csrf-token": csrf}
        for client, headers in ((bob_api, {}), (bob, write)):
            assert client.get(f"/api/conversations/{cid}").status_code == 404
            assert client.patch(f"/api/conversations/{cid}", json={"title": "pwned"},
                                headers=headers).status_code == 404
            assert client.delete(f"/api/conversations/{cid}", headers=headers).status_code == 404
            for message_id in (answer_id, question_id):
                rated = client.put(f"/api/messages/{message_id}/rating", json={"rating": -1},
                                   headers=headers)
                assert rated.status_code == 404, rated.text
            # writing into her conversation, or re-answering its last question
            follow = client.post("/api/chat", json={"text": "x", "conversation_id": cid},
                                 headers=headers)
            assert follow.status_code == 404, follow.text
            again = client.post("/api/chat/stream", json={"regenerate": True,
                                                          "conversation_id": cid},
                                headers=headers)
            assert again.status_code == 404, again.text
            assert client.delete(f"/api/tokens/{alice_token_id}",
                                 headers=headers).status_code == 404
            listed = client.get("/api/conversations", params={"q": "private"}).json()
            assert listed["items"] == []
            assert all(t["id"] != alice_token_id for t in client.get("/api/tokens").json())
            assert client.put("/api/me/preferences", headers=headers, json={
                "selected_model": None, "settings": {"theme": "light"}}).status_code == 200

        # nothing of alice's changed, and her token still works
        assert server.query(f"SELECT id, title, user_id FROM conversations WHERE id = {cid}") \
            == before
        assert server.query(f"SELECT count(*) FROM messages WHERE conversation_id = {cid}") \
            == [(2,)]
        assert server.query(f"SELECT rating FROM messages WHERE id = {answer_id}") == [(None,)]
        assert alice.get("/api/me/preferences").json()["settings"]["theme"] == "dark"
        assert alice.get(f"/api/conversations/{cid}").status_code == 200

        # usage: bob's own report does not count alice's call
        wait_for(server, "SELECT count(*) FROM usage_events", lambda rows: rows[0][0] >= 1)
        assert bob_api.get("/api/usage").json()["totals"]["requests"] == 0
        assert alice.get("/api/usage").json()["totals"]["requests"] >= 1
        assert bob_api.get("/api/usage", params={"scope": "all"}).status_code == 403


def test_plain_user_reaches_no_admin_surface(server: Running) -> None:
    """Docs, OpenAPI, admin settings pages, user management, and provider actions that
    would make the server call out (test connection, model import): none for a plain
    user, and the vendor behind the provider never hears a request (no SSRF lever)."""
    vendor = FakeVendor(Wire())
    admin = bearer(server, server.make_user("root", "admin"))
    plain_api = bearer(server, server.make_user("pat", password=PASSWORD))
    plain, csrf = login(server, "pat")
    write = {"x-csrf-token": csrf}
    with serve_in_thread(vendor) as url, closing(admin), closing(plain_api), closing(plain):
        made = admin.post("/api/config/providers", json={
            "name": "acme", "kind": "openai_compatible", "base_url": f"{url}/v1",
            "api_key": "sk-test-0123456789", "settings": {
                "extra_headers": {"x-proxy-auth": "header-secret-value"}}})
        assert made.status_code == 201, made.text
        pid = made.json()["id"]
        heard = len(vendor.requests)  # the admin's create listed its models (decision 0037)
        for client, headers in ((plain_api, {}), (plain, write)):
            for path in ("/docs", "/openapi.json"):
                assert client.get(path).status_code == 403, path
            for page in ("providers", "models", "users"):
                r = client.get(f"/settings/{page}")
                assert r.status_code == 403 and "Admins only" in r.text, page
            for page in ("usage", "tokens"):
                assert client.get(f"/settings/{page}").status_code == 200, page
            assert client.get("/api/users").status_code == 403
            attempts = [
                client.post(f"/api/providers/{pid}/test", headers=headers),
                client.post(f"/api/config/providers/{pid}/import-models", headers=headers),
                client.put(f"/api/config/providers/{pid}", headers=headers,
                           json={"base_url": "http://169.254.169.254/latest"}),
                client.post("/api/config/providers", headers=headers, json={
                    "name": "internal", "kind": "openai_compatible",
                    "base_url": "http://127.0.0.1:1/v1"}),
                client.post(f"/api/providers/{pid}/key", headers=headers,
                            json={"api_key": "sk-attacker-0123456789"}),
                client.patch("/api/users/1", headers=headers, json={"role": "user"}),
            ]
            assert [r.status_code for r in attempts] == [403] * len(attempts)
            # provider configuration is an admin's to read too (decision 0037); what a
            # member needs for the selector carries no setting
            for path in ("/api/config/providers", f"/api/config/providers/{pid}"):
                assert client.get(path).status_code == 403, path
            for path in ("/api/providers", "/api/model-registry", "/api/models"):
                seen = client.get(path)
                assert seen.status_code == 200 and "header-secret-value" not in seen.text
                assert url not in seen.text, path
        assert len(vendor.requests) == heard
        assert server.query(f"SELECT base_url FROM providers WHERE id = {pid}") \
            == [(f"{url}/v1",)]
        assert server.query("SELECT count(*) FROM providers WHERE name = 'internal'") == [(0,)]
        # the admin sees the header (to edit it) and may call out
        assert "header-secret-value" in admin.get(f"/api/config/providers/{pid}").text
        assert admin.post(f"/api/providers/{pid}/test").json()["ok"] is True
        assert vendor.requests


def test_deactivation_and_demotion_end_sessions_and_tokens_at_once(server: Running) -> None:
    root_token = server.make_user("root", "admin")
    carol_token = server.make_user("carol", password=PASSWORD)
    dan_token = server.make_user("dan", "admin", password=PASSWORD)
    root = bearer(server, root_token)
    carol_api, dan_api = bearer(server, carol_token), bearer(server, dan_token)
    carol, _ = login(server, "carol")
    dan, _ = login(server, "dan")
    users = {u["username"]: u["id"] for u in root.get("/api/users").json()}
    with closing(root), closing(carol_api), closing(dan_api), closing(carol), closing(dan):
        # warm every cache first: "at once" means despite them
        for client in (carol_api, carol):
            assert client.get("/api/me").status_code == 200
        assert httpx.get(f"{server.v1}/models",
                         headers={"authorization": f"Bearer {carol_token}"}).status_code == 200
        for client in (dan_api, dan):
            assert client.get("/api/users").status_code == 200

        assert root.patch(f"/api/users/{users['carol']}",
                          json={"is_active": False}).status_code == 200
        assert carol.get("/api/me").status_code == 401
        assert carol.get("/", follow_redirects=False).status_code == 303
        assert carol_api.get("/api/me").status_code == 401
        assert httpx.get(f"{server.v1}/models",
                         headers={"authorization": f"Bearer {carol_token}"}).status_code == 401
        relogin = httpx.post(f"{server.url}/api/session/login",
                             json={"username": "carol", "password": PASSWORD})
        assert relogin.status_code == 401

        assert root.patch(f"/api/users/{users['dan']}", json={"role": "user"}).status_code == 200
        assert dan_api.get("/api/users").status_code == 403  # the token acts as a user now
        assert dan.get("/api/me").status_code == 401  # sessions end with a role change


def test_revoked_token_stops_at_once(server: Running) -> None:
    server.make_user("erin", password=PASSWORD)
    erin, csrf = login(server, "erin")
    with closing(erin):
        made = erin.post("/api/tokens", json={"name": "script"},
                         headers={"x-csrf-token": csrf}).json()
        script = bearer(server, made["token"])
        with closing(script):
            assert script.get("/api/me").status_code == 200  # now cached
            assert erin.delete(f"/api/tokens/{made['item']['id']}",
                               headers={"x-csrf-token": csrf}).status_code == 204
            assert script.get("/api/me").status_code == 401
            assert script.post("/v1/chat/completions", json={
                "model": "offline:offline-chat",
                "messages": [{"role": "user", "content": "hi"}]}).status_code == 401


def test_cli_password_reset_and_deactivation_end_browser_sessions(server: Running) -> None:
    """Found in review: ``switchboard users set-password`` left the user's sessions alive
    (14 days), so a reset after a stolen cookie did not lock the thief out. The CLI now
    ends them as the /api/users route does."""
    server.make_user("fay", password=PASSWORD)
    stolen, _ = login(server, "fay")
    other, _ = login(server, "fay")
    with closing(stolen), closing(other):
        reset = subprocess.run(
            [sys.executable, "-m", "switchboard.cli.main", "users", "set-password", "fay"],
            input="a brand new password\n", capture_output=True, text=True, timeout=120,
            env=dict(os.environ))
        assert reset.returncode == 0, reset.stderr
        assert server.query("SELECT count(*) FROM web_sessions") == [(0,)]
        assert stolen.get("/api/me").status_code == 401
        assert other.get("/api/me").status_code == 401
        fresh, _ = login(server, "fay", "a brand new password")
        with closing(fresh):
            off = subprocess.run(
                [sys.executable, "-m", "switchboard.cli.main", "users", "deactivate", "fay"],
                capture_output=True, text=True, timeout=120, env=dict(os.environ))
            assert off.returncode == 0, off.stderr
            assert server.query("SELECT count(*) FROM web_sessions") == [(0,)]
            assert fresh.get("/api/me").status_code == 401
