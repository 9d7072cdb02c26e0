"""``upstream.client``: a request built from the cached header set is the one httpx
builds from the same arguments, and a non-streaming body is read the same whether it
comes plain (straight from the transport's stream) or compressed (httpx's decoders)."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import orjson
import pytest

from switchboard.upstream import client
from switchboard.upstream.transport import _encode

BODY = {"model": "m", "messages": [{"role": "user", "content": "héllo"}], "stream": False}
CASES: list[tuple[str, str, dict[str, str], Any, dict[str, str] | None]] = [
    ("POST", "http://127.0.0.1:5000/v1/chat/completions",
     {"authorization": "Bearer sk-x"}, BODY, None),
    ("POST", "https://api.example.com:8443/v1beta/models/m:streamGenerateContent",
     {"x-goog-api-key": "k"}, BODY, {"alt": "sse"}),
    ("POST", "https://api.example.com/v1/messages",
     {"x-api-key": "k", "Content-Type": "application/json; charset=utf-8"}, BODY, None),
    ("GET", "https://api.example.com/v1/models", {"authorization": "Bearer k"}, None, None),
    ("POST", "https://api.example.com/v1/empty", {"authorization": "Bearer k"}, None, None),
]


def _httpx_built(method: str, url: str, headers: Mapping[str, str], body: Any,
                 params: Mapping[str, str] | None) -> httpx.Request:
    """What ``client._request`` built before decision 0177: httpx doing it all."""
    merged = {**client.DEFAULT_HEADERS, **headers}
    content = None
    if body is not None:
        content = orjson.dumps(body)
        merged.setdefault("content-type", "application/json")
    return httpx.Request(method, url, headers=merged, content=content, params=params)


@pytest.mark.parametrize(("method", "url", "headers", "body", "params"), CASES)
def test_the_request_is_the_one_httpx_builds(method: str, url: str, headers: dict[str, str],
                                             body: Any, params: dict[str, str] | None) -> None:
    for _ in range(2):  # the second time from the cached header set
        ours = client._request(method, url, headers, body, params, None)
        theirs = _httpx_built(method, url, headers, body, params)
        assert ours.method == theirs.method and ours.url == theirs.url
        assert ours.content == theirs.content
        wire_ours = _encode(ours, ours.content).split(b"\r\n")
        wire_theirs = _encode(theirs, theirs.content).split(b"\r\n")
        assert wire_ours[0] == wire_theirs[0]
        assert sorted(wire_ours[1:]) == sorted(wire_theirs[1:])  # same headers and body


def test_a_request_does_not_change_the_cached_header_set() -> None:
    first = client._request("POST", "http://127.0.0.1:5000/v1/x", {"a": "1"}, {"n": 1},
                            None, None)
    second = client._request("POST", "http://127.0.0.1:5000/v1/x", {"a": "1"},
                             {"n": 12345}, None, None)
    assert first.headers["content-length"] == "7"
    assert second.headers["content-length"] == "11"
    assert second.headers.get_list("content-length") == ["11"]


@pytest.fixture
async def vendor() -> AsyncIterator[tuple[str, list[bytes]]]:
    """Answers each request with the next queued raw response."""
    replies: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while replies:
            head = await reader.readuntil(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            await reader.readexactly(length)
            writer.write(replies.pop(0))
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1/chat/completions", replies
    finally:
        await client.close_client()
        server.close()
        await server.wait_closed()


def _reply(body: bytes, *extra: bytes) -> bytes:
    head = [b"HTTP/1.1 200 OK", b"content-type: application/json",
            b"content-length: %d" % len(body), *extra]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


async def test_plain_and_compressed_bodies_read_alike(
        vendor: tuple[str, list[bytes]]) -> None:
    url, replies = vendor
    answer = {"id": "x", "choices": [{"message": {"content": "é" * 3000}}]}
    raw = orjson.dumps(answer)
    replies.extend([_reply(raw), _reply(gzip.compress(raw), b"content-encoding: gzip"),
                    _reply(raw, b"content-encoding: identity")])
    for _ in range(3):
        data, headers = await client.request_json("p", "POST", url, headers={},
                                                  body={"q": 1})
        assert data == answer
        assert "content-type" in headers


WIRE_CASES = [
    *CASES,
    ("PUT", "https://api.example.com/v1/files/1", {"authorization": "Bearer k"}, None, None),
    ("DELETE", "https://api.example.com/v1/files/1", {"authorization": "Bearer k"}, None,
     None),
    ("post", "http://127.0.0.1:5000/v1/x?a=1", {"Authorization": "Bearer k"}, BODY,
     {"b": "2 3"}),
    ("POST", "http://127.0.0.1:5000/v1/x", {"Content-Length": "2", "x-a": "1"}, {"a": 1},
     None),
    ("POST", "http://127.0.0.1:5000/v1/x", {"Transfer-Encoding": "chunked"}, BODY, None),
    ("POST", "http://127.0.0.1:5000/v1/x", {"host": "other.example", "x-b": "b"}, BODY,
     None),
]


@pytest.mark.parametrize(("method", "url", "headers", "body", "params"), WIRE_CASES)
def test_the_lean_exchange_sends_the_bytes_of_the_httpx_request(
        method: str, url: str, headers: dict[str, str], body: Any,
        params: dict[str, str] | None) -> None:
    """``request_json`` through ``FastTransport.fetch`` (decision 0209) sends exactly what
    ``_request`` + the transport's ``_encode`` send: byte for byte, header order too."""
    for _ in range(2):  # the second time from the cached wire head
        wire = client._wire(method, url, tuple(params.items()) if params else None,
                            tuple(headers.items()), body is not None)
        assert wire is not None
        content = b"" if body is None else orjson.dumps(body)
        request = client._request(method, url, headers, body, params, None)
        assert wire.payload(content) == _encode(request, request.content)
        url_ = request.url
        assert wire.origin == (url_.scheme, url_.host,
                               url_.port or (443 if url_.scheme == "https" else 80))


def test_other_methods_and_schemes_take_httpx() -> None:
    assert client._wire("HEAD", "http://127.0.0.1:5000/x", None, (), False) is None
    assert client._wire("OPTIONS", "http://127.0.0.1:5000/x", None, (), False) is None


async def test_a_stream_reads_alike_plain_chunked_and_compressed(
        vendor: tuple[str, list[bytes]]) -> None:
    """``open_stream`` + ``iter_bytes`` through the lean exchange (decision 0209): the
    decoded body is the same whether it is read from the transport's stream directly
    (no content encoding) or through httpx's decoders (gzip), and a status error is the
    same ``ProviderError`` with its ``Retry-After``."""
    from switchboard.spec import RateLimitError

    url, replies = vendor
    sse = b"".join(b"data: {\"n\": %d}\n\n" % i for i in range(50)) + b"data: [DONE]\n\n"
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(sse[i:i + 100]), sse[i:i + 100])
                       for i in range(0, len(sse), 100)) + b"0\r\n\r\n"
    replies.extend([
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        b"transfer-encoding: chunked\r\n\r\n" + chunked,
        _reply(gzip.compress(sse), b"content-encoding: gzip"),
        _reply(sse, b"content-encoding: identity"),
        b"HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\ncontent-type: application/json"
        b"\r\ncontent-length: 33\r\n\r\n" + b'{"error": {"message": "slow down"}}'[:33],
    ])
    for _ in range(3):
        async with client.open_stream("p", "POST", url, headers={}, body={"q": 1}) as resp:
            got = b"".join([chunk async for chunk in client.iter_bytes("p", resp)])
            assert got == sse
            assert resp.is_closed  # given back at the body's end
    with pytest.raises(RateLimitError) as info:
        async with client.open_stream("p", "POST", url, headers={}, body={"q": 1}):
            pass
    assert info.value.retry_after == 7
