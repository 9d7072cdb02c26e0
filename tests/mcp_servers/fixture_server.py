"""A real MCP server for the tests, written with the official SDK (``MCPServer``, the
SDK's FastMCP): run as a script it serves stdio; ``build()`` is also served over
Streamable HTTP on loopback by ``tests/mcp_servers/http_server.py``.

Its tools cover what a client must carry: text, an image, structured content, an error,
a slow call, a crash (the process exits mid-call) and a list change (``grow`` adds a
tool and says so).
"""

from __future__ import annotations

import asyncio
import os
import sys

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.utilities.types import Image
from pydantic import BaseModel

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


class Weather(BaseModel):
    city: str
    celsius: float


def build() -> MCPServer:
    app = MCPServer("fixture")

    @app.tool()
    def echo(text: str) -> str:
        """Repeat the text."""
        return f"echo: {text}"

    @app.tool()
    def weather(city: str) -> Weather:
        """The weather in a city (structured)."""
        return Weather(city=city, celsius=21.5)

    @app.tool()
    def picture() -> Image:
        """A tiny picture."""
        return Image(data=PNG, format="png")

    @app.tool()
    def fail() -> str:
        """Always fails."""
        raise ValueError("the fixture failed on purpose")

    @app.tool()
    async def slow(seconds: float) -> str:
        """Answers after a while."""
        await asyncio.sleep(seconds)
        return "slept"

    @app.tool()
    def secret_env() -> str:
        """Says whether the env value arrived (never echoes it)."""
        return "set" if os.environ.get("FIXTURE_TOKEN") == "tok-123456789" else "unset"

    @app.tool()
    def crash() -> str:
        """The process exits mid-call."""
        # A careless server prints its secret: Switchboard must not repeat it.
        print(f"fixture: crashing now (token {os.environ.get('FIXTURE_TOKEN')})",
              file=sys.stderr, flush=True)
        os._exit(3)

    @app.tool()
    async def grow(ctx: Context) -> str:
        """Adds the tool ``added`` and tells the client its tools changed."""

        def added(x: int) -> int:
            """Added by grow."""
            return x * 2

        app.add_tool(added, name="added")
        await ctx.notify_tools_changed()
        return "grown"

    return app


if __name__ == "__main__":
    if pid_file := os.environ.get("FIXTURE_PID_FILE"):  # lets a test see it is gone
        with open(pid_file, "w") as out:
            out.write(str(os.getpid()))
    build().run()
