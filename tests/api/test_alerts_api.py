"""``/api/alerts`` on a real server: an admin turns a rule, adds a webhook channel (its
address never comes back), sends a test message to a receiver on loopback, runs a round
that opens an alert, sees it on the Alerts lists and the dashboard, and removes the
channel; members get 403; bad input is a 422 naming the field — never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import catalog, keys
from tests.alert_support import Receiver
from tests.api.chat_support import client
from tests.server import Running, isolated_server


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    yield  # the module's server isolates the environment for the whole module


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with isolated_server(tmp_path_factory, "alerts") as running:
        yield running


async def _refused_key(url: str) -> None:
    db = Database.from_url(url, pooled=False)
    try:
        await catalog.create_provider(db, name="acme", kind="openai")
        await keys.add_provider_key(db, "acme", "sk-test-acme-0123456789", label="main")
        async with db.unit_of_work() as session:
            await session.execute(update(m.ProviderKey).values(failed_at=datetime.now(UTC)))
    finally:
        await db.dispose()


def test_admins_manage_alerts_end_to_end(server: Running) -> None:
    admin = client(server, server.make_user("chief", role="admin"))
    member = client(server, server.make_user("pat"))
    receiver = Receiver()
    try:
        rules = admin.get("/api/alerts/rules").json()["rules"]
        assert len(rules) == 10 and all(r["enabled"] for r in rules)
        changed = admin.put("/api/alerts/rules/error_rate",
                            json={"threshold": 0.5, "window_seconds": 600})
        assert changed.status_code == 200, changed.text
        assert (changed.json()["threshold"], changed.json()["window_seconds"]) == (0.5, 600)

        made = admin.post("/api/alerts/channels", json={
            "name": "hooks", "kind": "webhook", "secret": f"{receiver.url}/in/secret-part"})
        assert made.status_code == 200, made.text
        channel = made.json()
        assert "secret-part" not in made.text and channel["secret_hint"] == "…part"
        assert admin.post("/api/alerts/channels", json={
            "name": "hooks", "kind": "slack", "secret": f"{receiver.url}/x"}).status_code == 409

        tested = admin.post(f"/api/alerts/channels/{channel['id']}/test")
        assert tested.json() == {"sent": True, "error": None}
        assert receiver.posts[-1][1]["event"] == "test"

        asyncio.run(_refused_key(server.settings.database_url))
        ran = admin.post("/api/alerts/evaluate").json()
        assert ran == {"ran": True, "opened": 1, "resolved": 0, "sent": 1, "failed": 0}
        assert receiver.posts[-1][1]["rule"] == "key_rejected"
        lists = admin.get("/api/alerts").json()
        assert [a["rule"] for a in lists["open"]] == ["key_rejected"]
        assert "refused the key 'main'" in lists["open"][0]["message"]
        dashboard = admin.get("/api/dashboard").json()
        assert [a["rule"] for a in dashboard["alerts"]] == ["key_rejected"]

        off = admin.patch(f"/api/alerts/channels/{channel['id']}", json={"enabled": False})
        assert off.status_code == 200 and off.json()["enabled"] is False
        assert admin.delete(f"/api/alerts/channels/{channel['id']}").status_code == 204
        assert admin.get("/api/alerts/channels").json() == {"channels": []}
        assert admin.delete(f"/api/alerts/channels/{channel['id']}").status_code == 404
    finally:
        receiver.close()

    for method, path in (("GET", "/api/alerts"), ("GET", "/api/alerts/rules"),
                         ("POST", "/api/alerts/evaluate"), ("GET", "/api/alerts/channels")):
        assert member.request(method, path).status_code == 403, path

    for bad, field in (({"threshold": -1}, "threshold"), ({"window_seconds": 5}, "window_seconds"),
                       ({"colour": "red"}, "colour")):
        wrong = admin.put("/api/alerts/rules/error_rate", json=bad)
        assert wrong.status_code == 422, wrong.text
        assert field in str(wrong.json()["error"].get("field")), wrong.text
    assert admin.put("/api/alerts/rules/nonsense", json={}).status_code == 422
    assert admin.put("/api/alerts/rules/error_rate",
                     json={"threshold": 3}).json()["error"]["field"] == "threshold"
    wrong = admin.post("/api/alerts/channels", json={
        "name": "m", "kind": "email", "settings": {"host": "mail", "from": "a@b.c",
                                                   "to": ["not an address"]}})
    assert wrong.status_code == 422 and wrong.json()["error"]["field"] == "settings.to"
