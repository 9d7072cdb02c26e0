"""The front door (``api.front_door``, decision 0201) answers byte for byte as the FastAPI
stack it replaced on the hot path.

``_reference`` composes the app exactly as ``create_app`` did before the front door (one
FastAPI app: our four middlewares, every route in one table, the REST routers deferred);
it shares the front door's ``state``, so both answer from the same database, registry
and policies. Each request goes to both, in the same event loop, and the answers must be
equal: status, headers and body (ids and clocks that differ from call to call masked).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.background import BackgroundTask
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from switchboard import __version__
from switchboard.api import docs, error_handlers
from switchboard.api.access_log import AccessLog
from switchboard.api.app import create_app
from switchboard.api.body_limit import BodyLimit
from switchboard.api.credentials import has_credential
from switchboard.api.error_boundary import ErrorBoundary
from switchboard.api.errors import ApiError
from switchboard.api.fastapi_app import NO_FASTAPI_TELEMETRY, DeferredRouters
from switchboard.api.front_door import FrontDoor
from switchboard.api.routes import ROUTER_MODULES
from switchboard.api.transport_security import StrictTransportSecurity
from switchboard.config import Settings, load_settings
from switchboard.db import Database
from switchboard.services.keys import set_provider_key
from switchboard.services.providers import update_provider
from switchboard.spec import InvalidRequestError
from tests.fakes import openai as openai_fake
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import _make_user

LIMIT = 4096  # small body limits, so a 413 needs no megabytes
CHAT_LIMIT = 8192


def _reference(door: FrontDoor, settings: Settings, routes: list[Route] | None = None,
               authorised: Any = has_credential) -> FastAPI:
    """The app as ``create_app`` built it before the front door (main's composition)."""
    app = FastAPI(title="Switchboard", version=__version__, docs_url=None, redoc_url=None,
                  openapi_url=None, telemetry=NO_FASTAPI_TELEMETRY)
    app.state = door.state
    error_handlers.install(app)
    docs.install(app)
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes,
                       max_chat_body_bytes=settings.max_chat_body_bytes,
                       authorised=authorised)
    app.add_middleware(ErrorBoundary)
    app.add_middleware(AccessLog)
    app.add_middleware(StrictTransportSecurity)
    app.router.routes.extend(routes if routes is not None else door.routes)
    app.router.routes.append(DeferredRouters(app, ROUTER_MODULES))
    return app


_MASKS = [
    (re.compile(rb"chatcmpl-[A-Za-z0-9_-]+"), b"chatcmpl-X"),
    (re.compile(rb'"created":\d+'), b'"created":0'),
    (re.compile(rb"request id [0-9a-f]{16}"), b"request id X"),
    (re.compile(rb'"request_id":"[0-9a-f]{16}"'), b'"request_id":"X"'),
]
_VARYING = ("x-ratelimit-remaining", "x-ratelimit-reset", "x-request-id")


def _masked(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers in order, body; what differs between two calls masked (ids and
    clocks, a rate limit's remaining count, a request id the server drew)."""
    body = response.content
    for pattern, mask in _MASKS:
        body = pattern.sub(mask, body)
    headers = [(k, "X" if k.startswith(_VARYING) and not v.startswith("req-") else v)
               for k, v in response.headers.multi_items()]
    return response.status_code, headers, body


Call = tuple[str, str, dict[str, str], bytes | None]


async def _both(door: Any, reference: Any, call: Call, *,
                base: str = "http://sb") -> tuple[Any, Any]:
    method, path, headers, content = call
    answers = []
    for app in (door, reference):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url=base) as client:
            answers.append(await client.request(method, path, headers=headers,
                                                content=content))
    return answers[0], answers[1]


@asynccontextmanager
async def _serving(settings: Settings) -> AsyncIterator[tuple[FrontDoor, FastAPI]]:
    door = create_app(settings)
    async with door.lifespan_context(door):
        yield door, _reference(door, settings)


@pytest.fixture
def vendor_settings() -> Any:
    """Settings with small body limits, and the OpenAI provider pointed at a fake."""
    oa = FakeVendor(openai_fake.Wire())
    with serve_in_thread(oa) as url:
        settings = replace(load_settings(), max_body_bytes=LIMIT,
                           max_chat_body_bytes=CHAT_LIMIT)

        yield settings, url


def test_the_front_door_answers_as_the_fastapi_stack_did(vendor_settings: Any) -> None:
    settings, vendor_url = vendor_settings

    async def run() -> list[tuple[Call, Any, Any]]:
        async with _serving(settings) as (door, reference):
            db = Database.from_url(settings.database_url, pooled=False)
            try:
                await update_provider(db, "openai", base_url=f"{vendor_url}/v1",
                                      enabled=True)
                await set_provider_key(db, "openai", "sk-test-openai-0000000000001234")
            finally:
                await db.dispose()
            token = await _make_user(settings, "root", "admin", "long password 1")
            auth = {"authorization": f"Bearer {token}", "x-request-id": "req-1"}
            plain = {"x-request-id": "req-2"}
            json_ = {**auth, "content-type": "application/json"}
            chat = (b'{"model":"openai:gpt-4o-mini","messages":'
                    b'[{"role":"user","content":"hi"}]}')
            stream = chat[:-1] + b',"stream":true}'
            calls: list[Call] = [
                ("POST", "/v1/chat/completions", json_, chat),
                ("POST", "/v1/chat/completions", json_, stream),
                ("POST", "/v1/chat/completions", json_, b"{not json"),
                ("POST", "/v1/chat/completions", json_, b"[]"),
                ("POST", "/v1/chat/completions", {**auth, "content-type": "text/plain"},
                 chat),
                ("POST", "/v1/chat/completions", json_,
                 b'{"model":"nope:nothing","messages":[{"role":"user","content":"hi"}]}'),
                ("POST", "/v1/chat/completions", json_, b'{"model":"x","messages":[]}'),
                # 413: over the chat limit for a caller with a token, the plain one without
                ("POST", "/v1/chat/completions", json_, b" " * (CHAT_LIMIT + 1)),
                ("POST", "/v1/chat/completions", plain, b" " * (LIMIT + 1)),
                ("POST", "/v1/models", json_, b" " * (LIMIT + 1)),
                ("POST", "/v1/chat/completions", plain, chat),
                ("POST", "/v1/chat/completions",
                 {"authorization": "Bearer sb-nope", "x-request-id": "r3"}, chat),
                ("POST", "/v1/chat/completions", {"authorization": "Basic x"}, chat),
                ("GET", "/v1/chat/completions", auth, None),  # 405, OpenAI's shape
                ("DELETE", "/v1/models", auth, None),
                ("PUT", "/healthz", plain, None),
                ("POST", "/v1/chat/completion", auth, chat),  # 404, OpenAI's shape
                ("GET", "/v1/nothing", auth, None),
                ("GET", "/v1", auth, None),
                ("POST", "/v1/chat/completions/", json_, chat),  # slash: redirected
                ("HEAD", "/v1/models", auth, None),
                ("HEAD", "/healthz", plain, None),
                ("OPTIONS", "/v1/chat/completions", auth, None),
                ("GET", "/v1/models", auth, None),
                ("GET", "/v1/models", plain, None),
                ("GET", "/v1/models/openai:gpt-4o-mini", auth, None),
                ("GET", "/v1/models/nope:nothing", auth, None),
                ("POST", "/v1/embeddings", json_, b'{"model":"x"}'),
                ("POST", "/v1/embeddings", json_, b"nope"),
                ("POST", "/v1/images/generations", json_, b'{"prompt":""}'),
                ("POST", "/v1/images/edits", json_, b"{}"),
                ("POST", "/v1/images/edits",
                 {**auth, "content-type": "multipart/form-data; boundary=zz"},
                 b"--zz\r\nbroken"),
                ("POST", "/v1/images/edits",
                 {**auth, "content-type": "multipart/form-data"}, b"x"),
                ("POST", "/v1/messages", {"x-api-key": "nope"}, b"{}"),
                ("POST", "/v1/responses", json_, b"{not json"),
                ("GET", "/v1/responses/resp_nothing", auth, None),
                ("GET", "/healthz", plain, None),
                ("GET", "/readyz", plain, None),
                ("GET", "/metrics", plain, None),  # 401 raised as ApiError: the handler's
                ("GET", "/metrics", {"authorization": "Bearer sb-nope"}, None),
                ("GET", "/api/me", auth, None),  # the FastAPI app, lazily built
                ("GET", "/api/me", plain, None),
                ("GET", "/login", plain, None),  # a web page
                ("GET", "/no-such-page", plain, None),
                ("GET", "/openapi.json", plain, None),
            ]
            out = []
            for call in calls:
                new, old = await _both(door, reference, call)
                out.append((call, new, old))
            # over HTTPS: HSTS on the front door's answers and FastAPI's alike
            for call in calls[:1] + calls[13:14] + calls[-4:-3]:
                new, old = await _both(door, reference, call, base="https://sb")
                assert "strict-transport-security" in new.headers
                out.append((call, new, old))
            # /metrics for an admin: the same headers (the series move between scrapes)
            new, old = await _both(door, reference, ("GET", "/metrics", auth, None))
            assert new.status_code == old.status_code == 200
            assert new.headers["content-type"] == old.headers["content-type"]
            return out

    seen: dict[tuple[str, str], set[int]] = {}
    for call, new, old in asyncio.run(run()):
        assert _masked(new) == _masked(old), call
        seen.setdefault((call[0], call[1]), set()).add(new.status_code)
    # the comparison saw the cases it is about
    chat = seen[("POST", "/v1/chat/completions")]
    assert {200, 400, 401, 404, 413} <= chat, chat
    assert seen[("GET", "/v1/chat/completions")] == {405}
    assert seen[("POST", "/v1/chat/completion")] == {404}
    assert seen[("POST", "/v1/chat/completions/")] == {307}
    assert seen[("GET", "/metrics")] == {401}
    assert seen[("GET", "/healthz")] == seen[("GET", "/readyz")] == {200}
    assert seen[("GET", "/login")] == {200} and seen[("GET", "/api/me")] == {200, 401}


# What a handler of ours raises: answered as FastAPI's exception handlers and our error
# boundary answered it, before or after the response started.

async def _http_error(request: Request) -> Response:
    raise HTTPException(400, "There was an error parsing the body")


async def _api_error(request: Request) -> Response:
    raise ApiError(403, "not yours", "forbidden")


async def _switchboard_error(request: Request) -> Response:
    raise InvalidRequestError("bad field", param="x")


async def _crash(request: Request) -> Response:
    raise RuntimeError("secret detail")


async def _late(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        raise ApiError(409, "too late", "conflict")

    return StreamingResponse(body())


async def _after_the_answer(request: Request) -> Response:
    async def settle() -> None:  # a background task, after the body went out
        raise ApiError(409, "too late", "conflict")

    return Response(b"done", background=BackgroundTask(settle))


async def _late_crash(request: Request) -> Response:
    async def body() -> AsyncIterator[bytes]:
        yield b"first"
        raise RuntimeError("mid-stream")

    return StreamingResponse(body())


Handler = Callable[[Request], Awaitable[Response]]
RAISING: dict[str, Handler] = {
    "/v1/http": _http_error, "/api/http": _http_error, "/page-http": _http_error,
    "/v1/api-error": _api_error, "/v1/sb-error": _switchboard_error,
    "/v1/crash": _crash, "/api/crash": _crash, "/crash": _crash,
    "/v1/late": _late, "/v1/late-crash": _late_crash, "/v1/background": _after_the_answer,
}


def test_what_a_handler_raises_is_answered_as_before(_isolated_env: Any) -> None:
    settings = replace(load_settings(), max_body_bytes=LIMIT, max_chat_body_bytes=CHAT_LIMIT)
    routes = [Route(p, h, methods=["GET"]) for p, h in RAISING.items()]

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        yield

    # The server's stack: the access log is the error boundary too (errors=True); the
    # reference keeps main's two layers (``_reference``).
    door = FrontDoor(routes=routes, lifespan=lifespan, middleware=[
        StrictTransportSecurity, partial(AccessLog, errors=True),
        lambda app: BodyLimit(app, max_body_bytes=LIMIT, max_chat_body_bytes=CHAT_LIMIT)])
    reference = _reference(door, settings, routes, authorised=None)  # no database here

    async def run() -> None:
        for path in RAISING:
            call: Call = ("GET", path, {"x-request-id": "req-9"}, None)
            outcomes: list[object] = []
            for app in (door, reference):
                try:
                    async with httpx.AsyncClient(
                            transport=httpx.ASGITransport(app=app),
                            base_url="http://sb") as client:
                        outcomes.append(_masked(await client.get(
                            path, headers=call[2])))
                except Exception as exc:  # the same exception from both, if any
                    outcomes.append((type(exc).__name__, str(exc)))
            assert outcomes[0] == outcomes[1], path
        assert not door.fastapi_loaded  # every one of them answered by the front door

    asyncio.run(run())
