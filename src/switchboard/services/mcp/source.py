"""An MCP server as a ``ToolSource`` (``services.tools.contract``): its tools, named
``server.tool``, with the admin's policy and the server's timeout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from switchboard.services.mcp.connection import Connection, DiscoveredTool
from switchboard.services.tools.contract import (
    DEFAULT_MAX_RESULT_CHARS,
    RunnableTool,
    ToolContext,
    ToolOutput,
    ToolSpec,
)


@dataclass(frozen=True, slots=True)
class McpTool:
    """One tool of one server. Runs on the server's shared session."""

    spec: ToolSpec
    tool: str
    """The server's own name for it (without the ``server.`` prefix)."""
    connection: Connection

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        # The server sees the arguments only: who asked is Switchboard's business.
        return await self.connection.call(self.tool, arguments,
                                          max_chars=self.spec.max_result_chars)


class McpToolSource:
    """The tools one server offers now, with the server's default policy (the toolbox
    applies an administrator's per-tool settings, ``deny`` included); a server that is
    down lists nothing (the connection logged why)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    @property
    def name(self) -> str:
        return self.connection.config.source

    def spec_of(self, tool: DiscoveredTool) -> ToolSpec:
        config = self.connection.config
        return ToolSpec(name=f"{config.name}.{tool.name}", description=tool.description,
                        parameters=tool.parameters, source=config.source,
                        policy=config.default_policy,
                        timeout_s=float(config.timeout_seconds),
                        max_result_chars=DEFAULT_MAX_RESULT_CHARS)

    async def list_tools(self) -> Sequence[RunnableTool]:
        return [McpTool(self.spec_of(tool), tool.name, self.connection)
                for tool in await self.connection.list_tools()]
