"""``/api/limits`` (admins): read the defaults and overrides, set and drop overrides, and
the change reaches the policy at once (no database read per call, the cache is dropped)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.server import Running, running_server


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> Iterator[Running]:
    monkeypatch.setenv("SWITCHBOARD_RATE_LIMITS_USER", "rpm=60,concurrent=none")
    with running_server() as running:
        yield running


def client(server: Running, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30,
                        headers={"authorization": f"Bearer {token}"})


def test_admin_reads_sets_and_removes_overrides(server: Running) -> None:
    admin = client(server, server.make_user("root", role="admin"))
    member_token = server.make_user("alice")
    alice_id = int(str(server.query("SELECT id FROM users WHERE username = 'alice'")[0][0]))
    token_id = int(str(server.query(
        f"SELECT id FROM api_tokens WHERE user_id = {alice_id}")[0][0]))

    got = admin.get("/api/limits").json()
    assert got["enabled"] is True
    assert got["roles"]["user"] == {
        "effective": {"requests_per_minute": 60, "tokens_per_minute": 1_000_000,
                      "concurrent": 0},
        "configured": {"requests_per_minute": 60, "tokens_per_minute": 1_000_000,
                       "concurrent": 0},
        "override": None}
    assert got["overrides"] == []

    assert admin.put("/api/limits/roles/user", json={"requests_per_minute": 90}
                     ).status_code == 204
    assert admin.put(f"/api/limits/users/{alice_id}",
                     json={"tokens_per_minute": 0, "concurrent": 3}).status_code == 204
    assert admin.put(f"/api/limits/tokens/{token_id}",
                     json={"requests_per_minute": 5}).status_code == 204
    got = admin.get("/api/limits").json()
    assert got["roles"]["user"]["effective"]["requests_per_minute"] == 90
    assert got["roles"]["user"]["override"] == {
        "requests_per_minute": 90, "tokens_per_minute": None, "concurrent": None}
    assert [(o["scope"], o["name"], o["owner"], o["requests_per_minute"],
             o["tokens_per_minute"], o["concurrent"]) for o in got["overrides"]] == [
        ("user", "alice", None, None, 0, 3), ("token", "test", "alice", 5, None, None)]

    # the policy sees the change at once (the write dropped the cache): alice's calls
    # report her token's limit, the tighter one
    member = client(server, member_token)
    call = member.post("/v1/chat/completions",
                       json={"model": "offline:offline-chat",
                             "messages": [{"role": "user", "content": "hi"}]})
    assert call.status_code == 200, call.text
    assert call.headers["x-ratelimit-limit-requests"] == "5"
    assert call.headers["x-ratelimit-remaining-requests"] == "4"
    assert "x-ratelimit-limit-tokens" not in call.headers  # 0: no token limit for alice

    assert admin.delete(f"/api/limits/users/{alice_id}").status_code == 204
    missing = admin.delete(f"/api/limits/users/{alice_id}")
    assert missing.status_code == 404 and "no rate-limit override" in missing.text
    assert admin.delete("/api/limits/roles/user").status_code == 204
    assert [o["scope"] for o in admin.get("/api/limits").json()["overrides"]] == ["token"]

    # hostile or wrong input: the API's own 4xx shape, never a 500
    for path, body in [(f"/api/limits/users/{alice_id}", {"requests_per_minute": -1}),
                       (f"/api/limits/users/{alice_id}", {"requests_per_minute": 2**31}),
                       (f"/api/limits/users/{alice_id}", {"rpm": 3}),
                       (f"/api/limits/users/{alice_id}", {"concurrent": "many"}),
                       ("/api/limits/roles/owner", {})]:
        bad = admin.put(path, json=body)
        assert bad.status_code in (400, 422), (path, body, bad.text)
        assert "error" in bad.json()
    assert admin.put("/api/limits/users/99999", json={}).status_code == 404
    assert admin.put("/api/limits/tokens/99999", json={}).status_code == 404

    assert member.get("/api/limits").status_code == 403
    assert member.put(f"/api/limits/users/{alice_id}", json={}).status_code == 403
