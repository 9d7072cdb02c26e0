"""A lean HTTP/1.1 transport for httpx: asyncio protocols + httptools' C parser.

Why: profiling ``switchboard serve`` under load (docs/performance.md) showed httpcore, the
default httpx transport, as the largest single cost of a proxied call. Its pool scans
every pooled connection on every request and asks the kernel whether each idle one is
still readable (one ``poll()`` per idle connection), and every read and write goes through
anyio's stream and cancel-scope layers. Here a connection is an ``asyncio.Protocol``: the
event loop tells it when the peer closed (so a dead keep-alive connection is known without
a syscall), and ``httptools`` (already a dependency, uvicorn's parser) splits the response.
Adapters are untouched: they still get an ``httpx.Response`` with a streaming body, and
failures are httpx's own exception classes, so ``upstream.errors`` maps them unchanged.

Scope: plain ``http`` and ``https`` (TLS via the loop's ``ssl`` support, certificates
verified with the default context) for GET/POST/PUT/PATCH/DELETE without a proxy. Anything
else (HEAD, whose response has headers but no body; ``OPTIONS``...) is delegated to
httpx's standard transport, so behaviour never depends on what this class understands.

Timeouts follow the httpx request's ``timeout`` extension: ``connect`` bounds opening the
connection, ``read`` bounds waiting for the response head and every gap between body
chunks (as in httpcore), ``pool`` is unused (connections are not capped here).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator
from itertools import chain
from typing import Any

import httptools
import httpx

KEEPALIVE_EXPIRY = 30.0
MAX_IDLE_PER_ORIGIN = 200
HIGH_WATER = 1 << 20  # pause reading when this much body is buffered and unread
METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})

Origin = tuple[str, str, int]


class _Connection(asyncio.Protocol):
    """One keep-alive connection; carries one request/response at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.closed = False
        self.error: Exception | None = None
        self.idle_since = 0.0
        self._reset()

    def _reset(self) -> None:
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_done = False
        self.complete = False
        self.keep_alive = False
        self.received = False
        self.chunks: deque[bytes] = deque()
        self.buffered = 0
        self.waiter: asyncio.Future[None] | None = None
        self.paused = False

    # -- asyncio.Protocol ----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(httpx.RemoteProtocolError("unexpected protocol upgrade"))
        except httptools.HttpParserError as exc:
            self._fail(httpx.RemoteProtocolError(f"malformed HTTP response: {exc}"))

    def eof_received(self) -> bool:
        return False  # close the transport; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.complete and self.error is None:
            self.error = httpx.ReadError(str(exc) if exc else "server closed the connection")
        self._wake()

    # -- httptools callbacks -------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        self.status = self.parser.get_status_code()
        self.head_done = True
        self._wake()

    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)
        self.buffered += len(body)
        if self.buffered > HIGH_WATER and not self.paused and self.transport is not None:
            self.transport.pause_reading()
            self.paused = True
        waiter = self.waiter  # ``_wake`` inline: once per chunk of every stream
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def on_message_complete(self) -> None:
        # Read now: once the message is done the parser resets, and asking later
        # always answers False.
        self.keep_alive = self.parser.should_keep_alive()
        self.complete = True
        self._wake()

    # -- helpers -------------------------------------------------------------------
    def _fail(self, exc: Exception) -> None:
        self.error = exc
        self.close()
        self._wake()

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def wait(self, limit: float | None) -> None:
        """Until the parser or the connection moves on (or ``limit`` s -> ReadTimeout).

        The limit is a timer that fails the waiter, not ``asyncio.timeout``: the same
        outcome for ~3 µs less per wait (the context manager's bookkeeping), and this
        runs once or more per vendor call."""
        loop = asyncio.get_running_loop()
        waiter = self.waiter = loop.create_future()
        timer = None if limit is None else loop.call_later(limit, _expire, waiter)
        try:
            await waiter
        except _ReadTimedOut:
            self.close()
            raise httpx.ReadTimeout("timed out waiting for data") from None
        finally:
            if timer is not None:
                timer.cancel()
            self.waiter = None

    def take(self) -> bytes:
        data = b"".join(self.chunks) if len(self.chunks) > 1 else self.chunks[0]
        self.chunks.clear()
        self.buffered = 0
        if self.paused and self.transport is not None:
            self.transport.resume_reading()
            self.paused = False
        return data

    @property
    def reusable(self) -> bool:
        return self.complete and self.keep_alive and not self.closed and self.error is None

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _ReadTimedOut(Exception):
    """A read limit passed (``_Connection.wait``'s timer); becomes ``httpx.ReadTimeout``."""


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(_ReadTimedOut())


class StreamingBody(httpx.AsyncByteStream):
    """The response body as it arrives; gives the connection back when done."""

    def __init__(self, pool: FastTransport, origin: Origin, conn: _Connection,
                 read_timeout: float | None) -> None:
        self.pool = pool
        self.origin = origin
        self.conn = conn
        self.read_timeout = read_timeout
        self.released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self.conn
        while True:
            if conn.chunks:
                yield conn.take()
                continue
            if conn.complete:
                return
            if conn.error is not None:
                raise conn.error
            await conn.wait(self.read_timeout)

    async def aclose(self) -> None:
        if not self.released:
            self.released = True
            self.pool.release(self.origin, self.conn)


class FastTransport(httpx.AsyncBaseTransport):
    def __init__(self, *, verify: ssl.SSLContext | bool = True,
                 keepalive_expiry: float = KEEPALIVE_EXPIRY,
                 max_idle_per_origin: int = MAX_IDLE_PER_ORIGIN) -> None:
        self.keepalive_expiry = keepalive_expiry
        self.max_idle = max_idle_per_origin
        self._verify = verify
        self._ssl: ssl.SSLContext | None = verify if isinstance(verify, ssl.SSLContext) else None
        self._idle: dict[Origin, list[_Connection]] = {}
        self._fallback: httpx.AsyncHTTPTransport | None = None
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if request.method not in METHODS or url.scheme not in ("http", "https"):
            return await self._delegate(request)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        origin: Origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https"
                                                               else 80))
        body = request.content if isinstance(request.stream, httpx.ByteStream) else (
            await request.aread())
        return await self.open(origin, _encode(request, body), timeouts.get("connect"),
                               timeouts.get("read"))

    async def open(self, origin: Origin, payload: bytes, connect_timeout: float | None,
                   read_timeout: float | None) -> httpx.Response:
        """Send ``payload`` (a whole HTTP/1.1 request, as ``_encode`` makes it): the
        response, its body streaming (``StreamingBody``). ``handle_async_request`` for a
        request already encoded, without an ``httpx.Request`` (decision 0209)."""
        conn = await self._open(origin, payload, connect_timeout, read_timeout)
        response = httpx.Response(
            conn.status, stream=StreamingBody(self, origin, conn, read_timeout),
            extensions={"http_version": b"HTTP/1.1"})
        response.headers = ResponseHeaders(conn.headers)  # what ``headers=`` would build
        return response

    async def fetch(self, origin: Origin, payload: bytes, connect_timeout: float | None,
                    read_timeout: float | None) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """Send ``payload`` (a whole HTTP/1.1 request, as ``_encode`` makes it) and read
        the whole answer: (status, raw headers, raw body). The same exchange as
        ``handle_async_request`` followed by reading the body to its end (the same waits,
        timeouts, errors and connection reuse), without an ``httpx.Request`` or
        ``httpx.Response`` around it: a non-streaming vendor call reads its answer whole,
        and building those objects cost ~6 httpx header and model constructions per call
        (issue 12, decision 0209). The origin must be ``http``/``https`` and the method
        one of ``METHODS``."""
        conn = await self._open(origin, payload, connect_timeout, read_timeout)
        parts: list[bytes] = []
        try:
            while True:  # as ``StreamingBody.__aiter__`` reads
                if conn.chunks:
                    parts.append(conn.take())
                    continue
                if conn.complete:
                    break
                if conn.error is not None:
                    raise conn.error
                await conn.wait(read_timeout)
        finally:
            self.release(origin, conn)
        return conn.status, conn.headers, (parts[0] if len(parts) == 1 else b"".join(parts))

    async def _open(self, origin: Origin, payload: bytes, connect_timeout: float | None,
                    read_timeout: float | None) -> _Connection:
        """A connection that sent ``payload`` and has read the response's head."""
        conn = self._checkout(origin)
        if conn is not None:
            try:
                await self._exchange(conn, payload, read_timeout)
                return conn
            except (httpx.ReadError, httpx.RemoteProtocolError):
                if conn.received:
                    raise
                # A kept-alive connection the server closed just as we reused it (its
                # close had not reached the loop yet): nothing was answered, so send
                # once more on a fresh connection, as urllib3 does.
        conn = await self._connect(origin, connect_timeout)
        await self._exchange(conn, payload, read_timeout)
        return conn

    @staticmethod
    async def _exchange(conn: _Connection, payload: bytes, read_timeout: float | None) -> None:
        conn._reset()
        assert conn.transport is not None
        conn.transport.write(payload)
        try:
            while not conn.head_done:
                if conn.error is not None:
                    raise conn.error
                await conn.wait(read_timeout)
        except BaseException:
            conn.close()
            raise

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context, made on the first ``https`` connection: loading the system's
        certificates costs ~1.7 MB resident (and libcrypto's pages), which a server whose
        upstreams are all plain ``http`` (a local vLLM, Ollama) never needs (issue 12)."""
        if self._ssl is None:
            self._ssl = ssl.create_default_context() if self._verify else _insecure()
        return self._ssl

    def _checkout(self, origin: Origin) -> _Connection | None:
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            conn = idle.pop()
            if not conn.closed and now - conn.idle_since < self.keepalive_expiry:
                return conn
            conn.close()
        return None

    async def _connect(self, origin: Origin, limit: float | None) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(limit):
                _, conn = await loop.create_connection(
                    _Connection, host, port,
                    ssl=self.ssl_context() if scheme == "https" else None,
                    server_hostname=host if scheme == "https" else None)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}:{port}") from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from None
        return conn

    def release(self, origin: Origin, conn: _Connection) -> None:
        if not conn.reusable or self._closed:
            conn.close()
            return
        idle = self._idle.setdefault(origin, [])
        if len(idle) >= self.max_idle:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle.append(conn)

    async def _delegate(self, request: httpx.Request) -> httpx.Response:
        if self._fallback is None:
            self._fallback = httpx.AsyncHTTPTransport(verify=self.ssl_context())
        return await self._fallback.handle_async_request(request)

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        if self._fallback is not None:
            await self._fallback.aclose()


def _encode(request: httpx.Request, body: bytes) -> bytes:
    head, has_length = encode_head(request.method, request.url.raw_path, request.headers.raw)
    if not has_length and (body or request.method in ("POST", "PUT", "PATCH")):
        return b"%scontent-length: %d\r\n\r\n%s" % (head, len(body), body)
    return b"%s\r\n%s" % (head, body)


def encode_head(method: str, target: bytes,
                headers: list[tuple[bytes, bytes]]) -> tuple[bytes, bool]:
    """The request line and header lines (without the blank line that ends them) as sent,
    and whether a ``Content-Length`` is among them. ``target`` is the path and query,
    already percent-encoded; a ``Transfer-Encoding`` is left out (the body is sent whole,
    with a length)."""
    lines = [b"%s %s HTTP/1.1\r\n" % (method.encode(), target)]
    has_length = False
    for name, value in headers:
        lower = name.lower()
        if lower == b"content-length":
            has_length = True
        elif lower == b"transfer-encoding":
            continue
        lines.append(b"%s: %s\r\n" % (name, value))
    return b"".join(lines), has_length


class ResponseHeaders(httpx.Headers):
    """``httpx.Headers`` of a response head as the parser gave it, built without httpx's
    per-item normalising (a type check and a conversion call for each name and value,
    which are bytes already) and with the encoding httpx would detect on first use
    (``ascii`` when every byte is, else detected as httpx does). Equal to
    ``httpx.Headers(raw)`` in every method (a test compares them); ~2x cheaper to build
    and to read with the 3 headers of the benchmark's mock, more with the ~20 a vendor
    sends (decision 0209)."""

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self._list = [(name, name.lower(), value) for name, value in raw]
        self._encoding = "ascii" if b"".join(chain.from_iterable(raw)).isascii() else None

    def get(self, key: str, default: Any = None) -> Any:
        """``httpx.Headers.get`` (the values of every header of that name, joined with
        ", "), in one loop: without ``__getitem__``, its ``encoding`` property reads and
        its list, ~6 Python calls per read, two reads per vendor call (issue 12, fifth
        pass). Headers that are not all ASCII take httpx's own path."""
        encoding = self._encoding
        if encoding is None:
            return super().get(key, default)
        wanted = key.lower().encode(encoding)
        found: str | None = None
        for _, name, value in self._list:
            if name == wanted:
                text = value.decode(encoding)
                found = text if found is None else f"{found}, {text}"
        return default if found is None else found


def _insecure() -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


__all__ = ["FastTransport", "Origin", "ResponseHeaders", "StreamingBody", "encode_head"]
