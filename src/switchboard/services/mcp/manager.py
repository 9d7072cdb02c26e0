"""The MCP servers of one process: one ``Connection`` per enabled server, kept in step
with the configuration, closed at shutdown.

``sources()`` is what the toolbox asks on every turn: it reads the cached server list
(no database read while nothing changed), starts nothing (connections start lazily, on
the first ``list_tools``), closes the connections of servers that were removed, disabled
or re-pointed, and hands back one ``ToolSource`` per enabled server. ``test()`` connects
afresh, beside the shared session, for the admin's "Test" button.

``warm_up()`` (the app, once the server is up) starts every enabled server's session in
the background, so the first turn that uses MCP tools does not wait seconds for a
stdio server to start (decision 0193). It waits ``WARM_AFTER_S`` first, so neither
the SDK's import (done in a thread) nor the servers' start competes with the first
requests; a server that fails to start costs only its own backoff, never the start.

The SDK is imported only when a server is configured (``_sdk()``): importing it costs
seconds and tens of MB (it brings an HTTP client, Starlette, OpenTelemetry), which a
gateway without MCP servers should not pay at start (tests/test_startup_imports.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from switchboard.db import Database
from switchboard.security.vault import Vault
from switchboard.services.mcp import servers
from switchboard.services.mcp.servers import ServerConfig
from switchboard.services.tools.contract import RunnableTool, ToolSource

if TYPE_CHECKING:
    from switchboard.services.mcp.connection import Connection

log = logging.getLogger("switchboard.mcp")


def _sdk() -> tuple[ModuleType, ModuleType]:
    """``connection`` and ``source`` (which import the SDK), on first need."""
    import importlib

    return (importlib.import_module("switchboard.services.mcp.connection"),
            importlib.import_module("switchboard.services.mcp.source"))


@dataclass(frozen=True, slots=True)
class TestReport:
    """What "Test" found: whether it connected, how long it took, its tools (with the
    policy each would run under) or the error, and the server's last stderr lines."""

    ok: bool
    elapsed_ms: int
    tools: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    stderr: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "elapsed_ms": self.elapsed_ms, "tools": self.tools,
                "error": self.error, "stderr": self.stderr}


LIST_TIMEOUT_S = 4.0
"""How long one turn waits for one server's tools (a stdio server's first start included;
below the toolbox's own 5 s per source, so one slow server cannot hide the others):
a server slower than that offers no tools this turn and keeps starting in the
background, so the next turn has them."""


WARM_AFTER_S = 2.0
"""Seconds after start-up before the servers are started (start-up time is measured up
to the first answered request; this keeps the warm-up out of it)."""
WARM_AT_ONCE = 4
"""Servers started at once by the warm-up (each may be a process)."""


class AllServers:
    """Every enabled server as ONE ``ToolSource`` named ``mcp`` (each tool still carries
    its own ``mcp:<server>`` source): a toolbox built once at start-up adds it once and
    sees servers added, changed or removed later."""

    name = "mcp"

    def __init__(self, manager: McpManager) -> None:
        self.manager = manager

    async def list_tools(self) -> Sequence[RunnableTool]:
        sources = await self.manager.sources()
        listed = await asyncio.gather(*(_bounded(s) for s in sources))
        return [tool for tools in listed for tool in tools]


async def _bounded(source: ToolSource) -> Sequence[RunnableTool]:
    try:
        async with asyncio.timeout(LIST_TIMEOUT_S):
            return await source.list_tools()
    except TimeoutError:
        return ()


class McpManager:
    def __init__(self, db: Database, vault: Callable[[], Vault], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.db = db
        self._vault = vault
        self._clock = clock
        self.connections: dict[str, Connection] = {}
        self._closed = False
        self._warming: asyncio.Task[None] | None = None

    def as_source(self) -> ToolSource:
        """All servers as one source, for a toolbox that takes sources once."""
        return AllServers(self)

    def vault(self) -> Vault:
        return self._vault()

    async def sources(self) -> list[ToolSource]:
        """One source per enabled server, in name order."""
        configs = [c for c in await servers.configs(self.db) if c.enabled]
        self._reconcile(configs)
        if not configs:
            return []
        source = _sdk()[1]
        return [source.McpToolSource(self.connections[c.name]) for c in configs]

    def _reconcile(self, configs: list[ServerConfig]) -> None:
        wanted = {c.name: c for c in configs}
        for name in list(self.connections):
            conn = self.connections[name]
            config = wanted.get(name)
            if config is None or config.connection_key() != conn.key:
                del self.connections[name]
                asyncio.get_running_loop().create_task(conn.close())
        if self._closed:
            return
        for name, config in wanted.items():
            live = self.connections.get(name)
            if live is None:
                self.connections[name] = _sdk()[0].Connection(config, self._vault,
                                                              clock=self._clock)
            else:
                live.config = config  # policies and timeout apply at once

    def warm_up(self, delay: float | None = None) -> asyncio.Task[None]:
        """Start every enabled server's session in the background after ``delay``
        seconds (default ``WARM_AFTER_S``; once per process; ``aclose`` cancels it)."""
        if self._warming is None:
            wait = WARM_AFTER_S if delay is None else delay
            self._warming = asyncio.get_running_loop().create_task(self._warm(wait),
                                                                   name="mcp:warm-up")
        return self._warming

    async def _warm(self, delay: float) -> None:
        await asyncio.sleep(delay)
        if self._closed:
            return
        try:
            if not any(c.enabled for c in await servers.configs(self.db)):
                return  # no server: the SDK is not even imported
            await asyncio.to_thread(_sdk)  # its import takes seconds: not on the loop
            await self.sources()
            at_once = asyncio.Semaphore(WARM_AT_ONCE)

            async def start(conn: Connection) -> None:
                async with at_once:
                    if await conn.ensure() is None:
                        log.warning("MCP server %s did not start: %s", conn.name,
                                    conn.last_error)

            await asyncio.gather(*(start(c) for c in list(self.connections.values())))
        except Exception:  # a warm-up never breaks the server: turns start it lazily
            log.exception("MCP warm-up failed")

    async def connection(self, name: str) -> Connection | None:
        await self.sources()
        return self.connections.get(name)

    async def test(self, name: str) -> TestReport:
        """Connect to ``name`` afresh, list its tools, disconnect."""
        config = await servers.get(self.db, name)
        connection, _source = _sdk()
        conn = connection.Connection(config, self._vault, clock=self._clock)
        started = time.perf_counter()
        try:
            client = await conn.ensure()
            elapsed = round((time.perf_counter() - started) * 1000)
            stderr = conn.stderr_tail(10)
            if client is None:
                return TestReport(False, elapsed, error=conn.last_error, stderr=stderr)
            tools = [{"name": t.name, "description": t.description,
                      "policy": config.default_policy,
                      "public_name": f"{config.name}.{t.name}"} for t in conn.tools]
            return TestReport(True, elapsed, tools=tools, stderr=stderr)
        finally:
            await conn.close()

    async def aclose(self) -> None:
        """At shutdown: every session ends, every stdio server process with it."""
        self._closed = True
        if self._warming is not None:
            self._warming.cancel()
            await asyncio.gather(self._warming, return_exceptions=True)
        conns, self.connections = list(self.connections.values()), {}
        await asyncio.gather(*(c.close() for c in conns), return_exceptions=True)
