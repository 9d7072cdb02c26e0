"""MCP servers as sources of tools, against REAL servers written with the SDK: one over
stdio (a script run with this interpreter), one over Streamable HTTP (uvicorn on
loopback, shared by the module). Discovery, calls (text, image, structured, error), a
list change, a timeout, a crash and the reconnection after it."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.db import Database
from switchboard.services import audit
from switchboard.services.keys import open_vault
from switchboard.services.mcp import servers
from switchboard.services.mcp.manager import McpManager
from switchboard.services.principal import Principal
from switchboard.services.tools.contract import RunnableTool, ToolContext, ToolOutput
from switchboard.spec.errors import SwitchboardError
from tests.mcp_servers.http_server import serving

SCRIPT = Path(__file__).with_name("fixture_server.py")
STDIO = shlex.join([sys.executable, str(SCRIPT)])
CONTEXT = ToolContext(principal=Principal(user_id=1, username="ada", role="user"))


class Clock:
    """The connections' clock: the backoff after a crash passes when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    with serving() as url:
        yield url


async def tools_of(manager: McpManager) -> dict[str, RunnableTool]:
    out: dict[str, RunnableTool] = {}
    for source in await manager.sources():
        for tool in await source.list_tools():
            out[tool.spec.name] = tool
    return out


async def run(tools: dict[str, RunnableTool], name: str, **arguments: object) -> ToolOutput:
    return await tools[name].run(arguments, CONTEXT)


async def check_calls(manager: McpManager, server: str) -> None:
    tools = await tools_of(manager)
    assert {f"{server}.echo", f"{server}.weather", f"{server}.picture",
            f"{server}.fail"} <= set(tools)
    echo = tools[f"{server}.echo"].spec
    assert echo.source == f"mcp:{server}" and echo.wire_name == f"{server}__echo"
    assert echo.policy == "ask"  # nobody looked at it yet (decision 0107)
    assert echo.parameters["properties"]["text"]["type"] == "string"

    out = await run(tools, f"{server}.echo", text="hi")
    assert (out.text, out.is_error) == ("echo: hi", False)
    out = await run(tools, f"{server}.weather", city="Oslo")
    assert out.structured == {"city": "Oslo", "celsius": 21.5}
    out = await run(tools, f"{server}.picture")
    assert [i.media_type for i in out.images] == ["image/png"]
    assert out.images[0].data and out.images[0].data.startswith("iVBOR")
    out = await run(tools, f"{server}.fail")
    assert out.is_error and "fail" in out.text

    # A list change: the server adds a tool and says so; the next turn sees it.
    conn = manager.connections[server]
    before = conn.generation
    assert (await run(tools, f"{server}.grow")).text == "grown"
    async with asyncio.timeout(10):
        await conn.refreshed(before)
    tools = await tools_of(manager)
    assert (await run(tools, f"{server}.added", x=4)).text == "8"

    # A slow tool: one error result within the server's timeout, and the server lives on.
    started = time.monotonic()
    out = await run(tools, f"{server}.slow", seconds=30)
    assert out.is_error and "did not answer within 3 seconds" in out.text
    assert time.monotonic() - started < 8
    assert (await run(tools, f"{server}.echo", text="still")).text == "echo: still"


async def test_stdio_server(database: Database, tmp_path: Path) -> None:
    pid_file = tmp_path / "server.pid"
    await servers.add(database, audit.CLI, open_vault(), name="local", command=STDIO,
                      env={"FIXTURE_TOKEN": "tok-123456789",
                           "FIXTURE_PID_FILE": str(pid_file)}, timeout_seconds=3)
    manager = McpManager(database, open_vault)
    try:
        # A caller that gives up (the toolbox's timeout) leaves the start running; the
        # next caller waits for that same start: one process, one listing.
        conn = await manager.connection("local")
        assert conn is not None
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.05):
                await conn.ensure()
        assert await conn.ensure() is not None and conn.generation == 1
        await check_calls(manager, "local")
        tools = await tools_of(manager)
        assert (await run(tools, "local.secret_env")).text == "set"
    finally:
        await manager.aclose()
    assert manager.connections == {}
    # Shutdown ended the server process (the SDK waits for it and reaps it).
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)


async def test_http_server(database: Database, http_url: str) -> None:
    await servers.add(database, audit.CLI, open_vault(), name="remote", url=http_url,
                      headers={"Authorization": "Bearer abc-123456789"}, timeout_seconds=3)
    manager = McpManager(database, open_vault)
    try:
        await check_calls(manager, "remote")
    finally:
        await manager.aclose()


async def test_a_crash_breaks_only_that_server_and_it_comes_back(database: Database) -> None:
    clock = Clock()
    await servers.add(database, audit.CLI, open_vault(), name="shaky", command=STDIO,
                      env={"FIXTURE_TOKEN": "tok-123456789"}, timeout_seconds=5)
    manager = McpManager(database, open_vault, clock=clock)
    try:
        tools = await tools_of(manager)
        out = await run(tools, "shaky.crash")
        assert out.is_error and "shaky.crash failed" in out.text
        assert "tok-123456789" not in out.text
        conn = manager.connections["shaky"]
        assert conn.stderr is not None
        await asyncio.to_thread(conn.stderr._reader.join, 10)  # the pipe closed
        said = " ".join(conn.stderr_tail())
        assert "crashing now" in said and "tok-123456789" not in said
        # Within the backoff: no respawn, one clear error, the source lists nothing.
        out = await run(tools, "shaky.echo", text="x")
        assert out.is_error and "cannot be reached" in out.text
        assert await tools_of(manager) == {}
        clock.now += 1.0  # the first backoff is 0.5 s
        tools = await tools_of(manager)
        assert (await run(tools, "shaky.echo", text="back")).text == "echo: back"
    finally:
        await manager.aclose()


async def test_policies_and_a_server_that_cannot_start(database: Database) -> None:
    vault = open_vault()
    await servers.add(database, audit.CLI, vault, name="local", command=STDIO)
    await servers.update(database, audit.CLI, vault, "local", default_policy="deny")
    await servers.add(database, audit.CLI, vault, name="missing",
                      command="/nonexistent/mcp-server --flag")
    manager = McpManager(database, open_vault)
    try:
        tools = await tools_of(manager)
        # Listed with the server's default; the toolbox keeps denied tools from models
        # and lets an administrator set one tool otherwise (tool_settings).
        assert {tools[n].spec.policy for n in ("local.crash", "local.echo")} == {"deny"}
        assert not any(name.startswith("missing.") for name in tools)
        together = manager.as_source()  # one source for a toolbox built at start-up
        assert together.name == "mcp"
        assert {t.spec.name for t in await together.list_tools()} == set(tools)
        report = await manager.test("missing")
        assert not report.ok and "not found" in (report.error or "")
    finally:
        await manager.aclose()


async def test_secrets_are_sealed_bound_and_follow_a_master_key_rotation(
        database: Database) -> None:
    from switchboard.services.keys import rotate_master_key

    await servers.add(database, audit.CLI, open_vault(), name="sealed", command="prog",
                      env={"TOKEN": "tok-123456789", "OTHER": "x"})
    rows = await database_rows(database)
    assert "tok-123456789" not in rows and "\u20266789" in rows
    await rotate_master_key(database)
    config = await servers.get(database, "sealed")
    assert config.open_env(open_vault()) == {"TOKEN": "tok-123456789", "OTHER": "x"}
    # A value copied to another name does not open (bound to server, kind and name).
    swapped = {"TOKEN": config.env["OTHER"], "OTHER": config.env["TOKEN"]}
    with pytest.raises(SwitchboardError, match=r"setting (TOKEN|OTHER)"):
        dataclasses.replace(config, env=swapped).open_env(open_vault())


async def database_rows(database: Database) -> str:
    from sqlalchemy import text

    async with database.unit_of_work(read_only=True) as session:
        return str((await session.execute(text("SELECT env FROM mcp_servers"))).all())
