"""``GET /api/dashboard`` on a real server: an admin gets the figures of the calls just
made (the recorder is flushed first), members get a 403, a bad period is a 422 naming
it — never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.chat_support import client
from tests.server import Running, isolated_server


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    yield  # the module's server isolates the environment for the whole module


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with isolated_server(tmp_path_factory, "dashboard") as running:
        yield running


def test_admins_see_the_calls_just_made_and_members_cannot(server: Running) -> None:
    admin = client(server, server.make_user("chief", role="admin"))
    member = client(server, server.make_user("pat"))
    for _ in range(2):
        made = member.post("/v1/chat/completions", json={
            "model": "offline:offline-chat", "messages": [{"role": "user", "content": "hi"}]})
        assert made.status_code == 200, made.text

    data = admin.get("/api/dashboard", params={"days": 1})
    assert data.status_code == 200, data.text
    body = data.json()
    assert body["totals"]["requests"] == 2 and body["live"]["requests_5_min"] == 2
    assert [u["username"] for u in body["top_users"]] == ["pat"]
    assert body["top_models"][0]["ref"] == "offline:offline-chat"
    assert body["providers"][0]["provider"] == "offline"

    refused = member.get("/api/dashboard")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"

    for bad in ("3", "seven", "-1", "99999999999999999999"):
        wrong = admin.get("/api/dashboard", params={"days": bad})
        assert wrong.status_code == 422, (bad, wrong.text)
        assert wrong.json()["error"]["field"] == "days"
