"""Who is calling, read from the request without FastAPI: an API token
(``Authorization: Bearer``, or ``x-api-key`` for Anthropic's clients) or a browser
session cookie.

Split from ``api.auth`` (whose dependencies need FastAPI's ``Depends``) so that the
routes served without FastAPI (``api.front_door``: ``/metrics``, the body limit's
credential check) do not import it (issue 12, decision 0201). ``api.auth`` re-exports
these names for the REST routers.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import Scope

from switchboard.api.state import AppState
from switchboard.api.tokens import Principal

SESSION_COOKIE = "sb_session"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def state_of(request: Request) -> AppState:
    state: AppState = request.app.state.sb
    return state


async def optional_principal(request: Request) -> Principal | None:
    """The caller, or ``None`` when there is no valid credential. Cached on the request."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    state = state_of(request)
    principal: Principal | None = None
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    api_key = request.headers.get("x-api-key", "").strip()  # Anthropic's clients
    if scheme.lower() == "bearer" and token.strip():
        principal = await state.tokens.authenticate(token.strip())
        request.state.via = "token"
    elif api_key:
        principal = await state.tokens.authenticate(api_key)
        request.state.via = "token"
    else:
        cookie = request.cookies.get(SESSION_COOKIE)
        sessions = getattr(state, "sessions", None)
        if cookie and sessions is not None:
            found = await sessions.lookup(cookie)
            if found is not None:
                principal, request.state.csrf = found
                request.state.via = "session"
    request.state.principal = principal
    return principal


async def has_credential(scope: Scope) -> bool:
    """Whether a raw request carries a valid token or session (for ASGI middleware, such
    as the body limit). The principal found is cached on the request as usual."""
    return await optional_principal(Request(scope)) is not None
