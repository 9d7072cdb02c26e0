"""``api.after_response``: work a front-door handler leaves for after its answer runs
once the response is sent, in order, also when the handler fails, and a failing item
does not stop the others; a request the front door does not serve gets no list."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from switchboard.api.after_response import after_response
from switchboard.api.front_door import FrontDoor

SEEN: list[str] = []


async def answer(request: Request) -> Response:
    later = after_response(request.scope)
    assert later is not None
    later.append(lambda: SEEN.append("first"))
    later.append(lambda: 1 / 0)  # logged, the next one still runs
    later.append(lambda: SEEN.append("second"))
    return JSONResponse({"ok": True})


async def broken(request: Request) -> Response:
    later = after_response(request.scope)
    assert later is not None
    later.append(lambda: SEEN.append("after the error"))
    raise ValueError("a bug")


@contextlib.asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    yield


def call(path: str) -> list[str]:
    app = FrontDoor(routes=[Route("/ok", answer, methods=["GET"]),
                            Route("/broken", broken, methods=["GET"])], lifespan=lifespan)
    scope = {"type": "http", "method": "GET", "path": path, "headers": [],
             "query_string": b"", "root_path": ""}
    events: list[str] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        events.append(message["type"])

    async def go() -> None:
        with contextlib.suppress(ValueError):
            await app(scope, receive, send)

    SEEN.clear()
    asyncio.run(go())
    return [*events, *SEEN]


def test_the_work_runs_after_the_response_in_order(caplog: pytest.LogCaptureFixture) -> None:
    assert call("/ok") == ["http.response.start", "http.response.body", "first", "second"]
    assert "work after the response failed" in caplog.text


def test_the_work_runs_when_the_handler_fails() -> None:
    assert call("/broken") == ["after the error"]


def test_a_request_served_elsewhere_has_no_list() -> None:
    request = Request({"type": "http", "headers": []})
    assert after_response(request.scope) is None
