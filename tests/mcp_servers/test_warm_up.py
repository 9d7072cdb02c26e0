"""MCP servers started in the background once the server is up (decision 0193): the
first turn that uses their tools finds the session running instead of waiting seconds
for a stdio server to start, and a server that cannot start delays nothing."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from switchboard.config import Settings
from switchboard.db import Database
from switchboard.services import audit
from switchboard.services.keys import open_vault
from switchboard.services.mcp import manager as manager_module
from switchboard.services.mcp import servers
from switchboard.services.mcp.manager import McpManager
from tests.mcp_servers.test_sources import STDIO, run, tools_of
from tests.server import running_server
from tests.server_process import prepare_database


async def test_a_turn_after_the_warm_up_does_not_start_the_server_again(
        database: Database, tmp_path: Path) -> None:
    pid_file = tmp_path / "server.pid"
    vault = open_vault()
    await servers.add(database, audit.CLI, vault, name="local", command=STDIO,
                      env={"FIXTURE_TOKEN": "tok-123456789",
                           "FIXTURE_PID_FILE": str(pid_file)}, timeout_seconds=5)
    await servers.add(database, audit.CLI, vault, name="missing",
                      command="/nonexistent/mcp-server --flag")
    manager = McpManager(database, open_vault)
    try:
        await manager.warm_up(delay=0)  # ends: the failing server held nothing up
        assert manager.warm_up() is manager.warm_up()  # once per process
        local, missing = manager.connections["local"], manager.connections["missing"]
        assert local.connected and local.generation == 1
        assert not missing.connected and missing.last_error
        started = pid_file.read_text()
        # The turn: its tools listed and one called, on the session already running.
        tools = await tools_of(manager)
        assert (await run(tools, "local.echo", text="warm")).text == "echo: warm"
        assert local.generation == 1 and manager.connections["local"] is local
        assert pid_file.read_text() == started  # no second process
    finally:
        await manager.aclose()


async def test_no_enabled_server_no_sdk_work(database: Database) -> None:
    await servers.add(database, audit.CLI, open_vault(), name="off", command=STDIO)
    await servers.update(database, audit.CLI, open_vault(), "off", enabled=False)
    manager = McpManager(database, open_vault)
    try:
        await manager.warm_up(delay=0)
        assert manager.connections == {}
    finally:
        await manager.aclose()


async def _add_server(settings: Settings, pid_file: Path) -> None:
    db = Database.from_url(settings.database_url, pooled=False)
    try:
        await servers.add(db, audit.CLI, open_vault(), name="local", command=STDIO,
                          env={"FIXTURE_TOKEN": "tok-123456789",
                               "FIXTURE_PID_FILE": str(pid_file)}, timeout_seconds=5)
    finally:
        await db.dispose()


def test_the_server_warms_its_mcp_servers_up_after_start(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(manager_module, "WARM_AFTER_S", 0.0)
    pid_file = tmp_path / "server.pid"
    db = prepare_database()
    asyncio.run(_add_server(db.settings, pid_file))
    admin = db.make_user("root", role="admin")
    with running_server(db.settings) as server:
        mcp = server.app.state.sb.mcp
        deadline = time.monotonic() + 30
        while not ("local" in mcp.connections and mcp.connections["local"].connected):
            assert time.monotonic() < deadline, "the MCP server was not started"
            time.sleep(0.05)
        started = pid_file.read_text()
        # no request has been made; the tools menu now lists its tools at once
        listed = httpx.get(f"{server.url}/api/tools",
                           headers={"authorization": f"Bearer {admin}"}, timeout=30)
        assert "local.echo" in {t["name"] for t in listed.json()["data"]}
        assert mcp.connections["local"].generation == 1
        assert pid_file.read_text() == started
