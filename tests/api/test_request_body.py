"""``api.request_body.body`` against Starlette's ``Request.body()``: the same bytes, the
same error and the request left in the same state, for every way a body arrives."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import ClientDisconnect, Request

from switchboard.api.request_body import body

SCOPE: dict[str, Any] = {"type": "http", "method": "POST", "path": "/", "headers": []}
SCRIPTS: dict[str, list[dict[str, Any]]] = {
    "one message": [{"type": "http.request", "body": b'{"a": 1}', "more_body": False}],
    "no more_body key": [{"type": "http.request", "body": b"xyz"}],
    "no body key": [{"type": "http.request", "more_body": False}],
    "empty": [{"type": "http.request", "body": b"", "more_body": False}],
    "three parts": [{"type": "http.request", "body": b"ab", "more_body": True},
                    {"type": "http.request", "body": b"", "more_body": True},
                    {"type": "http.request", "body": b"cd", "more_body": False}],
    "a bytearray": [{"type": "http.request", "body": bytearray(b"ab"), "more_body": False}],
    "an unknown message first": [{"type": "http.other"},
                                 {"type": "http.request", "body": b"q", "more_body": False}],
    "disconnect first": [{"type": "http.disconnect"}],
    "disconnect midway": [{"type": "http.request", "body": b"ab", "more_body": True},
                          {"type": "http.disconnect"}],
}


def request(script: list[dict[str, Any]]) -> Request:
    messages = iter(script)

    async def receive() -> dict[str, Any]:
        return next(messages)

    return Request(dict(SCOPE), receive)


def state(req: Request) -> tuple[Any, ...]:
    return (getattr(req, "_body", None), req._stream_consumed, req._is_disconnected)


async def outcome(req: Request, read: Any) -> tuple[Any, ...]:
    results: list[Any] = []
    for _ in range(2):  # a second read: the kept body, or the same refusal
        try:
            data = await read(req)
            results.append((type(data), data))
        except (ClientDisconnect, RuntimeError) as exc:
            results.append((type(exc), str(exc)))
    return (*results, state(req))


@pytest.mark.parametrize("case", list(SCRIPTS))
def test_body_reads_as_starlette_reads(case: str) -> None:
    async def both() -> tuple[Any, Any]:
        return (await outcome(request(SCRIPTS[case]), Request.body),
                await outcome(request(SCRIPTS[case]), body))

    starlette, ours = asyncio.run(both())
    assert ours == starlette


def test_a_body_read_by_starlette_is_read_back() -> None:
    async def go() -> tuple[bytes, bytes]:
        req = request(SCRIPTS["three parts"])
        return await req.body(), await body(req)

    first, again = asyncio.run(go())
    assert first == again == b"abcd"
