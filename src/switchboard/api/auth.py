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

The reading of the credential itself lives in ``api.credentials`` (no FastAPI there,
for the routes served without it); its names are re-exported here.
"""

from __future__ import annotations

from fastapi import Depends, Request

from switchboard.api.credentials import CSRF_HEADER as CSRF_HEADER
from switchboard.api.credentials import SAFE_METHODS as SAFE_METHODS
from switchboard.api.credentials import SESSION_COOKIE as SESSION_COOKIE
from switchboard.api.credentials import has_credential as has_credential
from switchboard.api.credentials import optional_principal as optional_principal
from switchboard.api.credentials import state_of as state_of
from switchboard.api.errors import ApiError
from switchboard.api.tokens import Principal


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
