"""The FastAPI application behind the front door (``api.front_door``): the REST routers,
the web pages, the API docs, and every answer the front door does not give itself.

``api.front_door`` serves the ``/v1`` routes and the health and metrics endpoints
without FastAPI; everything else (``/api``, pages, ``/docs``, ``/openapi.json``, and
every 404, 405 and slash redirect, ``/v1`` ones included) comes here. This module is
imported, and the app built, on the first such request (decision 0201), so a server
that only answers ``/v1`` never imports FastAPI (~11 MB resident, ~0.1 s of start-up).

The app is the one ``create_app`` built before: the same error handlers
(``api.error_handlers``), docs (``api.docs``), route table (the front door's routes
first, so 405s, the OpenAPI document and ``app.routes`` list them as before) and
deferred REST routers (``DeferredRouters``, decision 0181). Its ``state`` is the front
door's (``state.sb``). Our middlewares (HSTS, access log, error boundary, body limit)
run in the front door, around this app, in the same order as before; what FastAPI put
outside them is left out (``LazyRoutesApp.build_middleware_stack``).

The REST routers and web pages (decision 0181): importing the 22 router modules and
building their FastAPI routes (a pydantic field per parameter) cost 0.25-0.3 s of CPU
and ~4 MB, for surfaces a gateway answering ``/v1`` never serves. ``DeferredRouters``
holds their place in the route table; the first request that reaches it (every route
before it having missed) includes them with ``FastAPI.include_router``, exactly as
``create_app`` did, puts them where the placeholder was, and routes that request again
through the complete table. ``LazyRoutesApp.routes`` includes them first, so whatever
walks ``app.routes`` (the OpenAPI document, the tests' auth matrix) sees every route.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig
from starlette.datastructures import State, URLPath
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from switchboard import __version__
from switchboard.api import docs, error_handlers
from switchboard.api.routes import ROUTER_MODULES

NO_FASTAPI_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}
"""FastAPI's own OpenTelemetry bridge asks the global providers on EVERY request whether
they are configured (~10 us, reading os.environ each time). Switchboard traces its calls
itself (services/tracing.py) and sets no global provider, so the bridge never had
anything to do here (decision 0176)."""


class DeferredRouters(BaseRoute):
    """The place of the REST routers and web pages in ``app``'s route table until a
    request reaches it; then those routers, included where it stood."""

    def __init__(self, app: FastAPI, modules: Sequence[str]) -> None:
        self._app = app
        self._modules = tuple(modules)
        self._lock = threading.Lock()  # TestClients may share an app across threads
        self.loaded = False

    def load(self) -> None:
        """Import the router modules and include them in place of this placeholder.

        Synchronous (imports and list edits, no await), so no other request of the
        event loop sees a half-built table."""
        with self._lock:
            if self.loaded:
                return
            routes = self._app.router.routes
            start = len(routes)
            try:
                for name in self._modules:
                    self._app.include_router(importlib.import_module(name).router)
            except BaseException:  # a broken module: the table as it was, the error raised
                del routes[start:]
                raise
            added = routes[start:]
            del routes[start:]
            routes[routes.index(self):routes.index(self) + 1] = added
            self.loaded = True

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # Every route before this one missed: the request is for a REST route, a page or
        # nothing at all. Claim it, then route it again through the complete table.
        self.load()
        return Match.FULL, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app.router(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        self.load()
        return self._app.router.url_path_for(name, **path_params)


class LazyRoutesApp(FastAPI):
    """A FastAPI app whose ``routes`` include the deferred routers before answering, so
    code that inspects the route table sees the same routes as before the deferral. The
    router itself (``app.router.routes``, what serves requests) is left as it is."""

    deferred: DeferredRouters | None = None

    def defer_routers(self, modules: Sequence[str]) -> None:
        """Reserve the routers' place at the end of the route table (see the module doc)."""
        self.deferred = DeferredRouters(self, modules)
        self.router.routes.append(self.deferred)

    @property
    def routes(self) -> list[BaseRoute]:
        if self.deferred is not None:
            self.deferred.load()
        return self.router.routes

    def build_middleware_stack(self) -> ASGIApp:
        """FastAPI's stack from its ``ExceptionMiddleware`` inwards (the handlers of
        ``api.error_handlers``, then the router).

        What FastAPI puts outside the user middlewares is left out: this app runs inside
        the front door's middlewares, where its ``ServerErrorMiddleware`` would answer
        an unhandled exception with a plain-text 500 before our error boundary (which
        used to run inside it) could answer in the surface's shape. The other two are
        no-ops here: the telemetry middleware (telemetry off, decision 0176) and the app
        body limit (no ``max_body_size`` set; ``api.body_limit`` is ours). A middleware
        added to this app itself (none is) would be kept, from the first one inwards."""
        app = super().build_middleware_stack()
        first = self.user_middleware[0].cls if self.user_middleware else ExceptionMiddleware
        while not isinstance(app, first):  # type: ignore[arg-type]
            app = app.app  # type: ignore[attr-defined]
        return app


def build(state: State, routes: Sequence[BaseRoute]) -> LazyRoutesApp:
    """The FastAPI app sharing the front door's ``state``; ``routes`` (the front door's
    own) come first in its table, before the REST routers' placeholder."""
    app = LazyRoutesApp(
        title="Switchboard", version=__version__,
        docs_url=None, redoc_url=None, openapi_url=None,
        telemetry=NO_FASTAPI_TELEMETRY,
    )
    app.state = state
    error_handlers.install(app)
    docs.install(app)
    app.router.routes.extend(routes)
    # The REST routers and web pages, on the first request that reaches them (no path
    # of theirs is one of the routes above, so the order between them is free).
    app.defer_routers(ROUTER_MODULES)
    return app
