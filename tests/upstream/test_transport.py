"""``FastTransport`` against a real loopback server: keep-alive reuse, bodies by length
and chunked, dead idle connections, timeouts, and the fall-back for other methods."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from switchboard.upstream.transport import FastTransport, ResponseHeaders, _encode

Handler = Callable[[bytes, asyncio.StreamWriter], "asyncio.Future[None] | None"]


class Server:
    """Answers each request with ``self.reply`` (raw bytes) or runs ``self.action``."""

    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
        self.close_after = False
        self.stall = False
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                if self.stall:
                    await asyncio.sleep(30)
                writer.write(self.reply)
                await writer.drain()
                if self.close_after:
                    writer.close()
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    srv = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = srv.sockets[0].getsockname()[1]
    async with srv:
        yield state
        srv.close()


def _url(server: Server, path: str = "/v1/x?a=1") -> str:
    return f"http://127.0.0.1:{server.port}{path}"


VIAS = ["response", "fetch"]
"""``handle_async_request`` (an httpx response, read) and ``fetch`` (the whole answer,
decision 0209): the same exchange, so every test of it runs both ways."""


async def _post(transport: FastTransport, url: str, body: bytes = b'{"a":1}',
                read: float | None = 5.0, via: str = "response") -> httpx.Response:
    request = httpx.Request("POST", url, content=body,
                            extensions={"timeout": {"connect": 5.0, "read": read}})
    if via == "fetch":
        wire = request.url
        origin = (wire.scheme, wire.host, wire.port or 80)
        status, raw, content = await transport.fetch(origin, _encode(request, body), 5.0,
                                                     read)
        return httpx.Response(status, headers=raw, content=content)
    response = await transport.handle_async_request(request)
    await response.aread()
    await response.aclose()
    return response


@pytest.mark.parametrize("via", VIAS)
async def test_keep_alive_reuses_one_connection(server: Server, via: str) -> None:
    transport = FastTransport()
    for _ in range(5):
        response = await _post(transport, _url(server), via=via)
        assert response.status_code == 200 and response.content == b"ok"
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /v1/x?a=1 HTTP/1.1\r\n")
    assert b"content-length: 7\r\n" in first.lower() and first.endswith(b'{"a":1}')
    await transport.aclose()


async def test_chunked_body_is_decoded(server: Server) -> None:
    server.reply = (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                    b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
    transport = FastTransport()
    request = httpx.Request("POST", _url(server), content=b"{}")
    response = await transport.handle_async_request(request)
    chunks = [c async for c in response.aiter_bytes()]
    await response.aclose()
    assert b"".join(chunks) == b"hello world"
    await _post(transport, _url(server))
    assert server.connections == 1  # a complete chunked response leaves it reusable
    await transport.aclose()


@pytest.mark.parametrize("via", VIAS)
async def test_connection_closed_by_server_is_not_reused(server: Server, via: str) -> None:
    server.close_after = True
    transport = FastTransport()
    await _post(transport, _url(server), via=via)
    await asyncio.sleep(0)  # let the loop deliver the close (no timing assumption)
    for _ in range(3):
        await _post(transport, _url(server), via=via)
    assert server.connections == 4
    await transport.aclose()


@pytest.mark.parametrize("via", VIAS)
async def test_connection_close_header_is_honoured(server: Server, via: str) -> None:
    server.reply = b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"
    transport = FastTransport()
    await _post(transport, _url(server), via=via)
    await _post(transport, _url(server), via=via)
    assert server.connections == 2
    await transport.aclose()


async def test_unfinished_body_closes_the_connection(server: Server) -> None:
    server.reply = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"
    transport = FastTransport()
    request = httpx.Request("POST", _url(server), content=b"{}",
                            extensions={"timeout": {"read": 0.2}})
    response = await transport.handle_async_request(request)
    with pytest.raises(httpx.ReadTimeout):
        await response.aread()
    await response.aclose()
    server.reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
    await _post(transport, _url(server))
    assert server.connections == 2
    await transport.aclose()


@pytest.mark.parametrize("via", VIAS)
async def test_read_timeout_waiting_for_the_head(server: Server, via: str) -> None:
    server.stall = True
    transport = FastTransport()
    with pytest.raises(httpx.ReadTimeout):
        await _post(transport, _url(server), read=0.1, via=via)
    await transport.aclose()


@pytest.mark.parametrize("via", VIAS)
async def test_connect_refused_is_connect_error(via: str) -> None:
    probe = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = probe.sockets[0].getsockname()[1]
    probe.close()
    await probe.wait_closed()
    transport = FastTransport()
    with pytest.raises(httpx.ConnectError):
        await _post(transport, f"http://127.0.0.1:{port}/", via=via)
    await transport.aclose()


@pytest.mark.parametrize("via", VIAS)
async def test_truncated_response_is_read_error(server: Server, via: str) -> None:
    server.reply = b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc"
    server.close_after = True
    transport = FastTransport()
    with pytest.raises(httpx.ReadError):
        await _post(transport, _url(server), via=via)
    await transport.aclose()


async def test_other_methods_use_httpx_standard_transport(server: Server) -> None:
    server.reply = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n"  # HEAD: no body
    transport = FastTransport()
    response = await transport.handle_async_request(httpx.Request("HEAD", _url(server)))
    await response.aclose()
    assert response.status_code == 200
    assert server.requests[0].startswith(b"HEAD ")
    await transport.aclose()


HEADS = [
    [],
    [(b"Content-Type", b"application/json"), (b"x-request-id", b"req_1"),
     (b"content-length", b"12")],
    [(b"Set-Cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"Retry-After", b"3"),
     (b"X-RateLimit-Remaining-Requests", b"99")],
    [(b"x-name", "héllo".encode()), (b"content-encoding", b"gzip")],
    [(b"x-latin", b"caf\xe9"), (b"x-ok", b"1")],
]


@pytest.mark.parametrize("raw", HEADS)
def test_response_headers_are_the_headers_httpx_builds(raw: list[tuple[bytes, bytes]]) -> None:
    ours, theirs = ResponseHeaders(raw), httpx.Headers(raw)
    assert ours.encoding == theirs.encoding
    assert ours.raw == theirs.raw and ours == theirs
    assert ours.multi_items() == theirs.multi_items()
    assert list(ours.items()) == list(theirs.items()) and dict(ours) == dict(theirs)
    for name in ("content-type", "Set-Cookie", "x-name", "missing", "RETRY-AFTER", "x-latin"):
        assert ours.get(name) == theirs.get(name)
        assert ours.get(name, "unset") == theirs.get(name, "unset")
        assert ours.get_list(name) == theirs.get_list(name)
    assert ours.copy() == theirs.copy()


async def test_fetch_reads_a_chunked_and_a_large_body_whole(server: Server) -> None:
    """``fetch`` takes the chunks as they come (a body past the transport's high-water
    mark pauses reading until taken) and leaves the connection reusable."""
    from switchboard.upstream.transport import HIGH_WATER

    big = b"x" * (3 * HIGH_WATER + 17)
    transport = FastTransport()
    for reply, expected in [
        (b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
         b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world"),
        (b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(big), big), big),
        (b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 2\r\ncontent-length: 0\r\n\r\n",
         b""),
    ]:
        server.reply = reply
        response = await _post(transport, _url(server), via="fetch")
        assert response.content == expected
    assert response.status_code == 429 and response.headers["retry-after"] == "2"
    assert server.connections == 1
    await transport.aclose()


async def test_a_stale_kept_alive_connection_is_sent_again_on_a_fresh_one(
        server: Server) -> None:
    """A pooled connection the server closed before the loop heard of it: nothing was
    answered, so the request goes once more on a new connection (both paths)."""
    transport = FastTransport()
    for via in VIAS:
        await _post(transport, _url(server), via=via)
        [conn] = next(iter(transport._idle.values()))
        assert conn.transport is not None
        conn.closed = False
        conn.transport.abort()  # closed under us; ``connection_lost`` not yet run
        response = await _post(transport, _url(server), via=via)
        assert response.status_code == 200 and response.content == b"ok"
    assert server.connections == 3
    await transport.aclose()
