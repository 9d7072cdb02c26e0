"""The caller's API tokens (``/api/tokens``): list, create (shown once), revoke."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from switchboard.api.auth import current_principal, require_csrf, state_of
from switchboard.api.params import PathId
from switchboard.api.tokens import Principal
from switchboard.db import utcnow
from switchboard.services import accounts
from switchboard.services.audit import Actor

router = APIRouter(tags=["tokens"])


class NewTokenBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="default", min_length=1, max_length=200)
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)


def token_json(t: accounts.TokenView) -> dict[str, Any]:
    def iso(v: Any) -> str | None:
        return v.isoformat() if v is not None else None

    return {"id": t.id, "name": t.name, "hint": t.hint, "created_at": iso(t.created_at),
            "last_used_at": iso(t.last_used_at), "expires_at": iso(t.expires_at),
            "revoked_at": iso(t.revoked_at), "active": t.active}


@router.get("/api/tokens")
async def list_tokens(request: Request,
                      who: Principal = Depends(current_principal)) -> list[dict[str, Any]]:
    return [token_json(t) for t in await accounts.list_tokens(state_of(request).db,
                                                              who.user_id)]


@router.post("/api/tokens", status_code=201, dependencies=[Depends(require_csrf)])
async def create_token(body: NewTokenBody, request: Request,
                       who: Principal = Depends(current_principal)) -> dict[str, Any]:
    expires = utcnow() + timedelta(days=body.expires_in_days) if body.expires_in_days else None
    token, view = await accounts.create_token(state_of(request).db, who.user_id, body.name,
                                              expires, actor=Actor(who.username, who.user_id))
    return {"token": token, "item": token_json(view)}


@router.delete("/api/tokens/{token_id}", status_code=204,
               dependencies=[Depends(require_csrf)])
async def revoke_token(token_id: PathId, request: Request,
                       who: Principal = Depends(current_principal)) -> Response:
    state = state_of(request)
    # every process's token cache forgets it (services.revocations)
    await accounts.revoke_token(state.db, token_id, owner_id=who.user_id,
                                actor=Actor(who.username, who.user_id))
    return Response(status_code=204)
