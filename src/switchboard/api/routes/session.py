"""Login, logout, the session probe and first-run setup (``/api/session``, ``/api/setup``).

The session cookie is HttpOnly (scripts cannot read it), SameSite=Lax (not sent on
cross-site POSTs) and Secure when the request came over HTTPS. The CSRF token is returned
in the JSON (and embedded in pages) for the client to echo in ``X-CSRF-Token``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import JSONResponse, Response

from switchboard.api.auth import SESSION_COOKIE, current_principal, state_of
from switchboard.api.errors import ApiError
from switchboard.api.tokens import Principal
from switchboard.services import accounts
from switchboard.services.sessions import NewSession

router = APIRouter(tags=["session"])


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


@router.post("/api/session/login")
async def login(body: Credentials, request: Request) -> Response:
    state = state_of(request)
    address = _client(request)
    wait = state.throttle.retry_after(body.username, address)
    if wait > 0:
        raise ApiError(429, f"too many failed attempts; try again in {int(wait) + 1} s",
                       "throttled", headers={"retry-after": str(int(wait) + 1)})
    user = await accounts.authenticate(state.db, body.username, body.password)
    if user is None:
        state.throttle.failed(body.username, address)
        raise ApiError(401, "wrong username or password", "unauthorized")
    state.throttle.succeeded(body.username)
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
    user = await accounts.complete_setup(state.db, body.token, body.username, body.password)
    new = await state.sessions.create(user.id, request.headers.get("user-agent"))
    return _with_cookie(request, {"user": user_json(user), "csrf_token": new.csrf}, new)
