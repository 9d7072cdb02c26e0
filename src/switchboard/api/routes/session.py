"""Login, logout, the session probe and first-run setup (``/api/session``, ``/api/setup``).

The session cookie is HttpOnly (scripts cannot read it), SameSite=Lax (not sent on
cross-site POSTs) and Secure when the request came over HTTPS. The CSRF token is returned
in the JSON (and embedded in pages) for the client to echo in ``X-CSRF-Token``. Login and
setup always issue a NEW session id, and end the session the browser held before.

Logout needs no CSRF token: the cookie is SameSite=Lax, so a cross-site page cannot make
the browser send it with a POST, and the worst a forged logout could do is log a user
out; a logout must also work from a page whose session (and token) already expired.

Setup-link guessing: the token has 256 random bits, so guessing is hopeless, but each
attempt used to cost an Argon2 hash (of the new password) before the token was checked.
Now the token is checked first (one indexed read), and attempts are throttled per client
address like logins.

Login flood: the throttle slot is reserved before the password is checked (see
``api.throttle``), and the check runs in the bounded password pool, off the event loop;
a full pool answers 429 with ``Retry-After`` like the throttle.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from switchboard.api.auth import SESSION_COOKIE, current_principal, state_of
from switchboard.api.errors import ApiError
from switchboard.api.throttle import Throttled
from switchboard.api.tokens import Principal
from switchboard.security.password_pool import PasswordPoolBusy
from switchboard.services import accounts
from switchboard.services.errors import ValidationFailed
from switchboard.services.sessions import NewSession

router = APIRouter(tags=["session"])
SETUP_LINK_INVALID = (
    "this setup link is not valid, has expired or was already used; run `switchboard "
    "serve` again (it prints a new link while no admin exists) or `switchboard users add "
    "NAME --admin`")


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class SetupBody(Credentials):
    token: str = Field(min_length=1, max_length=200)


def user_json(user: accounts.UserView) -> dict[str, Any]:
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role": user.role, "is_active": user.is_active,
            "created_at": user.created_at.isoformat(),
            "last_login_at": user.last_login_at.isoformat() if user.last_login_at else None}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _with_cookie(request: Request, payload: dict[str, Any], new: NewSession) -> Response:
    response = JSONResponse(payload)
    response.set_cookie(SESSION_COOKIE, new.cookie, max_age=new.max_age, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/")
    return response


async def _end_previous_session(request: Request) -> None:
    """Drop the session this browser had, so an old (possibly planted) id dies here."""
    old = request.cookies.get(SESSION_COOKIE)
    if old:
        await state_of(request).sessions.revoke(old)


def _throttled(wait: float) -> ApiError:
    seconds = int(wait) + 1
    return ApiError(429, f"too many failed attempts; try again in {seconds} s",
                    "throttled", headers={"retry-after": str(seconds)})


def _busy(exc: PasswordPoolBusy) -> ApiError:
    return ApiError(429, exc.message, "throttled",
                    headers={"retry-after": str(exc.retry_after)})


@router.post("/api/session/login")
async def login(body: Credentials, request: Request) -> Response:
    state = state_of(request)
    try:
        attempt = state.throttle.reserve(body.username, _client(request))
    except Throttled as exc:
        raise _throttled(exc.retry_after) from None
    try:
        user = await accounts.authenticate(state.db, body.username, body.password)
    except PasswordPoolBusy as exc:
        raise _busy(exc) from None
    if user is None:
        raise ApiError(401, "wrong username or password", "unauthorized")
    state.throttle.succeeded(attempt)
    await _end_previous_session(request)
    new = await state.sessions.create(user.id, request.headers.get("user-agent"))
    return _with_cookie(request, {"user": user_json(user), "csrf_token": new.csrf}, new)


@router.post("/api/session/logout", status_code=204)
async def logout(request: Request) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await state_of(request).sessions.revoke(cookie)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/api/session")
async def session_info(request: Request,
                       who: Principal = Depends(current_principal)) -> dict[str, Any]:
    user = await accounts.get_user(state_of(request).db, who.user_id)
    return {"user": user_json(user), "csrf_token": getattr(request.state, "csrf", None)}


@router.post("/api/setup")
async def setup(body: SetupBody, request: Request) -> Response:
    state = state_of(request)
    address = _client(request)
    key = f"setup@{address}"  # per address only: a global lock would let anyone block setup
    try:
        attempt = state.setup_throttle.reserve(key, address)
    except Throttled as exc:
        raise _throttled(exc.retry_after) from None
    if not await accounts.check_setup_token(state.db, body.token):
        raise ValidationFailed(SETUP_LINK_INVALID, field="token")
    try:
        user = await accounts.complete_setup(state.db, body.token, body.username,
                                             body.password)
    except PasswordPoolBusy as exc:
        raise _busy(exc) from None
    state.setup_throttle.succeeded(attempt)
    await _end_previous_session(request)
    new = await state.sessions.create(user.id, request.headers.get("user-agent"))
    return _with_cookie(request, {"user": user_json(user), "csrf_token": new.csrf}, new)
