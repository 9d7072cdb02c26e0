"""``FrontDoor``: the ASGI application, a plain one in front of FastAPI.

Issue 12 measured what a ``/v1`` call crossed in FastAPI's stack: ``FastAPI.__call__``,
Starlette, ``ServerErrorMiddleware``, FastAPI's telemetry and body-limit middlewares, our
four, ``ExceptionMiddleware`` (and Starlette's exception wrapper twice),
``AsyncExitStackMiddleware``, FastAPI's router (its scope bookkeeping per route tried),
``Route.handle`` and ``request_response``: five ``send`` wrappers per message. And a
process that imports FastAPI is ~11 MB larger and starts ~0.1 s later. So (decision 0201):

- The front door runs OUR middlewares (HSTS, access log, error boundary, body limit:
  unchanged, in the same order) around a dispatcher.
- The dispatcher serves its own routes (the ``/v1`` surfaces, ``/healthz``, ``/readyz``,
  ``/metrics``: plain Starlette handlers, none needs FastAPI) when the path AND the
  method match, exactly as Starlette's ``Route.matches`` decides. It calls the handler
  as Starlette's ``request_response`` does, and answers what the handler raises as
  FastAPI's exception handlers would (``api.errors.handled_response``).
- EVERY other request (unknown paths, wrong methods, ``/api``, pages, docs) goes to the
  FastAPI application (``api.fastapi_app``), imported and built on the first such request,
  whose route table starts with these same routes: its 404s, 405s and redirects are
  the ones it always gave.
- The lifespan (``api.app``) runs here; ``state`` (``state.sb``) is shared with the
  FastAPI app, so ``request.app.state.sb`` is the same object on both paths.
"""

from __future__ import annotations

import importlib
import inspect
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.datastructures import State
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from switchboard.api import after_response
from switchboard.api.errors import handled_response

Lifespan = Callable[[Any], AbstractAsyncContextManager[None]]
Middleware = Callable[[ASGIApp], ASGIApp]

FASTAPI_APP = "switchboard.api.fastapi_app"
"""Where the FastAPI application is built (``build(state, routes)``), imported on the
first request the front door does not serve itself: a deferral for start-up cost and
memory (issue 12), not a hidden cycle (``api``'s own module)."""


class FrontDoor:
    """The ASGI app: ``routes`` served here, everything else by FastAPI (module doc).

    ``middleware``: outermost first, each ``Callable[[ASGIApp], ASGIApp]``."""

    def __init__(self, *, routes: Sequence[Route], lifespan: Lifespan,
                 middleware: Sequence[Middleware] = ()) -> None:
        self.state = State()
        self.routes: list[Route] = list(routes)
        for route in self.routes:  # _dispatch awaits them (no thread pool for sync ones)
            if not inspect.iscoroutinefunction(route.endpoint):
                raise ValueError(f"{route.path}: the front door serves async handlers only")
        self.lifespan_context = lifespan
        self._lifespan = Router(lifespan=lifespan)  # Starlette's lifespan protocol, as before
        self._exact = _index(self.routes)
        self._fastapi: Any = None
        self._lock = threading.Lock()  # TestClients may share an app across threads
        app: ASGIApp = self._dispatch
        for wrap in reversed(middleware):
            app = wrap(app)
        self._stack = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        if scope["type"] == "lifespan":
            await self._lifespan.lifespan(scope, receive, send)
            return
        await self._stack(scope, receive, send)

    def fastapi_app(self) -> Any:
        """The FastAPI application behind the front door, built on first use (the REST
        routers, pages, docs, error answers; its ``routes``, ``openapi()``,
        ``dependency_overrides`` are FastAPI's). Typed ``Any`` so that this module need
        not import FastAPI, not even for its type."""
        if self._fastapi is None:
            with self._lock:
                if self._fastapi is None:
                    builder = importlib.import_module(FASTAPI_APP)
                    self._fastapi = builder.build(self.state, self.routes)
        return self._fastapi

    @property
    def fastapi_loaded(self) -> bool:
        """Whether a request (or a caller of ``fastapi_app``) has built the FastAPI app."""
        return self._fastapi is not None

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A route of ours, called as Starlette's ``request_response(endpoint)`` inside
        its exception wrapper would call it, with the handlers FastAPI had for what a
        handler raises (``handled_response``); anything else, to FastAPI."""
        route = self._match(scope) if scope["type"] == "http" else None
        if route is None:
            await self.fastapi_app()(scope, receive, send)
            return
        request = Request(scope, receive, send)
        later: after_response.Later = []
        scope[after_response.KEY] = later  # what the handler leaves for after its answer
        plain = False
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            response = await route.endpoint(request)
            # A plain Response (the JSON answers) needs no watching: the first thing its
            # __call__ does is send the start, so whatever it raises comes after it.
            # Starlette's wrapper marks the start before sending it, so it would say the
            # same. Saves a call per message on the hot path.
            plain = type(response).__call__ is Response.__call__
            await response(scope, receive, send if plain else sender)
        except Exception as exc:
            answer = handled_response(request, exc)
            if answer is None:
                raise
            if started or plain:
                raise RuntimeError(
                    "Caught handled exception, but response already started.") from exc
            await answer(scope, receive, sender)
            exc.__traceback__ = None  # as Starlette: a reused exception grows no traceback
        finally:  # what the handler left for after its response (a call's accounting)
            if later:
                after_response.run(later, scope["path"])

    def _match(self, scope: Scope) -> Route | None:
        """The first of ``routes`` that matches ``scope`` FULLY (path and method), as
        Starlette's router picks it, with the scope updated as it updates it; ``None``
        when none does (FastAPI then answers, 404 or 405 included)."""
        route = self._exact.get((scope["method"], scope["path"]))
        if route is not None and not scope.get("root_path"):
            scope["endpoint"] = route.endpoint
            scope["path_params"] = dict(scope.get("path_params", {}))
            return route
        for route in self.routes:  # Starlette's walk: the first FULL match
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.update(child_scope)
                return route
        return None


def _index(routes: Sequence[Route]) -> dict[tuple[str, str], Route]:
    """(method, path) -> route, for each route without path parameters that no earlier
    route's pattern matches: for those a dictionary look-up picks the route Starlette's
    ordered walk would. Any other request is walked (``FrontDoor._match``)."""
    exact: dict[tuple[str, str], Route] = {}
    for i, route in enumerate(routes):
        if route.param_convertors or route.methods is None or any(
                earlier.path_regex.match(route.path) for earlier in routes[:i]):
            continue
        for method in route.methods:
            exact.setdefault((method, route.path), route)
    return exact
