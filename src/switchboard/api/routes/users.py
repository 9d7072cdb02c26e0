"""User management for admins (``/api/users``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from switchboard.api.auth import SESSION_COOKIE, require_admin, require_csrf, state_of
from switchboard.api.params import PathId
from switchboard.api.routes.session import user_json
from switchboard.api.tokens import Principal
from switchboard.services import accounts
from switchboard.services.audit import Actor

router = APIRouter(tags=["users"], dependencies=[Depends(require_admin)])


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)
    role: Literal["admin", "user"] = "user"
    display_name: str | None = Field(default=None, max_length=200)


class UserPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["admin", "user"] | None = None
    is_active: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    display_name: str | None = Field(default=None, max_length=200)


@router.get("/api/users")
async def list_users(request: Request) -> list[dict[str, Any]]:
    return [user_json(u) for u in await accounts.list_users(state_of(request).db)]


@router.post("/api/users", status_code=201, dependencies=[Depends(require_csrf)])
async def create_user(body: NewUser, request: Request,
                      who: Principal = Depends(require_admin)) -> dict[str, Any]:
    user = await accounts.create_user(state_of(request).db, body.username, body.password,
                                      role=body.role, display_name=body.display_name,
                                      actor=Actor(who.username, who.user_id))
    return user_json(user)


@router.patch("/api/users/{user_id}", dependencies=[Depends(require_csrf)])
async def update_user(user_id: PathId, body: UserPatch, request: Request,
                      who: Principal = Depends(require_admin)) -> dict[str, Any]:
    state = state_of(request)
    user = await accounts.update_user(state.db, user_id, role=body.role,
                                      is_active=body.is_active, password=body.password,
                                      display_name=body.display_name,
                                      actor=Actor(who.username, who.user_id))
    if body.is_active is False or body.password is not None or body.role is not None:
        keep = request.cookies.get(SESSION_COOKIE) if user_id == who.user_id else None
        await state.sessions.revoke_user(user_id, keep_cookie=keep)
        # (the update itself moved the revocation stamp: token caches are dropped in
        # every process, services.revocations)
    return user_json(user)
