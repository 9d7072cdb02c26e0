"""One long-lived MCP client session to one server, and what it discovered.

Why a task owns the session: the SDK's ``Client`` enters anyio task groups (the stdio
reader and writer, the HTTP post writer) that must be exited by the task that entered
them. So ``Connection._run`` enters the ``Client`` and holds it until the connection is
closed or lost; turns call tools on it from their own tasks (the SDK's requests are
memory streams, safe across tasks of one loop).

A server that crashes or hangs breaks only its own tools:

- every call is bounded by the server's timeout (the SDK's read timeout, and an outer
  ``asyncio.timeout`` in case a transport ignores it) and becomes ONE error result;
- a lost connection (the process exited, the HTTP server went away) ends ``_run``; the
  next use reconnects, no sooner than an exponential backoff (0.5 s doubling to 30 s,
  on an injectable clock) after the failure, so a crash loop costs one spawn per backoff,
  not one per call;
- what the server prints on stderr is kept as its last lines only (``StderrTail``),
  never logged or held without bound.

Discovery is bounded too (tools per server, schema size, description length), and is
refreshed when the server says its tools changed: ``notifications/tools/list_changed``
(handshake-era servers send it unasked; 2026-07-28 servers send it on a
``subscriptions/listen`` stream, which ``_run`` opens when the protocol has it).
MCP spec: https://modelcontextprotocol.io/specification/2025-06-18/server/tools
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, TextIO

import httpx2
import mcp_types as types
import orjson
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.client.subscriptions import ListenNotSupportedError

from switchboard.security.vault import Vault
from switchboard.services.mcp.results import to_output
from switchboard.services.mcp.servers import ServerConfig
from switchboard.services.tools.contract import ToolOutput
from switchboard.spec.redaction import redact

log = logging.getLogger("switchboard.mcp")

MAX_TOOLS = 128
"""Tools kept per server: a model offered hundreds of tools chooses badly, and each costs
prompt tokens. More are dropped with a warning."""
MAX_SCHEMA_BYTES = 16_384
"""A tool whose input schema is larger is not offered (it would be part of every prompt)."""
MAX_DESCRIPTION_CHARS = 2_000
MAX_LIST_PAGES = 10
CONNECT_TIMEOUT_S = 30.0
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0
STDERR_LINES = 40
STDERR_LINE_CHARS = 400


@dataclass(frozen=True, slots=True)
class DiscoveredTool:
    """A tool as the server described it, after the bounds above."""

    name: str
    description: str
    parameters: Mapping[str, Any]


class StderrTail:
    """A pipe for a server's stderr whose last lines are kept, the rest dropped.

    A thread reads the pipe (a blocking read; it ends when every writer has closed it,
    i.e. when the server and its children are gone)."""

    def __init__(self) -> None:
        self.lines: deque[str] = deque(maxlen=STDERR_LINES)
        read_fd, write_fd = os.pipe()
        self.writer: TextIO = os.fdopen(write_fd, "w")
        self._reader = threading.Thread(target=self._read, args=(read_fd,), daemon=True,
                                        name="mcp-stderr")
        self._reader.start()

    def _read(self, fd: int) -> None:
        with os.fdopen(fd, "rb") as pipe:
            while chunk := pipe.readline(STDERR_LINE_CHARS):
                line = chunk.decode("utf-8", "replace").rstrip()
                if line:
                    self.lines.append(line)

    def close_writer(self) -> None:
        """Our copy of the write end: closed once the process has it, so the reader sees
        the end when the process exits."""
        with contextlib.suppress(OSError):
            self.writer.close()

    def tail(self, n: int = 5) -> list[str]:
        return list(self.lines)[-n:]


def discovered(tools: list[types.Tool], server: str) -> list[DiscoveredTool]:
    out: list[DiscoveredTool] = []
    for tool in tools:
        if len(out) >= MAX_TOOLS:
            log.warning("mcp.tools_dropped", extra={"server": server, "kept": MAX_TOOLS,
                                                    "listed": len(tools)})
            break
        schema = dict(tool.input_schema or {})
        if schema.get("type") != "object":
            schema = {"type": "object", "properties": {}}
        if len(orjson.dumps(schema)) > MAX_SCHEMA_BYTES:
            log.warning("mcp.tool_schema_too_large", extra={"server": server,
                                                            "tool": tool.name[:64]})
            continue
        if not tool.name or len(tool.name) > 64 or not all(
                c.isalnum() or c in "_-." for c in tool.name):
            log.warning("mcp.tool_name_refused", extra={"server": server,
                                                        "tool": tool.name[:64]})
            continue
        description = (tool.description or tool.title or "")[:MAX_DESCRIPTION_CHARS]
        out.append(DiscoveredTool(tool.name, description, schema))
    return out


class Connection:
    """The session to one server: started lazily, reconnected with backoff."""

    def __init__(self, config: ServerConfig, vault: Callable[[], Vault], *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._vault = vault
        self._clock = clock
        self.key = config.connection_key()
        self.tools: list[DiscoveredTool] = []
        self.last_error: str | None = None
        self.stderr: StderrTail | None = None
        self._secrets: tuple[str, ...] = ()
        """The opened env / header values: redacted from whatever the server says."""
        self._client: Client | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._stop = asyncio.Event()
        self._starting: tuple[asyncio.Task[None], asyncio.Event, asyncio.Event, float] | None \
            = None
        self._closing = False
        self._start_lock = asyncio.Lock()
        self._failures = 0
        self._retry_at = 0.0
        self._changed = asyncio.Event()
        self._refreshed = asyncio.Event()
        self.generation = 0
        """Counts successful (re)connections and tool refreshes: tests and the settings
        page tell a fresh listing from an old one."""

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def connected(self) -> bool:
        return self._client is not None

    # -- lifecycle ---------------------------------------------------------------------

    async def ensure(self) -> Client | None:
        """The live client, starting it if needed; ``None`` (with ``last_error``) when the
        server cannot be reached or is still in its backoff after a failure.

        A caller that gives up waiting (the toolbox's own timeout) leaves the start
        running: the next caller waits for the same start instead of spawning another."""
        if self._client is not None:
            return self._client
        async with self._start_lock:
            if self._client is not None:
                return self._client
            if self._starting is None:
                if self._closing or self._clock() < self._retry_at:
                    return None
                ready, stop = asyncio.Event(), asyncio.Event()
                self._stop = stop
                task = asyncio.get_running_loop().create_task(self._run(ready, stop),
                                                              name=f"mcp:{self.name}")
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
                self._starting = (task, ready, stop, self._clock() + CONNECT_TIMEOUT_S)
            task, ready, stop, deadline = self._starting
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, deadline - self._clock())):
                    await ready.wait()
            self._starting = None
            if self._client is None:
                if self.last_error is None:
                    self.last_error = "the server did not answer in time"
                self._lost()
                stop.set()
                task.cancel()
            return self._client

    async def _run(self, ready: asyncio.Event, stop: asyncio.Event) -> None:
        client: Client | None = None
        try:
            async with AsyncExitStack() as stack:
                client = await stack.enter_async_context(self._client_for(stack))
                if self.stderr is not None:
                    self.stderr.close_writer()
                await self._refresh(client)
                self._client = client
                self._failures = 0
                self.last_error = None
                ready.set()
                await self._serve(client, stop)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # a server's failure stays its own
            self.last_error = self.say(exc)
            log.warning("mcp.connection_failed",
                        extra={"server": self.name, "error": self.last_error})
        finally:
            if client is not None and self._client is client:
                self._client = None
                if not self._closing:
                    self._lost()
            ready.set()

    def _client_for(self, stack: AsyncExitStack) -> Client:
        config = self.config
        vault = self._vault()
        if config.transport == "stdio":
            assert config.command is not None
            self.stderr = StderrTail()
            stack.callback(self.stderr.close_writer)
            env = config.open_env(vault)
            self._secrets = tuple(env.values())
            params = StdioServerParameters(command=config.command, args=list(config.args),
                                           env=env or None)
            transport: Any = stdio_client(params, errlog=self.stderr.writer)
        else:
            assert config.url is not None
            headers = config.open_headers(vault)
            self._secrets = tuple(headers.values())
            http = httpx2.AsyncClient(headers=headers,
                                      timeout=httpx2.Timeout(30.0, read=300.0))
            transport = streamable_http_client(config.url, http_client=http)
            stack.push_async_callback(http.aclose)
        return Client(transport, message_handler=self._on_message, cache=None,
                      read_timeout_seconds=float(config.timeout_seconds))

    async def _serve(self, client: Client, stop: asyncio.Event) -> None:
        """Hold the session until closed or lost; refresh the tools when told to."""
        listen = asyncio.get_running_loop().create_task(self._listen(client, stop))
        try:
            while not stop.is_set():
                stopped = asyncio.ensure_future(stop.wait())
                changed = asyncio.ensure_future(self._changed.wait())
                await asyncio.wait({stopped, changed}, return_when=asyncio.FIRST_COMPLETED)
                stopped.cancel()
                changed.cancel()
                if self._changed.is_set() and not stop.is_set():
                    self._changed.clear()
                    await self._refresh(client)
        finally:
            listen.cancel()
            with contextlib.suppress(BaseException):
                await listen

    async def _listen(self, client: Client, stop: asyncio.Event) -> None:
        """On 2026-07-28 servers, list changes come on a ``subscriptions/listen``
        stream; older servers send the notification unasked (``_on_message``)."""
        try:
            async with client.listen(tools_list_changed=True) as sub:
                async for _event in sub:
                    self._changed.set()
        except ListenNotSupportedError:
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the stream ending means the server did
            log.info("mcp.listen_ended", extra={"server": self.name, "error": str(exc)[:200]})
            self._drop(client, stop)

    async def _on_message(self, message: Any) -> None:
        message = getattr(message, "root", message)
        if isinstance(message, types.ToolListChangedNotification):
            self._changed.set()

    async def _refresh(self, client: Client) -> None:
        listed: list[types.Tool] = []
        cursor: str | None = None
        for _ in range(MAX_LIST_PAGES):
            page = await client.list_tools(cursor=cursor)
            listed.extend(page.tools)
            cursor = page.next_cursor
            if cursor is None or len(listed) > MAX_TOOLS:
                break
        self.tools = discovered(listed, self.name)
        self.generation += 1
        self._refreshed.set()
        self._refreshed = asyncio.Event()

    async def refreshed(self, after: int) -> None:
        """Wait until the tools were listed again after generation ``after`` (a list
        change followed); the caller bounds the wait."""
        while self.generation <= after:
            await self._refreshed.wait()

    def _lost(self) -> None:
        """Back off before the next attempt: 0.5 s, 1 s, 2 s, … 30 s."""
        self._failures += 1
        self._retry_at = self._clock() + min(BACKOFF_MAX_S,
                                             BACKOFF_FIRST_S * 2 ** (self._failures - 1))

    def _drop(self, client: Client, stop: asyncio.Event | None = None) -> None:
        """The session ``client`` is lost (the server exited, the stream broke): stop its
        task and back off before the next attempt. A late word about an older session
        leaves the current one alone."""
        if self._client is client:
            self._client = None
            self._lost()
            (stop or self._stop).set()
        elif stop is not None:
            stop.set()

    async def close(self) -> None:
        """Stop the session (the SDK ends a stdio server: stdin closed, then SIGTERM,
        then SIGKILL to its process group) and any task still winding down."""
        self._closing = True
        self._stop.set()
        self._client = None
        tasks = set(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=5.0)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=2.0)

    def say(self, exc: BaseException) -> str:
        """``describe(exc)`` with the server's secrets taken out (a server may well print
        its own token on stderr, and this text reaches a model, a log and the admin)."""
        return redact(describe(exc, self.stderr), self._secrets)

    def stderr_tail(self, n: int = 10) -> list[str]:
        return [redact(line, self._secrets) for line in self.stderr.tail(n)] \
            if self.stderr is not None else []

    # -- use -----------------------------------------------------------------------------

    async def list_tools(self) -> list[DiscoveredTool]:
        client = await self.ensure()
        return self.tools if client is not None else []

    async def call(self, tool: str, arguments: Mapping[str, Any], *,
                   max_chars: int) -> ToolOutput:
        """Run one tool; every failure is one clear error result, never an exception."""
        public = f"{self.name}.{tool}"
        client = await self.ensure()
        if client is None:
            return ToolOutput(text=f"The tool {public} is unavailable: its server "
                              f"{self.name!r} cannot be reached ({self.last_error}).",
                              is_error=True)
        timeout = float(self.config.timeout_seconds)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(timeout + 1.0):
                result = await client.call_tool(tool, dict(arguments),
                                                read_timeout_seconds=timeout)
        except TimeoutError:
            return _timed_out(public, timeout)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the model hears it; the turn goes on
            message = self.say(exc)
            if "timed out" in message:
                return _timed_out(public, timeout)
            if "closed" in message.lower():
                self._drop(client)
            return ToolOutput(text=f"The tool {public} failed: {message}", is_error=True,
                              meta={"duration_ms": round((time.perf_counter() - started)
                                                         * 1000)})
        return to_output(result, max_chars=max_chars)


def _timed_out(public: str, timeout: float) -> ToolOutput:
    return ToolOutput(text=f"The tool {public} did not answer within {timeout:g} seconds.",
                      is_error=True)


def describe(exc: BaseException, stderr: StderrTail | None = None) -> str:
    """One sentence for a failure (the first of a group's exceptions), with the server's
    last words on stderr when it has any."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, FileNotFoundError):
        text = f"the command was not found: {exc.filename}"
    elif isinstance(exc, httpx2.ConnectError):
        text = "the server refused the connection or could not be reached"
    elif isinstance(exc, httpx2.HTTPStatusError):
        text = f"the server answered HTTP {exc.response.status_code}"
    text = text[:300]
    if stderr is not None and (tail := stderr.tail(3)):
        text += " (it said: " + " / ".join(tail)[:300] + ")"
    return text
