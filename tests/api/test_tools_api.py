"""``/api/tools``: what a member may turn on, and an administrator's changes (audited),
on a real server; hostile input gets the API's own 4xx, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import isolate
from tests.server import Running, running_server

BUILTINS = ["calculator", "datetime", "fetch_url", "generate_image", "search_conversations"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with pytest.MonkeyPatch.context() as env:  # module-scoped: isolated here, not per test
        isolate(env, tmp_path_factory.mktemp("tools") / "sb-data")
        with running_server() as running:
            yield running


def client(server: Running, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30,
                        headers={"authorization": f"Bearer {token}"})


def test_members_list_admins_change(server: Running) -> None:
    admin = client(server, server.make_user("root", role="admin"))
    member = client(server, server.make_user("alice"))

    listed = member.get("/api/tools")
    assert listed.status_code == 200
    tools = listed.json()["data"]
    assert [t["name"] for t in tools] == BUILTINS
    calculator = tools[0]
    assert set(calculator) == {"name", "description", "source", "default_on", "policy"}
    assert (calculator["source"], calculator["default_on"], calculator["policy"]) == (
        "builtin", True, "allow")
    assert "sqrt" in calculator["description"]

    changed = admin.patch("/api/tools/fetch_url", json={"enabled": False})
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False and changed.json()["changed"] is True
    assert admin.patch("/api/tools/generate_image",
                       json={"policy": "ask", "default_on": False}).status_code == 200
    tools = {t["name"]: t for t in member.get("/api/tools").json()["data"]}
    assert "fetch_url" not in tools
    assert (tools["generate_image"]["policy"], tools["generate_image"]["default_on"]) == (
        "ask", False)
    # ?all=true: everything for an administrator, nothing more for a member
    everything = {t["name"]: t for t in admin.get("/api/tools?all=true").json()["data"]}
    assert everything["fetch_url"]["enabled"] is False
    assert "fetch_url" not in {t["name"] for t in
                               member.get("/api/tools?all=true").json()["data"]}
    back = admin.patch("/api/tools/fetch_url", json={"enabled": None})
    assert back.json()["enabled"] is True
    assert "fetch_url" in {t["name"] for t in member.get("/api/tools").json()["data"]}

    rows = server.query("SELECT actor, action, target_id FROM audit_log "
                        "WHERE target_type = 'tool' ORDER BY id")
    assert [tuple(r) for r in rows] == [("root", "tool.update", "fetch_url"),
                                        ("root", "tool.update", "generate_image"),
                                        ("root", "tool.update", "fetch_url")]

    forbidden = member.patch("/api/tools/calculator", json={"enabled": False})
    assert forbidden.status_code == 403
    assert httpx.get(f"{server.url}/api/tools").status_code == 401


def test_bad_input(server: Running) -> None:
    admin = client(server, server.make_user("root2", role="admin"))
    missing = admin.patch("/api/tools/weather", json={"enabled": False})
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "no tool is called 'weather'"
    for path, body in [("/api/tools/calculator", {"policy": "sometimes"}),
                       ("/api/tools/calculator", {"enabled": "yes please"}),
                       ("/api/tools/calculator", {"owner": "me"}),
                       ("/api/tools/calculator", [1, 2]),
                       ("/api/tools/" + "x" * 201, {"enabled": True})]:
        bad = admin.patch(path, json=body)
        assert bad.status_code == 422, (path, body, bad.text)
        assert "error" in bad.json()
    assert admin.patch("/api/tools/calculator", content=b"{nope",
                       headers={"content-type": "application/json"}).status_code in (400, 422)
