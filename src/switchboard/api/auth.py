"""Who is calling, for the REST API and the web pages.

Two credentials: an API token (``Authorization: Bearer sb-...``, for scripts) or a browser
session cookie (set by the login page). State-changing requests authenticated by the
cookie must carry the session's CSRF token in the ``X-CSRF-Token`` header (or a
``csrf_token`` form field): a cross-site page can make the browser send the cookie, but it
cannot read the token. Bearer requests need no CSRF token — browsers never attach them
on their own.

Use as FastAPI dependencies::

    @router.get("/x")
    async def x(who: Principal = Depends(current_principal)): ...

    @router.post("/y", dependencies=[Depends(require_csrf)])
    async def y(who: Principal = Depends(require_admin)): ...
"""

from __future__ import annotations

from fastapi import Depends, Request
from starlette.types import Scope

from switchboard.api.errors import ApiError
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


async def current_principal(
    principal: Principal | None = Depends(optional_principal),
) -> Principal:
    if principal is None:
        raise ApiError(401, "authentication required: log in, or send "
                       "'Authorization: Bearer sb-...' with an API token", "unauthorized",
                       headers={"www-authenticate": 'Bearer realm="switchboard"'})
    return principal


async def require_admin(principal: Principal = Depends(current_principal)) -> Principal:
    if not principal.is_admin:
        raise ApiError(403, "this needs an admin account", "forbidden")
    return principal


async def require_csrf(request: Request,
                       principal: Principal = Depends(current_principal)) -> None:
    """Reject a cookie-authenticated state change without the session's CSRF token."""
    if request.method in SAFE_METHODS or getattr(request.state, "via", None) != "session":
        return
    expected: str | None = getattr(request.state, "csrf", None)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    from switchboard.security.tokens import constant_time_equals

    if not expected or not sent or not constant_time_equals(sent, expected):
        raise ApiError(403, "missing or wrong CSRF token: send the X-CSRF-Token header "
                       "given with the page (reload the page if it expired)", "csrf_failed")
