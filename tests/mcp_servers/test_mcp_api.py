"""``/api/mcp-servers`` on a real server: admins add (stdio and Streamable HTTP), list,
change, test and remove MCP servers; secrets come back masked and never reach the audit
trail; bad input is the REST surface's 4xx, never a 500."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator

import pytest

from tests.api.chat_support import client
from tests.mcp_servers.http_server import serving
from tests.mcp_servers.test_sources import SCRIPT
from tests.server import Running, isolated_server

SECRET_ENV = "tok-123456789"
SECRET_HEADER = "Bearer hdr-secret-987654321"


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """The module's server owns the environment (its vault reads the data dir)."""
    yield


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with isolated_server(tmp_path_factory, "mcp") as running:
        yield running


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    with serving() as url:
        yield url


def test_admins_manage_mcp_servers(server: Running, http_url: str) -> None:
    admin = client(server, server.make_user("chief", role="admin"))
    member = client(server, server.make_user("mia"))
    command = shlex.join([sys.executable, str(SCRIPT)])

    made = admin.post("/api/mcp-servers", json={
        "name": "local", "command": command, "env": {"FIXTURE_TOKEN": SECRET_ENV}})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["transport"] == "stdio" and body["command"] == command
    assert body["env"] == {"FIXTURE_TOKEN": "\u20266789"}
    assert body["default_policy"] == "ask"
    remote = admin.post("/api/mcp-servers", json={
        "name": "remote", "url": http_url, "headers": {"Authorization": SECRET_HEADER},
        "timeout_seconds": 5})
    assert remote.status_code == 201, remote.text
    assert remote.json()["headers"] == {"Authorization": "\u20264321"}

    listed = admin.get("/api/mcp-servers").json()["servers"]
    assert [s["name"] for s in listed] == ["local", "remote"]
    assert SECRET_ENV not in json.dumps(listed) and SECRET_HEADER not in json.dumps(listed)

    report = admin.post("/api/mcp-servers/remote/test").json()
    assert report["ok"] is True, report
    assert {"echo", "weather", "picture"} <= {t["name"] for t in report["tools"]}
    assert report["elapsed_ms"] >= 0

    changed = admin.patch("/api/mcp-servers/remote", json={"default_policy": "allow"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["default_policy"] == "allow"
    tools = admin.get("/api/mcp-servers/remote/tools").json()
    assert tools["connected"] is True
    assert next(t for t in tools["tools"] if t["name"] == "echo")["public_name"] == "remote.echo"

    # The server's tools are the toolbox's like any tool: listed with their source and
    # the server's default policy, and one tool's policy is set in the tool settings.
    listed = {t["name"]: t for t in admin.get("/api/tools?all=true").json()["data"]}
    assert listed["remote.echo"]["source"] == "mcp:remote"
    assert listed["remote.echo"]["policy"] == "allow"
    assert "local.echo" not in listed or listed["local.echo"]["source"] == "mcp:local"
    denied = admin.patch("/api/tools/remote.fail", json={"policy": "deny"})
    assert denied.status_code == 200, denied.text
    assert denied.json()["policy"] == "deny"

    # Removing a header (null) keeps the others; the mask follows.
    assert admin.patch("/api/mcp-servers/remote", json={
        "headers": {"Authorization": None, "X-Team": "blue-team-42"}}).json()["headers"] == {
        "X-Team": "\u2026m-42"}

    # Members never see or change MCP servers.
    assert member.get("/api/mcp-servers").status_code == 403
    assert member.post("/api/mcp-servers/remote/test").status_code == 403

    # Bad input: the REST surface's own errors.
    assert admin.post("/api/mcp-servers", json={"name": "local", "command": "x"}
                      ).status_code == 409
    for bad in ({"name": "Bad.Name", "command": "x"},
                {"name": "both", "command": "x", "url": "http://127.0.0.1/"},
                {"name": "neither"},
                {"name": "ftp", "url": "ftp://example.com/"},
                {"name": "quote", "command": "python 'unclosed"},
                {"name": "hdr", "url": "http://127.0.0.1/", "headers": {"Host": "x"}},
                {"name": "envhttp", "url": "http://127.0.0.1/", "env": {"A": "b"}},
                {"name": "ctl", "command": "x", "env": {"A": "line\nbreak"}}):
        got = admin.post("/api/mcp-servers", json=bad)
        assert got.status_code == 422, (bad, got.text)
        assert "error" in got.json()
    assert admin.patch("/api/mcp-servers/remote", json={"command": "x"}).status_code == 422
    assert admin.get("/api/mcp-servers/nobody").status_code == 404
    assert admin.post("/api/mcp-servers/nobody/test").status_code == 404

    assert admin.delete("/api/mcp-servers/local").status_code == 204
    assert [s["name"] for s in admin.get("/api/mcp-servers").json()["servers"]] == ["remote"]

    trail = server.query("SELECT action, details FROM audit_log "
                         "WHERE target_type = 'mcp_server' ORDER BY id")
    actions = [row[0] for row in trail]
    assert actions[:2] == ["mcp_server.create", "mcp_server.create"]
    assert "mcp_server.update" in actions and actions[-1] == "mcp_server.delete"
    text = json.dumps([str(row[1]) for row in trail])
    assert SECRET_ENV not in text and "hdr-secret" not in text and "blue-team" not in text
