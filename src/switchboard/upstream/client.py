"""One pooled async HTTP client per event loop, shared by every adapter.

Timeouts are per phase: a short connect timeout, and a read timeout that bounds the gap
*between* chunks (not the whole answer: a long stream is fine while it keeps flowing).
Connections belong to the loop that opened them, so the pool is kept per loop.

The client sends through ``transport.FastTransport`` (asyncio + httptools) rather than
httpx's default httpcore transport: measured with ``python -m bench.clients`` it costs
several times less CPU per call, most of all with many connections open (see
docs/performance.md). ``SWITCHBOARD_HTTP_TRANSPORT=httpcore`` switches back (a safety
valve, and how the benchmark measures the difference).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import httpx
import orjson

from switchboard import __version__
from switchboard.upstream.errors import error_from_exception, error_from_response
from switchboard.upstream.transport import (
    METHODS,
    FastTransport,
    Origin,
    ResponseHeaders,
    StreamingBody,
    encode_head,
)

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 120.0
WRITE_TIMEOUT = 30.0
POOL_TIMEOUT = 10.0
MAX_ERROR_BODY = 64 * 1024

_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, tuple[httpx.AsyncClient, httpx.AsyncBaseTransport]
] = weakref.WeakKeyDictionary()

# What ``httpx.AsyncClient`` would add to every request; requests are built here directly
# (see ``_request``), so the same headers are sent as before.
DEFAULT_HEADERS: dict[str, str] = {
    "accept": "*/*",
    "accept-encoding": "gzip, deflate",
    "connection": "keep-alive",
    "user-agent": f"switchboard/{__version__} httpx/{httpx.__version__}",
}


def timeout(read: float | None = None) -> httpx.Timeout:
    return httpx.Timeout(
        connect=CONNECT_TIMEOUT,
        read=read or READ_TIMEOUT,
        write=WRITE_TIMEOUT,
        pool=POOL_TIMEOUT,
    )


_DEFAULT_TIMEOUT = timeout().as_dict()


def _make_transport() -> httpx.AsyncBaseTransport:
    if os.environ.get("SWITCHBOARD_HTTP_TRANSPORT", "fast") == "httpcore":
        return httpx.AsyncHTTPTransport(
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200,
                                keepalive_expiry=30.0),
            trust_env=False,
        )
    return FastTransport()


def _pool() -> tuple[httpx.AsyncClient, httpx.AsyncBaseTransport]:
    loop = asyncio.get_running_loop()
    pool = _clients.get(loop)
    if pool is None or pool[0].is_closed:
        transport = _make_transport()
        client = httpx.AsyncClient(transport=transport, timeout=timeout(),
                                   follow_redirects=False, trust_env=False)
        pool = _clients[loop] = (client, transport)
    return pool


def get_client() -> httpx.AsyncClient:
    """The shared client of the running loop (created on first use), for callers that
    want httpx's API; it sends through the same pooled transport as the helpers below."""
    return _pool()[0]


async def close_client() -> None:
    """Close the running loop's client (server shutdown, end of a CLI call)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    pool = _clients.pop(loop, None)
    if pool is not None:
        await pool[0].aclose()  # closes its transport too


def dumps(body: Any) -> bytes:
    return orjson.dumps(body)


@dataclass(frozen=True, slots=True)
class Multipart:
    """A ``multipart/form-data`` body (OpenAI's image edits take pictures as files):
    text ``fields`` and ``files`` as (field name, file name, bytes, media type), in
    order; a name given twice (``image[]``) is sent twice. Encoded whole, in memory (the
    callers bound the files' sizes), with a random boundary."""

    fields: list[tuple[str, str]] = field(default_factory=list)
    files: list[tuple[str, str, bytes, str]] = field(default_factory=list)

    def encode(self) -> tuple[bytes, str]:
        """(the body, its ``content-type`` with the boundary)."""
        boundary = f"switchboard-{secrets.token_hex(16)}"
        out: list[bytes] = []
        for name, value in self.fields:
            out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"'
                       f"\r\n\r\n".encode() + value.encode() + b"\r\n")
        for name, filename, data, media_type in self.files:
            out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"; '
                       f'filename="{_quoted(filename)}"\r\nContent-Type: {media_type}\r\n\r\n'
                       .encode() + data + b"\r\n")
        out.append(f"--{boundary}--\r\n".encode())
        return b"".join(out), f"multipart/form-data; boundary={boundary}"


def _quoted(text: str) -> str:
    """A form field or file name safe inside its quotes (no quote, CR or LF)."""
    return text.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Any | None,
    params: Mapping[str, str] | None,
    read_timeout: float | None,
) -> httpx.Request:
    """The ``httpx.Request`` httpx would build from these arguments (the same headers on
    the wire: ``Host``, the defaults, the adapter's, ``Content-Length``), built from a
    cached, already-normalised header set: httpx normalises and re-scans every header
    on every request, which measured ~6x the cost of the rest of this function
    (decision 0177)."""
    content = b""
    content_type: str | None = None  # a multipart body's, with its boundary
    if isinstance(body, Multipart):
        content, content_type = body.encode()
    elif body is not None:
        content = dumps(body)
    parsed = _parsed(url)
    if params is not None:
        parsed = httpx.URL(parsed, params=params)
    base, has_length = _headers(parsed.netloc, tuple(headers.items()),
                                body is not None and content_type is None)
    request_headers = base.copy()
    if content_type is not None:
        request_headers["content-type"] = content_type
    if not has_length and (content or method.upper() in _BODY_METHODS):
        request_headers["Content-Length"] = str(len(content))
    request = httpx.Request(
        method, parsed, headers=request_headers, stream=httpx.ByteStream(content),
        extensions={"timeout": timeout(read_timeout).as_dict() if read_timeout
                    else _DEFAULT_TIMEOUT},
    )
    request.read()  # as httpx does for in-memory content: ``request.content`` is set
    return request


@lru_cache(maxsize=256)
def _headers(netloc: bytes, given: tuple[tuple[str, str], ...],
             json_body: bool) -> tuple[httpx.Headers, bool]:
    """One request header set, normalised once: ``Host`` (unless given), the defaults,
    the adapter's headers (a provider's headers are the same on every call; they hold
    its key, which its config holds anyway), ``content-type`` for a JSON body. And
    whether a ``Content-Length`` is among them. Callers copy it before adding to it."""
    merged = {**DEFAULT_HEADERS, **dict(given)}
    if json_body:
        merged.setdefault("content-type", "application/json")
    lowered = {name.lower() for name in merged}
    items: list[tuple[str, str]] = []
    if "host" not in lowered and netloc:
        items.append(("Host", netloc.decode("ascii")))
    items.extend(merged.items())
    return httpx.Headers(items), "content-length" in lowered


@lru_cache(maxsize=256)
def _parsed(url: str) -> httpx.URL:
    """A vendor URL parsed once: parsing costs ~20 us per request and the URLs are a few
    endpoints per configured provider (``httpx.URL`` is immutable; query parameters are
    merged into a copy)."""
    return httpx.URL(url)


async def _send(
    provider: str, request: httpx.Request, secrets: tuple[str, ...], stream: bool
) -> httpx.Response:
    """Send through the loop's transport directly: ``AsyncClient.send`` would add auth,
    redirect, cookie-jar and event-hook handling that calls to vendors never use, and
    it measurably costs CPU per call (docs/performance.md)."""
    try:
        response = await _pool()[1].handle_async_request(request)
        response.request = request
        if not stream:
            try:
                await _read(response)
            finally:
                await response.aclose()
    except httpx.HTTPError as exc:
        raise error_from_exception(provider, exc, secrets) from None
    return await _checked(provider, response, secrets)


async def _checked(provider: str, response: httpx.Response,
                   secrets: tuple[str, ...]) -> httpx.Response:
    """``response``, or the ``ProviderError`` of its status >= 400 (its body read, up to
    ``MAX_ERROR_BODY`` when streaming, and the response closed)."""
    if response.status_code >= 400:
        try:
            body = b""
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) >= MAX_ERROR_BODY:
                    break
        except httpx.HTTPError:
            pass
        finally:
            await response.aclose()
        raise error_from_response(provider, response.status_code, response.headers, body,
                                  secrets)
    return response


async def _read(response: httpx.Response) -> None:
    """Read the whole body into ``response.content``. A body without a content encoding
    (what the vendors send uncompressed, and every fake) is taken from the transport's
    stream as it is: ``Response.aread`` would pass each chunk through a decoder, a byte
    chunker and a download counter first, ~10 us per call (decision 0177). Compressed
    bodies go through httpx's decoders as before."""
    if _encoded(response.headers):
        await response.aread()
        return
    stream = response.stream
    if not isinstance(stream, httpx.AsyncByteStream):
        await response.aread()
        return
    chunks = [chunk async for chunk in stream]
    # httpx.Response(content=...) is how httpx itself builds a read response; here the
    # bytes are attached to the response already made (its headers, status, request).
    response._content = b"".join(chunks)


async def request_json(
    provider: str,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: Any | None = None,
    params: Mapping[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    read_timeout: float | None = None,
) -> tuple[Any, httpx.Headers]:
    """Send a request and return (decoded JSON body, response headers).

    Raises a ``ProviderError`` for any HTTP >= 400 or transport failure.
    """
    transport = _pool()[1]
    if isinstance(transport, FastTransport) and not isinstance(body, Multipart):
        wire = _wire(method, url, tuple(params.items()) if params is not None else None,
                     tuple(headers.items()), body is not None)
        if wire is not None:
            return await _fetch_json(transport, provider, wire, body, secrets, read_timeout)
    request = _request(method, url, headers, body, params, read_timeout)
    response = await _send(provider, request, secrets, stream=False)
    return _json(provider, response.content), response.headers


def _json(provider: str, content: bytes) -> Any:
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        raise error_from_exception(
            provider, ValueError(f"{provider} returned a body that is not JSON")
        ) from None


@dataclass(frozen=True, slots=True)
class _Wire:
    """A request's bytes up to its body, for ``FastTransport.fetch``: what ``_request``
    and the transport's ``_encode`` send, less the ``Content-Length`` and body."""

    origin: Origin
    head: bytes  # the request line and headers, without the blank line
    has_length: bool  # the adapter gave a ``Content-Length`` (then none is added)
    body_method: bool  # POST, PUT, PATCH: a ``Content-Length`` even for no body

    def payload(self, content: bytes) -> bytes:
        """The whole request with this body."""
        if not self.has_length and (content or self.body_method):  # as ``_request`` does
            return b"%sContent-Length: %d\r\n\r\n%s" % (self.head, len(content), content)
        return b"%s\r\n%s" % (self.head, content)


@lru_cache(maxsize=256)
def _wire(method: str, url: str, params: tuple[tuple[str, str], ...] | None,
          given: tuple[tuple[str, str], ...], json_body: bool) -> _Wire | None:
    """The wire form of (method, URL, adapter headers), built once from the same cached
    header set as ``_request`` (so the same bytes; a test compares them), or None when
    the transport would hand the request to httpx (another method or scheme)."""
    method = method.upper()  # as httpx.Request does
    parsed = _parsed(url)
    if params is not None:
        parsed = httpx.URL(parsed, params=dict(params))
    if method not in METHODS or parsed.scheme not in ("http", "https"):
        return None
    base, has_length = _headers(parsed.netloc, given, json_body)
    head, _ = encode_head(method, parsed.raw_path, base.raw)
    origin: Origin = (parsed.scheme, parsed.host,
                      parsed.port or (443 if parsed.scheme == "https" else 80))
    return _Wire(origin, head, has_length, method in _BODY_METHODS)


async def _fetch_json(transport: FastTransport, provider: str, wire: _Wire, body: Any | None,
                      secrets: tuple[str, ...], read_timeout: float | None
                      ) -> tuple[Any, httpx.Headers]:
    """``request_json`` through ``FastTransport.fetch``: the bytes ``_request`` would
    build, sent without an ``httpx.Request``, the answer read whole without an
    ``httpx.Response`` (decision 0209); the same status, header, decoding and error
    handling as ``_send`` and ``_read``."""
    payload = wire.payload(b"" if body is None else dumps(body))
    try:
        status, raw, data = await transport.fetch(wire.origin, payload, CONNECT_TIMEOUT,
                                                  read_timeout or READ_TIMEOUT)
        headers = ResponseHeaders(raw)
        if _encoded(headers):
            # Compressed: httpx's decoders, as ``_read`` does.
            response = httpx.Response(status, headers=headers, stream=httpx.ByteStream(data))
            data = await response.aread()
    except httpx.HTTPError as exc:
        raise error_from_exception(provider, exc, secrets) from None
    if status >= 400:
        raise error_from_response(provider, status, headers, data, secrets)
    return _json(provider, data), headers


@asynccontextmanager
async def open_stream(
    provider: str,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    body: Any | None = None,
    params: Mapping[str, str] | None = None,
    secrets: tuple[str, ...] = (),
    read_timeout: float | None = None,
) -> AsyncIterator[httpx.Response]:
    """Open a streaming response with a 2xx status; always closed on exit.

    Status errors are raised *here*, before the adapter yields anything, so the retry
    policy can act on them.
    """
    response: httpx.Response | None = None
    transport = _pool()[1]
    if isinstance(transport, FastTransport) and not isinstance(body, Multipart):
        wire = _wire(method, url, tuple(params.items()) if params is not None else None,
                     tuple(headers.items()), body is not None)
        if wire is not None:  # the request's bytes, no httpx.Request (decision 0209)
            payload = wire.payload(b"" if body is None else dumps(body))
            try:
                response = await transport.open(wire.origin, payload, CONNECT_TIMEOUT,
                                                read_timeout or READ_TIMEOUT)
            except httpx.HTTPError as exc:
                raise error_from_exception(provider, exc, secrets) from None
            response = await _checked(provider, response, secrets)
    if response is None:
        request = _request(method, url, headers, body, params, read_timeout)
        response = await _send(provider, request, secrets, stream=True)
    try:
        yield response
    finally:
        await response.aclose()


async def iter_bytes(provider: str, response: httpx.Response) -> AsyncIterator[bytes]:
    """The body's raw chunks, with transport failures mapped to ``ProviderError``.

    A body of ``FastTransport`` without a content encoding is read from the transport's
    stream as it is: what ``aiter_bytes`` gives for it (identity decoder, no chunk size)
    without its two generator layers and per-chunk decoder and chunker calls, once per
    chunk of every stream (decision 0209). The response is closed at the body's end,
    as ``aiter_raw`` does. Compressed bodies go through httpx's decoders as before."""
    stream = response.stream
    try:
        if isinstance(stream, StreamingBody) and not _encoded(response.headers):
            async for chunk in stream:
                yield chunk
            await response.aclose()
        else:
            async for chunk in response.aiter_bytes():
                yield chunk
    except httpx.HTTPError as exc:
        raise error_from_exception(provider, exc) from None


def _encoded(headers: httpx.Headers) -> bool:
    """Whether the body has a content encoding to undo (``identity`` is none)."""
    encoding = headers.get("content-encoding")
    return bool(encoding) and encoding.strip().lower() != "identity"
