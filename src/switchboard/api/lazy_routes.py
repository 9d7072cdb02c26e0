"""Routes whose handler module is imported on the route's first request, and the REST
routers and web pages, mounted on the first request that reaches them.

The Anthropic (``/v1/messages``) and Responses (``/v1/responses``) surfaces each bring a
wire model and a translation layer (pydantic models, converters, renderers: about a fifth
of the app's import time) that a gateway serving only Chat Completions never uses. Issue
12 asks start-up to load only what the first request needs, so ``api.app`` declares these
paths here and the handler module is imported when a request first reaches one of them.
This is a deferral for start-up cost, not a hidden cycle: the modules are ``api``'s own
and import nothing above it; tests/test_startup_imports.py keeps them out of the start.

The REST routers (``/api/...``) and the web pages are the same case at a larger scale
(decision 0181): importing the 22 router modules and building their FastAPI routes (a
pydantic field per parameter) cost 0.25-0.3 s of CPU and ~4 MB at start, for surfaces a
gateway answering ``/v1`` never serves. ``DeferredRouters`` holds their place in the
route table; the first request that reaches it (every route before it having missed)
includes them with ``FastAPI.include_router``, exactly as ``create_app`` did, puts them
where the placeholder was, and routes that request again through the complete table.
``LazyRoutesApp.routes`` includes them first, so whatever walks ``app.routes`` (the
OpenAPI document, the tests' auth matrix) sees every route, as before.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import URLPath
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route
from starlette.types import Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]


def lazy_route(path: str, target: str, methods: list[str]) -> Route:
    """A Starlette ``Route`` for ``target`` ("module:function"), imported on first use."""
    module_name, _, attribute = target.partition(":")
    resolved: list[Endpoint] = []

    async def endpoint(request: Request) -> Response:
        if not resolved:  # synchronous import: no other request runs in between
            resolved.append(getattr(importlib.import_module(module_name), attribute))
        return await resolved[0](request)

    endpoint.__name__ = attribute
    endpoint.__qualname__ = target
    return Route(path, endpoint, methods=methods)


# The surfaces deferred, with their paths and methods (the handlers live in the modules).
DEFERRED_ROUTES: list[Route] = [
    lazy_route("/v1/responses", "switchboard.api.responses.routes:create", ["POST"]),
    lazy_route("/v1/responses/{response_id}", "switchboard.api.responses.routes:retrieve",
               ["GET"]),
    lazy_route("/v1/responses/{response_id}", "switchboard.api.responses.routes:delete",
               ["DELETE"]),
    lazy_route("/v1/messages", "switchboard.api.anthropic.routes:messages", ["POST"]),
    lazy_route("/v1/messages/count_tokens", "switchboard.api.anthropic.routes:count_tokens",
               ["POST"]),
]


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
