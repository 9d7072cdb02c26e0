"""One pooled async HTTP client per event loop, shared by every adapter.

Timeouts are per phase: a short connect timeout, and a read timeout that bounds the gap
*between* chunks (not the whole answer: a long stream is fine while it keeps flowing).
Connections belong to the loop that opened them, so the pool is kept per loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson

from switchboard.upstream.errors import error_from_exception, error_from_response

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 120.0
WRITE_TIMEOUT = 30.0
POOL_TIMEOUT = 10.0
MAX_ERROR_BODY = 64 * 1024

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)


def timeout(read: float | None = None) -> httpx.Timeout:
    return httpx.Timeout(
        connect=CONNECT_TIMEOUT,
        read=read or READ_TIMEOUT,
        write=WRITE_TIMEOUT,
        pool=POOL_TIMEOUT,
    )


def get_client() -> httpx.AsyncClient:
    """The shared client of the running loop (created on first use)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            timeout=timeout(),
            limits=httpx.Limits(max_connections=1000, max_keepalive_connections=200,
                                keepalive_expiry=30.0),
            follow_redirects=False,
            trust_env=False,
        )
        _clients[loop] = client
    return client


async def close_client() -> None:
    """Close the running loop's client (server shutdown, end of a CLI call)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return
    client = _clients.pop(loop, None)
    if client is not None:
        await client.aclose()


def dumps(body: Any) -> bytes:
    return orjson.dumps(body)


def _request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Any | None,
    params: Mapping[str, str] | None,
    read_timeout: float | None,
) -> httpx.Request:
    h = dict(headers)
    content: bytes | None = None
    if body is not None:
        content = dumps(body)
        h.setdefault("content-type", "application/json")
    client = get_client()
    return client.build_request(
        method, url, headers=h, content=content, params=params,
        timeout=timeout(read_timeout) if read_timeout else httpx.USE_CLIENT_DEFAULT,
    )


async def _send(
    provider: str, request: httpx.Request, secrets: tuple[str, ...], stream: bool
) -> httpx.Response:
    try:
        response = await get_client().send(request, stream=stream)
    except httpx.HTTPError as exc:
        raise error_from_exception(provider, exc) from None
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
    request = _request(method, url, headers, body, params, read_timeout)
    response = await _send(provider, request, secrets, stream=False)
    try:
        return orjson.loads(response.content), response.headers
    except orjson.JSONDecodeError:
        raise error_from_exception(
            provider, ValueError(f"{provider} returned a body that is not JSON")
        ) from None


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
    request = _request(method, url, headers, body, params, read_timeout)
    response = await _send(provider, request, secrets, stream=True)
    try:
        yield response
    finally:
        await response.aclose()


async def iter_bytes(provider: str, response: httpx.Response) -> AsyncIterator[bytes]:
    """The body's raw chunks, with transport failures mapped to ``ProviderError``."""
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx.HTTPError as exc:
        raise error_from_exception(provider, exc) from None
