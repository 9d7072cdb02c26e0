"""Routes whose handler module is imported on the route's first request.

The Anthropic (``/v1/messages``) and Responses (``/v1/responses``) surfaces each bring a
wire model and a translation layer (pydantic models, converters, renderers: about a fifth
of the app's import time) that a gateway serving only Chat Completions never uses. Issue
12 asks start-up to load only what the first request needs, so ``api.app`` declares these
paths here and the handler module is imported when a request first reaches one of them.
This is a deferral for start-up cost, not a hidden cycle: the modules are ``api``'s own
and import nothing above it; tests/test_startup_imports.py keeps them out of the start.

The REST routers and web pages are deferred the same way, at a larger scale, by
``api.fastapi_app.DeferredRouters`` (decision 0181).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
